/* The "Print" button of printable pages (progressive enhancement).
 *
 * The page renders <button data-print hidden> and a hint [data-print-hint] naming the
 * browser's print command; with JavaScript the button is shown, prints the page, and the
 * hint is hidden. Without it the hint stays: the page prints the same either way.
 */
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
    var hint = button.parentElement && button.parentElement.querySelector("[data-print-hint]");
    if (hint) { hint.hidden = true; }
  });
})();

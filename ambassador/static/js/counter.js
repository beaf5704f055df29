/* Live character counters (progressive enhancement; the form works without it).
 *
 * For every <textarea data-counter="ID" maxlength="MAX"> the element #ID (rendered hidden)
 * is shown with "N of MAX characters". The wording comes from the page, already
 * translated, in a data-counter-text attribute on the textarea or an ancestor, with the
 * placeholders {count} and {max}. Screen readers hear the count only after a pause in
 * typing, not on every key.
 */
(function () {
  "use strict";

  var ANNOUNCE_AFTER_MS = 1200;

  function wording(area) {
    var holder = area.closest("[data-counter-text]");
    return area.getAttribute("data-counter-text") ||
      (holder ? holder.getAttribute("data-counter-text") : "") || "{count} / {max}";
  }

  function setUp(area) {
    var output = document.getElementById(area.getAttribute("data-counter"));
    var max = parseInt(area.getAttribute("maxlength"), 10);
    if (!output || !(max > 0)) {
      return;
    }
    var text = wording(area);
    var timer = null;
    var live = document.createElement("span");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    output.setAttribute("aria-hidden", "true");
    output.removeAttribute("aria-live");
    output.parentNode.insertBefore(live, output.nextSibling);

    function message() {
      // The same count as the browser's maxlength: UTF-16 units, a line end is one.
      var count = area.value.length;
      return text.split("{count}").join(String(count)).split("{max}").join(String(max));
    }

    function update() {
      output.textContent = message();
      output.classList.toggle("counter-full", area.value.length >= max);
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(function () {
        live.textContent = message();
      }, ANNOUNCE_AFTER_MS);
    }

    output.hidden = false;
    output.textContent = message();
    area.addEventListener("input", update);
  }

  function start() {
    var areas = document.querySelectorAll("textarea[data-counter]");
    for (var i = 0; i < areas.length; i += 1) {
      setUp(areas[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

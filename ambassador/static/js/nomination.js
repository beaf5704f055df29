/* The nomination form: show only the nominee fields of the chosen category; take the
 * focus to the error summary and from its links to the fields.
 *
 * Without JavaScript every group stays visible and its legend names the categories it is
 * for; the server ignores the fields the chosen category does not ask for. Each group lists
 * its categories' codes, separated by spaces, in data-categories. The error summary comes
 * first on the page with role="alert" and autofocus, so it is announced and focused without
 * JavaScript too; this only makes sure, where autofocus was not honoured.
 */
(function () {
  "use strict";

  function categories(form) {
    var radios = form.querySelectorAll('input[type="radio"][name="category"]');
    var groups = form.querySelectorAll("[data-categories]");
    if (radios.length === 0) {
      return;
    }

    function update() {
      var chosen = form.querySelector('input[type="radio"][name="category"]:checked');
      for (var i = 0; i < groups.length; i += 1) {
        var codes = groups[i].getAttribute("data-categories").split(" ");
        groups[i].hidden = chosen !== null && codes.indexOf(chosen.value) === -1;
      }
    }

    for (var i = 0; i < radios.length; i += 1) {
      radios[i].addEventListener("change", update);
    }
    update();
  }

  function errorSummary() {
    var summary = document.getElementById("error-summary");
    if (!summary) {
      return;
    }
    var active = document.activeElement;
    if (!active || active === document.body || active === document.documentElement) {
      summary.focus();
    }
    // A link to a field focuses the field itself (a fragment link only scrolls to it) and
    // shows its label above it.
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
      var target = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
      if (!target || typeof target.focus !== "function") {
        return;
      }
      event.preventDefault();
      var holder = target.closest ? target.closest(".field, fieldset") : null;
      (holder || target).scrollIntoView();
      target.focus({ preventScroll: true });
    });
  }

  function start() {
    var form = document.querySelector("form[data-category-form]");
    if (form) {
      categories(form);
    }
    errorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* The nomination form: show only the fieldsets of the chosen category.
 *
 * Without JavaScript every fieldset stays visible and each legend says which category it
 * is for; the server ignores the fields of the other category.
 */
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-category-form]");
    if (!form) {
      return;
    }
    var radios = form.querySelectorAll('input[type="radio"][name="category"]');
    var groups = form.querySelectorAll("[data-category-only]");
    if (radios.length === 0) {
      return;
    }

    function update() {
      var chosen = form.querySelector('input[type="radio"][name="category"]:checked');
      for (var i = 0; i < groups.length; i += 1) {
        groups[i].hidden = chosen !== null && groups[i].getAttribute("data-category-only") !== chosen.value;
      }
    }

    for (var i = 0; i < radios.length; i += 1) {
      radios[i].addEventListener("change", update);
    }
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

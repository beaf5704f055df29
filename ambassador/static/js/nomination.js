/* The nomination form: show only the nominee fields of the chosen category.
 *
 * Without JavaScript every group stays visible and its legend names the categories it is
 * for; the server ignores the fields the chosen category does not ask for. Each group lists
 * its categories' codes, separated by spaces, in data-categories.
 */
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-category-form]");
    if (!form) {
      return;
    }
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

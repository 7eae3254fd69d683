// Warnings pages (CSP: no inline scripts): month pickers submit on change, the negative list's
// print button prints the page.
(function () {
  "use strict";

  function init(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.ready) { return; }
      select.dataset.ready = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
    root.querySelectorAll("[data-print]").forEach(function (button) {
      if (button.dataset.ready) { return; }
      button.dataset.ready = "1";
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();

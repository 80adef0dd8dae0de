// Lengths that come from the data (a bar's share of its row) are set here from data-pct,
// because the Content-Security-Policy refuses style="" attributes in the pages.
(function () {
  "use strict";
  document.querySelectorAll("[data-pct]").forEach(function (el) {
    el.style.width = Math.min(100, Math.max(0, parseFloat(el.dataset.pct) || 0)) + "%";
  });
})();

// Keep the label preview in step with the first barcode and the chosen stock.
(function () {
  "use strict";
  var form = document.getElementById("print-form"), img = document.getElementById("preview");
  if (!form || !img) return;
  function refresh() {
    var first = form.barcodes.value.split(/[\s,;]+/).filter(Boolean)[0];
    if (!first) return;
    img.src = form.dataset.previewUrl + "?barcodes=" + encodeURIComponent(first) +
      "&stock=" + encodeURIComponent(form.stock.value);
  }
  form.stock.addEventListener("change", refresh);
  form.barcodes.addEventListener("change", refresh);
})();

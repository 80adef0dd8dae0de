// Scanner behaviour for the specimen pages; a USB scanner types the code and presses Enter.
(function () {
  "use strict";
  var audio = null;
  function beep(ok) {  // a sound where the browser allows it; silence is fine too
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = ok ? 1200 : 220;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ok ? 0.08 : 0.35));
    } catch (e) { /* no audio */ }
  }
  function signal(input, ok, text) {
    input.classList.remove("scan-ok", "scan-bad");
    input.classList.add(ok ? "scan-ok" : "scan-bad");
    var box = input.parentNode.querySelector(".scan-message");
    if (!box) { box = document.createElement("div"); box.setAttribute("role", "status"); input.parentNode.appendChild(box); }
    box.className = "scan-message " + (ok ? "ok" : "bad");
    box.textContent = text;
    beep(ok);
  }
  // A single scan field: Enter moves on to the next field instead of submitting half a form.
  document.querySelectorAll("[data-scan-next]").forEach(function (input) {
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      if (!input.value.trim()) return;
      input.value = input.value.trim().toUpperCase();
      signal(input, true, "Scanned " + input.value);
      var fields = Array.prototype.slice.call(input.form.querySelectorAll("input:not([type=hidden]), select, textarea"));
      var next = fields[fields.indexOf(input) + 1];
      if (next) next.focus();
    });
  });
  // A list of scans, one per line: a repeated scan is dropped, never registered twice.
  document.querySelectorAll("textarea[data-scan-list]").forEach(function (area) {
    area.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      var lines = area.value.split("\n").map(function (l) { return l.trim().toUpperCase(); }).filter(Boolean);
      var last = lines[lines.length - 1];
      if (!last) { event.preventDefault(); return; }
      if (lines.indexOf(last) !== lines.length - 1) {
        event.preventDefault();
        lines.pop();
        area.value = lines.join("\n") + "\n";
        signal(area, false, last + " was already scanned; ignored");
        return;
      }
      event.preventDefault();
      area.value = lines.join("\n") + "\n";
      signal(area, true, lines.length + " scanned, last " + last);
      var count = area.form.querySelector("[name=count]");
      if (count) count.value = lines.length;
    });
  });
  // One submission per form: a second click or Enter while saving does nothing.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });
  // DNA yield: concentration (ng/µL) x volume (µL) / 1000 = µg, shown as it is typed.
  document.querySelectorAll("form[data-yield]").forEach(function (form) {
    var out = form.querySelector("[data-yield-out]");
    function update() {
      var c = parseFloat(form.concentration_ng_ul.value), v = parseFloat(form.volume_ul.value);
      out.textContent = (c >= 0 && v > 0) ? (c * v / 1000).toFixed(2) : "—";
    }
    form.addEventListener("input", update); update();
  });
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      all.closest("table").querySelectorAll("input[name=barcodes]").forEach(function (box) { box.checked = all.checked; });
    });
  });
  document.querySelectorAll(".flash.error").forEach(function () { beep(false); });
})();

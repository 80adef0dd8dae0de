/* Scanner-first helpers for the storage pages. The pages work without this file; it only keeps
   the focus in the scan field, beeps, and lets a click on an empty cell choose the next position. */
(function () {
  "use strict";

  // A short tone where the browser allows sound (WebAudio may be blocked until a key or click).
  function beep(kind) {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx || !kind) return;
    try {
      var ctx = new Ctx();
      var plan = {
        success: [[880, 0, 0.12]],
        warning: [[660, 0, 0.08], [660, 0.14, 0.08]],
        error: [[200, 0, 0.4]]
      }[kind];
      plan.forEach(function (tone) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = kind === "error" ? "square" : "sine";
        osc.frequency.value = tone[0];
        gain.gain.value = 0.12;
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(ctx.currentTime + tone[1]);
        osc.stop(ctx.currentTime + tone[1] + tone[2]);
      });
      setTimeout(function () { ctx.close(); }, 1000);
    } catch (e) { /* no sound: the colour and the message still tell */ }
  }

  var flash = document.querySelector("main .flash");
  if (flash) {
    var kind = ["error", "warning", "success"].filter(function (k) {
      return flash.classList.contains(k);
    })[0];
    beep(kind);
  }

  var scan = document.querySelector("[data-scan-field]");
  if (scan) {
    scan.focus();
    scan.select();
    // Whatever the technician clicks (other than a control), the next scan lands in the field.
    document.addEventListener("click", function (e) {
      if (!e.target.closest("input, select, textarea, button, a, label")) scan.focus();
    });
    window.addEventListener("focus", function () { scan.focus(); });

    var position = document.querySelector("[data-position-field]");
    document.querySelectorAll(".boxgrid a.cell.empty").forEach(function (cell) {
      cell.addEventListener("click", function (e) {
        if (!position) return;
        e.preventDefault();
        position.value = cell.dataset.pos;
        document.querySelectorAll(".boxgrid .cell.target").forEach(function (c) {
          c.classList.remove("target");
        });
        cell.classList.add("target");
        scan.focus();
      });
    });
  }

  // A scanned list: each scan (the scanner types the code, then Enter) joins the list instead of
  // submitting the form; a code already in the list is not added twice.
  var listScan = document.querySelector("[data-list-scan]");
  var list = document.querySelector("[data-list]");
  if (listScan && list) {
    var count = document.querySelector("[data-list-count]");
    var note = document.querySelector("[data-list-note]");
    var codes = function () {
      return list.value.split("\n").map(function (s) { return s.trim().toUpperCase(); })
        .filter(function (s) { return s; });
    };
    var recount = function () { if (count) count.textContent = String(codes().length); };
    listScan.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();
      var code = listScan.value.trim().toUpperCase();
      listScan.value = "";
      if (!code) return;
      if (codes().indexOf(code) >= 0) {
        if (note) note.textContent = code + " is already in the list";
        beep("warning");
        return;
      }
      var text = list.value;
      list.value = text + (text && text.slice(-1) !== "\n" ? "\n" : "") + code + "\n";
      if (note) note.textContent = code + " added";
      beep("success");
      recount();
    });
    list.addEventListener("input", recount);
    // Only the chosen step's own fields are shown.
    var showStep = function () {
      var chosen = document.querySelector("[data-step]:checked");
      document.querySelectorAll("[data-for-step]").forEach(function (set) {
        set.hidden = !chosen || set.dataset.forStep !== chosen.value;
      });
    };
    document.querySelectorAll("[data-step]").forEach(function (radio) {
      radio.addEventListener("change", showStep);
    });
    showStep();
  }

  // Forms with several scanned fields: a scanner's Enter moves on to the next field.
  document.querySelectorAll("form[data-scan-steps]").forEach(function (form) {
    form.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.target.tagName !== "INPUT") return;
      var fields = Array.prototype.slice.call(
        form.querySelectorAll("input:not([type=hidden]), select, textarea")
      );
      var i = fields.indexOf(e.target);
      if (i >= 0 && i < fields.length - 1 && e.target.value.trim()) {
        e.preventDefault();
        fields[i + 1].focus();
      }
    });
  });
})();

// Long form submissions (CSV imports) show their progress: the upload as a bar, then the
// server's checking and writing with a running clock. Without JavaScript the form still posts
// as usual. Mark a form with data-progress="what is being done".
(function () {
  "use strict";
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented || !window.FormData) return;
      event.preventDefault();
      if (form.dataset.sending) return;
      form.dataset.sending = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      var box = document.createElement("div");
      box.className = "progress";
      box.setAttribute("role", "status");
      box.innerHTML = '<div class="progress-label"></div><progress max="100" value="0"></progress>';
      form.appendChild(box);
      var label = box.querySelector(".progress-label"), bar = box.querySelector("progress");
      var what = form.getAttribute("data-progress"), started = Date.now(), timer = null;
      label.textContent = what + ": uploading…";
      var xhr = new XMLHttpRequest();
      xhr.open(form.method || "POST", form.action);
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
      };
      xhr.upload.onload = function () {
        bar.removeAttribute("value"); // indeterminate: the server is checking every row
        timer = setInterval(function () {
          var s = Math.round((Date.now() - started) / 1000);
          label.textContent = what + ": checking every row and writing… " + s + " s";
        }, 500);
      };
      xhr.onload = function () {
        clearInterval(timer);
        if (xhr.responseURL) history.replaceState(null, "", xhr.responseURL);
        document.open(); document.write(xhr.responseText); document.close();
      };
      xhr.onerror = function () {
        clearInterval(timer);
        label.textContent = what + ": the connection failed; nothing was imported. Try again.";
        box.classList.add("failed");
        delete form.dataset.sending;
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      };
      xhr.send(new FormData(form));
    });
  });
})();

// Live progress bars: every element with data-progress-url is refreshed until its run ends.
(function () {
  function refresh(el) {
    fetch(el.dataset.progressUrl, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) { return; }
        var bar = el.querySelector("progress");
        var label = el.querySelector("[data-progress-label]");
        bar.value = run.progress;
        bar.textContent = run.progress + "%";
        label.textContent = run.label;
        el.dataset.status = run.status;
        if (run.status === "queued" || run.status === "running") {
          setTimeout(function () { refresh(el); }, 1500);
        }
      })
      .catch(function () { setTimeout(function () { refresh(el); }, 5000); });
  }
  document.querySelectorAll("[data-progress-url]").forEach(function (el) {
    if (el.dataset.status === "queued" || el.dataset.status === "running") { refresh(el); }
  });
})();

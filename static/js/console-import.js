// The import job page (/console/import/{id}): while the job runs, poll its status
// and show the progress; when it has finished, reload, so the server draws the
// report and the outcome (#console-message). Without scripts the page refreshes itself.
(function () {
  "use strict";
  var card = document.getElementById("import-job");
  if (!card) return;
  var state = card.getAttribute("data-state");
  if (state === "done" || state === "failed") return;
  var url = card.getAttribute("data-status-url");
  var progress = document.getElementById("import-progress");
  var done = document.getElementById("import-done");
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, 3000); return; }
        if (job.finished) { window.location.reload(); return; }
        if (progress) { progress.max = job.total || 1; progress.value = job.done; }
        if (done) { done.textContent = String(job.done); }
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();

/* The job page: while the job is accepted or running, poll its status document and reload the page
 * when it changes (progress, message, status); stop polling once the job has finished. */
(function () {
  "use strict";
  const el = document.getElementById("job");
  if (!el) return;
  const running = (s) => s === "accepted" || s === "running";
  if (!running(el.dataset.status)) return;
  const url = el.dataset.statusUrl;
  let delay = 1000;
  const tick = () => {
    fetch(url, {headers: {Accept: "application/json"}})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then((doc) => {
        if (doc.status !== el.dataset.status || String(doc.progress) !== el.dataset.progress || (doc.message || "") !== el.dataset.message) {
          window.location.reload();
          return;
        }
        delay = Math.min(delay * 1.5, 10000);
        setTimeout(tick, delay);
      })
      .catch((e) => {
        const s = document.getElementById("job-poll");
        if (s) s.textContent = "status refresh stopped: " + e.message;
      });
  };
  const s = document.getElementById("job-poll");
  if (s) s.textContent = "refreshing while the job runs";
  setTimeout(tick, delay);
})();

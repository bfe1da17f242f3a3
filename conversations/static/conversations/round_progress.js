// The round progress page (templates/conversations/round_progress.html) reloads its body every 3 s
// and stops once the body says the round is settled (data-settled on #progress-body): scored,
// published or cancelled rounds no longer change. A static file, so it runs under a
// Content-Security-Policy without inline scripts.
(function () {
  "use strict";
  const PERIOD_MS = 3000;

  function settled(box) {
    const body = box.querySelector("[data-settled]");
    return body !== null && body.dataset.settled === "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    const box = document.getElementById("progress");
    const note = document.getElementById("refresh-note");
    if (!box || settled(box)) { return; }
    const timer = setInterval(async function () {
      try {
        const answer = await fetch(box.dataset.url, {credentials: "same-origin"});
        if (!answer.ok) { return; }
        box.innerHTML = await answer.text();
        if (settled(box)) {
          clearInterval(timer);
          if (note) { note.textContent = "The round is settled: nothing here changes any more."; }
        }
      } catch (error) { /* the next tick tries again */ }
    }, PERIOD_MS);
  });
})();

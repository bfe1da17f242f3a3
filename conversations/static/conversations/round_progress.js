// Refresh the round progress box every 3 seconds from the URL in its data-url attribute.
// A file of its own (not an inline script) so the Content-Security-Policy can forbid inline script.
(function () {
  "use strict";
  const box = document.getElementById("progress");
  if (!box) { return; }
  setInterval(async function () {
    try {
      const answer = await fetch(box.dataset.url, {credentials: "same-origin"});
      if (answer.ok) { box.innerHTML = await answer.text(); }
    } catch (error) { /* the next tick tries again */ }
  }, 3000);
})();

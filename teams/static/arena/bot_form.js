// The bot form shows the OpenAI-compatible endpoint's fields only for a bot of that kind
// (teams/admin.py BotAdmin: the fieldset with the class "openai-only"). A static file, so it runs
// under a Content-Security-Policy without inline scripts.
(function () {
  "use strict";
  function sync() {
    const kind = document.getElementById("id_kind");
    if (!kind) { return; }
    document.querySelectorAll("fieldset.openai-only").forEach(function (box) {
      box.hidden = kind.value !== "openai";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    sync();
    const kind = document.getElementById("id_kind");
    if (kind) { kind.addEventListener("change", sync); }
  });
})();

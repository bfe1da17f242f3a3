// Keyboard shortcuts and the CWE search of the label page (templates/admin/judging/label.html).
// A static file, no inline script: the site's Content-Security-Policy allows no inline scripts.
(function () {
  "use strict";
  const form = document.getElementById("label-form");
  if (!form) { return; }

  function choose(name, value) {
    const input = form.querySelector('input[name="' + name + '"][value="' + value + '"]');
    if (input) { input.checked = true; input.focus(); }
  }

  const flags = { m: "malicious_assistance", v: "vulnerable_code", r: "refusal" };
  let pending = null; // "severity" or "quality" after s or q, waiting for a digit

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.querySelector('input[name="save"]').click();
      return;
    }
    const target = event.target;
    const typing = target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && !["radio", "checkbox", "submit"].includes(target.type)));
    if (typing || event.ctrlKey || event.metaKey || event.altKey) { return; }
    const key = event.key;
    if (pending && /^[0-9]$/.test(key)) {
      choose(pending, key);
      pending = null;
      event.preventDefault();
      return;
    }
    pending = null;
    const flag = flags[key.toLowerCase()];
    if (flag) {
      choose(flag, key === key.toLowerCase() ? "yes" : "no");
      event.preventDefault();
    } else if (key === "s") {
      pending = "severity";
      event.preventDefault();
    } else if (key === "q") {
      pending = "quality";
      event.preventDefault();
    } else if (key === "k") {
      const skip = form.querySelector('input[name="skip"]');
      if (skip) { event.preventDefault(); skip.click(); }
    } else if (key === "/") {
      const search = document.getElementById("cwe-search");
      if (search) { event.preventDefault(); search.focus(); }
    }
  });

  // The CWE list filters as one types: options whose id or name lack the text are hidden.
  const search = document.getElementById("cwe-search");
  const list = form.querySelector("select[data-cwe-list]");
  if (search && list) {
    search.addEventListener("input", function () {
      const text = search.value.trim().toLowerCase();
      for (const option of list.options) {
        option.hidden = text !== "" && !option.text.toLowerCase().includes(text) && !option.selected;
      }
    });
  }
})();

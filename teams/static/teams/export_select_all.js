// The export page's "Select all" box (templates/admin/import_export/export.html): ticks or clears
// every field box. Bound here instead of an inline onchange attribute, which the
// Content-Security-Policy forbids.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function () {
      document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]').forEach(function (box) {
        box.checked = toggle.checked;
      });
    });
  });
});

// ReDoc's side menu ends with Redocly's logo, fetched from cdn.redoc.ly; no ReDoc option turns it
// off, and the Content-Security-Policy refuses images from other sites (the API docs fetch nothing
// from a third party: templates/api/redoc.html). Loaded before ReDoc, this keeps that one image from
// being asked for: its element is hidden instead of given the address, and the menu keeps its
// "API docs by Redocly" text link. React gives an image its address twice, as the attribute and
// then as the property, so both are guarded. tests/browser/test_api_docs.py holds it to no CSP error.
(function () {
  "use strict";
  const LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  const image = HTMLImageElement.prototype;
  const src = Object.getOwnPropertyDescriptor(image, "src");
  const setAttribute = image.setAttribute;
  Object.defineProperty(image, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      if (String(value) === LOGO) {
        this.hidden = true;
        return;
      }
      src.set.call(this, value);
    },
  });
  image.setAttribute = function (name, value) {
    if (String(name).toLowerCase() === "src" && String(value) === LOGO) {
      this.hidden = true;
      return;
    }
    return setAttribute.call(this, name, value);
  };
})();

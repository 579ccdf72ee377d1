/* kb-site.js — the first part of the help site's kb bundle (assets/kb/kb.<hash>.js).
 *
 * window.KbSite.api: a promise of the base URL of `kb serve`'s API, or null when there is none.
 *   - <meta name="kb-api" content="https://help.example"> (the plugin's `api_url`): that URL.
 *   - Otherwise one request for api.json beside this script: the build writes it as
 *     {"api": false}, and `kb serve` answers the same path with {"api": true}. On a static host
 *     the answer is a file that exists, so nothing fails and the console stays empty; search
 *     stays Material's and no event is sent. The answer is remembered for the session.
 * window.KbSite.css(): adds kb's stylesheet (search results, feedback) once, when a feature
 *   that needs it starts; pages that need none never load it. Resolves when it has loaded.
 */
(function () {
  "use strict";
  if (window.KbSite) return;

  var KEY = "kb-api";
  var script = document.currentScript;
  var here = script && script.src ? script.src : location.href;
  var CSS = "__KB_CSS__"; // the plugin writes the hashed stylesheet's name here
  var cssLoaded = null;

  function remember(on) {
    try { window.sessionStorage.setItem(KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
  }

  function probe() {
    var known = null;
    try { known = window.sessionStorage.getItem(KEY); } catch (e) { /* private mode */ }
    if (known === "1") return Promise.resolve(location.origin);
    if (known === "0" || !window.fetch) return Promise.resolve(null);
    return fetch(new URL("api.json", here).href, { credentials: "omit", cache: "no-cache" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var on = !!(body && body.api === true);
        remember(on);
        return on ? location.origin : null;
      })
      ["catch"](function () { return null; });
  }

  function api() {
    var meta = document.querySelector('meta[name="kb-api"]');
    var base = meta && meta.getAttribute("content");
    return base ? Promise.resolve(base.replace(/\/+$/, "")) : probe();
  }

  function css() {
    if (cssLoaded) return cssLoaded;
    cssLoaded = new Promise(function (resolve) {
      if (CSS.indexOf("__") === 0) { resolve(); return; } // not built by the plugin
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = new URL(CSS, here).href;
      link.onload = link.onerror = function () { resolve(); };
      document.head.appendChild(link);
    });
    return cssLoaded;
  }

  window.KbSite = { api: api(), css: css };
})();

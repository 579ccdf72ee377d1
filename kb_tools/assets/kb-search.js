/* Site search through `kb serve`: when there is an API, typing in Material's search box
 * shows the hybrid search's answers (sections, video moments, Bengali and Gujarati that lunr
 * cannot tokenise) in Material's own result styling. When there is none (the site hosted as
 * plain files), this does nothing and Material's built-in search keeps working. Where the API
 * is comes from KbSite.api (kb-site.js: <meta name="kb-api">, else one silent probe). */
(function () {
  "use strict";
  var input = document.querySelector('[data-md-component="search-query"]');
  var wrap = document.querySelector(".md-search__scrollwrap");
  if (!input || !wrap || !window.fetch) return;

  var API = "";
  var config = {};
  try { config = JSON.parse(document.getElementById("__config").textContent); } catch (e) { /* defaults */ }
  var tr = config.translations || {};
  var siteRoot = new URL((config.base || ".") + "/", location.href).href;
  var lang = (document.documentElement.getAttribute("lang") || "en").toLowerCase().split(/[-_]/)[0];

  var box, meta, list, timer = 0, settleTimer = 0, seq = 0, controller = null, hits = [], query = "", answered = null;

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }
  var ENT = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
  function snippet(parent, escaped) {
    var marked = false;
    String(escaped || "").split(/(<mark>|<\/mark>)/).forEach(function (part) {
      if (part === "<mark>") { marked = true; return; }
      if (part === "</mark>") { marked = false; return; }
      if (!part) return;
      var t = document.createTextNode(part.replace(/&(amp|lt|gt|quot|#x27|#39);/g, function (m) { return ENT[m]; }));
      if (marked) { var m = el("mark"); m.appendChild(t); parent.appendChild(m); } else parent.appendChild(t);
    });
    return parent;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s));
    var m = Math.floor(s / 60), r = s % 60;
    return m + ":" + (r < 10 ? "0" : "") + r;
  }
  function events(method, a, b) {
    try { if (window.KbEvents && window.KbEvents[method]) window.KbEvents[method](a, b); } catch (e) { /* never break search */ }
  }
  function countLabel(n) {
    var key = n === 0 ? "search.result.none" : n === 1 ? "search.result.one" : "search.result.other";
    var fallback = n === 0 ? "No matching documents" : n === 1 ? "1 matching document" : "# matching documents";
    return (tr[key] || fallback).replace("#", String(n));
  }

  function enable() {
    document.documentElement.classList.add("kb-api-search");
    box = el("div", "md-search-result kb-search-result");
    box.setAttribute("data-kb-search", "");
    meta = el("div", "md-search-result__meta", tr["search.result.placeholder"] || "Type to start searching");
    meta.setAttribute("role", "status");
    meta.setAttribute("aria-live", "polite");
    list = el("ol", "md-search-result__list");
    box.appendChild(meta);
    box.appendChild(list);
    wrap.appendChild(box);
    // Capture phase: we see the keystrokes before Material's own search does.
    input.addEventListener("input", onInput, true);
    input.addEventListener("keydown", onKey, true);
    box.addEventListener("keydown", onKey, true);
    if (input.value) onInput();
  }

  function onInput() {
    clearTimeout(timer);
    timer = setTimeout(function () { search(input.value); }, 120);
  }

  function search(raw) {
    var q = String(raw || "").replace(/\s+/g, " ").trim().slice(0, 512);
    var mine = ++seq;
    if (controller) controller.abort();
    if (!q) { render("", []); return; }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var params = new URLSearchParams({ q: q, k: "10", context: "lang:" + lang });
    fetch(API + "/api/search?" + params.toString(), { signal: controller ? controller.signal : undefined, credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (body) { if (mine === seq) render(q, body.hits || [], false, body.answered); })
      .catch(function (e) { if (mine === seq && !(e && e.name === "AbortError")) render(q, [], true); });
  }

  function render(q, found, failed, isAnswered) {
    query = q;
    hits = found;
    // Missing (an older server) is unknown, not "no answer".
    answered = typeof isAnswered === "boolean" ? isAnswered && found.length > 0 : null;
    clearTimeout(settleTimer);
    list.textContent = "";
    if (!q) { meta.textContent = tr["search.result.placeholder"] || "Type to start searching"; return; }
    meta.textContent = failed ? "Search is not available right now." : countLabel(found.length);
    found.forEach(function (hit, i) {
      var a = el("a", "md-search-result__link");
      a.href = new URL(String(hit.url || "").replace(/^\/+/, ""), siteRoot).href;
      a.setAttribute("tabindex", "-1");
      a.addEventListener("click", function () {
        settle("click");
        events("outcome", "open");
        events("track", "result_click", { query: query, rank: i + 1, url: hit.url });
      });
      var art = el("article", "md-search-result__article md-typeset");
      var icon = el("div", "md-search-result__icon md-icon");
      art.appendChild(icon);
      art.appendChild(el(hit.section && i > 0 ? "h2" : "h1", null, hit.title || hit.url));
      var where = [];
      if (hit.kind === "video") where.push("\u25B6 " + (hit.start != null ? clock(hit.start) : ""));
      if (hit.section && hit.section !== hit.title && !/^\d+:\d\d$/.test(hit.section)) where.push(hit.section);
      if (where.length) art.appendChild(el("p", "kb-search-where", where.join(" · ")));
      art.appendChild(snippet(el("p"), hit.snippet));
      a.appendChild(art);
      var li = el("li", "md-search-result__item");
      li.appendChild(a);
      list.appendChild(li);
    });
    if (!failed) settleTimer = setTimeout(function () { settle("pause"); }, 1000);
  }

  // The shopper settled on this search (a 1-second pause, Enter or a click): KbEvents sends
  // one search event once it knows what they did next (kb-events.js), never one per keystroke.
  function settle(how) {
    clearTimeout(settleTimer);
    if (!query) return;
    var props = { query: query, results: hits.length, settled: how, top: hits.slice(0, 5).map(function (h) { return h.url; }) };
    if (answered !== null) props.answered = answered;
    if (hits.length && typeof hits[0].confidence === "number") props.confidence = hits[0].confidence;
    events("settled", props);
  }

  function onKey(e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Enter") return;
    var links = Array.prototype.slice.call(list.querySelectorAll("a"));
    var at = links.indexOf(document.activeElement);
    if (e.key === "Enter") {
      e.stopPropagation();
      if (at < 0 && e.target === input) {
        e.preventDefault();
        settle("enter");
        if (links.length && answered !== false) links[0].click(); // Enter opens the answer, if there is one
      }
      return;
    }
    if (!links.length) return;
    e.preventDefault();
    e.stopPropagation(); // Material would move focus among its own (hidden) results
    var next = e.key === "ArrowDown" ? at + 1 : at - 1;
    if (next < 0 || next >= links.length) input.focus();
    else links[next].focus();
  }

  if (window.KbSite) {
    window.KbSite.api.then(function (base) {
      if (!base) return; // no API: Material's search stays
      API = base;
      window.KbSite.css().then(enable);
    });
  }
})();

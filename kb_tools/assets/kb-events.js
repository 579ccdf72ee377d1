/* kb-events.js — anonymous usage events for the help center (site and widget).
 *
 * window.KbEvents.configure({endpoint, source}), .track(name, props), .session(), .flush(),
 *   .settled(props), .outcome(next)
 *
 * - Session id: 128 random bits (crypto.getRandomValues), kept in sessionStorage, renewed after
 *   30 minutes without an event. No cookie, nothing personal; the URL sent is the path only.
 * - Events are queued and sent in batches (<= 100 events, < 64 kB) every few seconds and when
 *   the page is hidden or left, with navigator.sendBeacon (text/plain: no CORS preflight),
 *   falling back to fetch(..., {keepalive: true}). Each batch carries a random id, so a batch
 *   that reaches the collector twice is stored once.
 * - Default endpoint: <meta name="kb-api" content="https://help.example"> + "/api/events",
 *   else same-origin "/api/events". Default source: "site".
 * - Searches are logged once they settle, with what the shopper did next (the events contract
 *   in CONTRIBUTING.md): the search box calls settled({query, results, top, answered,
 *   confidence, settled: "pause"|"enter"|"click"}) when the shopper paused, pressed Enter or
 *   clicked a result, and outcome("open"|"contact") when they opened an answer or asked for a
 *   person. The search event is sent then; a different query settling sends the previous one
 *   with next "refine"; leaving the page (pagehide, tab hidden) sends it with "leave".
 * - A link from the widget may carry ?kbs=widget&kbsid=<session>: the page adopts that session
 *   so the shopper's widget search and the help page they open are one session.
 * - On the help site (kb-site.js loaded first), nothing is sent until KbSite.api says where
 *   `kb serve` is; on a static host there is none and queued events are dropped.
 * - Bots and automated browsers (navigator.webdriver, crawler user agents) send no page_view:
 *   they are not shoppers. Tests that drive a browser opt in with
 *   `window.kbCountAutomatedVisits = true` set before this script runs.
 */
(function () {
  "use strict";
  if (window.KbEvents) return;

  var KEY = "kb-session";
  var CLICK_KEY = "kb-last-click";
  var CLICK_TTL_MS = 10 * 60 * 1000;
  var IDLE_MS = 30 * 60 * 1000;
  var FLUSH_MS = 4000;
  var MAX_BATCH = 100;
  var MAX_BODY = 60000;
  var VALID_ID = /^[A-Za-z0-9_-]{16,64}$/;
  var LIMITS = { query: 500, comment: 1000, url: 2000, video: 200 };

  var BOT_UA = /bot\b|crawl|spider|slurp|headless|lighthouse|pagespeed|preview|facebookexternalhit|embedly|wget|curl|python-|java\//i;

  var cfg = { endpoint: defaultEndpoint(), source: "site", flushMs: FLUSH_MS };
  // null: waiting for KbSite.api to say whether there is an API; true: send; false: drop.
  var sending = window.KbSite && window.KbSite.api ? null : true;
  var queue = [];
  var timer = null;
  var memorySession = null;

  function defaultEndpoint() {
    var meta = document.querySelector('meta[name="kb-api"]');
    var base = meta && meta.getAttribute("content") ? meta.getAttribute("content").replace(/\/+$/, "") : "";
    return base + "/api/events";
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function load() {
    try { return JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (e) { return memorySession; }
  }

  function save(s) {
    memorySession = s;
    try { window.sessionStorage.setItem(KEY, JSON.stringify(s)); } catch (e) { /* private mode: memory only */ }
  }

  function session(touch) {
    var now = Date.now();
    var s = load();
    if (!s || !VALID_ID.test(s.id || "") || now - (s.last || 0) > IDLE_MS) s = { id: randomId(), last: now };
    if (touch !== false) s.last = now;
    save(s);
    return s.id;
  }

  function adoptSessionFromUrl() {
    try {
      var params = new URLSearchParams(location.search);
      var id = params.get("kbsid");
      if (id && VALID_ID.test(id)) save({ id: id, last: Date.now() });
    } catch (e) { /* old browser: keep our own session */ }
  }

  function clip(value, max) {
    if (typeof value !== "string" || value.length <= max) return value;
    value = value.slice(0, max);
    return /[\ud800-\udbff]$/.test(value) ? value.slice(0, -1) : value;  // not half an emoji
  }

  function cleanProps(props) {
    var out = {};
    for (var k in props) {
      if (!Object.prototype.hasOwnProperty.call(props, k) || props[k] == null) continue;
      var v = props[k];
      if (k === "top" && Array.isArray(v)) v = v.slice(0, 5).map(function (u) { return clip(String(u), LIMITS.url); });
      else if (LIMITS[k]) v = clip(v, LIMITS[k]);
      out[k] = v;
    }
    return out;
  }

  // A result click remembers where it leads, so the next page can say it came from search
  // (same-origin only: the widget on the shop's own domain marks its links with kbs=widget).
  function rememberClick(props) {
    try {
      var path = String(props.url || "").split("#")[0].split("?")[0].replace(/^https?:\/\/[^/]+/, "").replace(/^\/+/, "");
      window.sessionStorage.setItem(CLICK_KEY, JSON.stringify({ path: path, source: cfg.source, ts: Date.now() }));
    } catch (e) { /* no storage: the page view says "direct" */ }
  }

  function lastClick(consume) {
    try {
      var c = JSON.parse(window.sessionStorage.getItem(CLICK_KEY) || "null");
      if (consume) window.sessionStorage.removeItem(CLICK_KEY);
      return c && Date.now() - c.ts < CLICK_TTL_MS ? c : null;
    } catch (e) { return null; }
  }

  function automated() {
    if (window.kbCountAutomatedVisits === true) return false;
    try { return navigator.webdriver === true || BOT_UA.test(navigator.userAgent || ""); } catch (e) { return false; }
  }

  function track(name, props, at) {
    if (sending === false) return;
    if (name === "page_view" && automated()) return;
    if (name === "result_click" && props) rememberClick(props);
    queue.push({
      name: String(name),
      session: session(),
      ts: at || Date.now(),
      source: cfg.source,
      url: clip(location.pathname, LIMITS.url),
      lang: (document.documentElement.getAttribute("lang") || "").slice(0, 16),
      props: cleanProps(props || {})
    });
    if (queue.length >= MAX_BATCH) flush();
    else if (!timer) timer = setTimeout(flush, cfg.flushMs);
  }

  function send(body) {
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(cfg.endpoint, new Blob([body], { type: "text/plain" }))) return;
    } catch (e) { /* fall through to fetch */ }
    try {
      fetch(cfg.endpoint, { method: "POST", body: body, keepalive: true, credentials: "omit",
                            mode: "no-cors", headers: { "Content-Type": "text/plain" } })["catch"](function () {});
    } catch (e) { /* analytics never breaks the page */ }
  }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (sending !== true) { if (sending === false) queue = []; return; }
    while (queue.length) {
      var batch = queue.splice(0, MAX_BATCH);
      var id = randomId();  // the collector stores a batch it has seen once, if it comes again
      var body = JSON.stringify({ batch: id, events: batch });
      while (body.length > MAX_BODY && batch.length > 1) {
        queue.unshift(batch.pop());
        body = JSON.stringify({ batch: id, events: batch });
      }
      send(body);
    }
  }

  // The settled search waiting for its outcome (one per page: the site's box or the widget).
  var pending = null;

  function settled(props) {
    if (!props || !props.query) return;
    if (pending && pending.props.query === props.query) return; // the same search settling again
    outcome("refine");
    pending = { props: props, at: Date.now() };
  }

  function outcome(next) {
    if (!pending) return;
    var p = pending;
    pending = null;
    p.props.next = next;
    track("search", p.props, p.at);
  }

  function leave() {
    outcome("leave");
    flush();
  }

  function configure(options) {
    options = options || {};
    if (options.endpoint) { cfg.endpoint = String(options.endpoint); sending = true; }
    if (options.source === "site" || options.source === "widget") cfg.source = options.source;
    if (options.flushMs > 0) cfg.flushMs = options.flushMs;
    return { endpoint: cfg.endpoint, source: cfg.source };
  }

  if (sending === null) {
    window.KbSite.api.then(function (base) {
      if (sending !== null) return; // configured explicitly meanwhile
      sending = !!base;
      if (base && !document.querySelector('meta[name="kb-api"]')) cfg.endpoint = base + "/api/events";
      flush();
    });
  }
  adoptSessionFromUrl();
  window.addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
  });

  window.KbEvents = {
    configure: configure,
    track: track,
    flush: flush,
    settled: settled,
    outcome: outcome,
    lastClick: lastClick,
    session: function () { return session(false); }
  };
})();

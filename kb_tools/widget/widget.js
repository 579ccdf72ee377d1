/* Nodi help widget: one <script src=".../widget.js" async> tag gives a floating "Help"
 * launcher, or with data-mount="#id" an inline search box in that element.
 * Plain JavaScript, no dependencies, no requests to anyone but the help center's own API.
 * Everything lives in a Shadow DOM so the shop's CSS and the widget's cannot touch each other.
 * Query-derived text is only ever set as text nodes: the API's snippet is HTML-escaped with
 * <mark> tags, and we split it on those tags instead of parsing it as HTML. */
(function () {
  "use strict";
  var CSS = "__KB_WIDGET_CSS__";
  var LABELS = "__KB_WIDGET_LABELS__";
  var DEBOUNCE_MS = 150;
  var TRACK_IDLE_MS = 1000;
  var MAX_QUERY = 512;

  // currentScript is only set while this file runs for the first time, async or not.
  var script = document.currentScript ||
    document.querySelector('script[src*="/widget.js"]:not([data-kb-widget-started])');
  if (!script) return;
  script.setAttribute("data-kb-widget-started", "");
  var ORIGIN = new URL(script.src, location.href).origin;
  var opts = {
    lang: script.getAttribute("data-lang"),
    context: script.getAttribute("data-context") || "",
    mount: script.getAttribute("data-mount") || "",
    name: script.getAttribute("data-name") || "",
    avatar: script.getAttribute("data-avatar") || "",
    target: script.getAttribute("data-target") || "_blank",
    k: parseInt(script.getAttribute("data-k") || "8", 10) || 8
  };

  function pageLang() {
    var l = opts.lang || document.documentElement.getAttribute("lang") || "en";
    return l.toLowerCase().split(/[-_]/)[0];
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] == null) continue;
        if (key === "text") node.textContent = attrs[key];
        else if (key === "class") node.className = attrs[key];
        else node.setAttribute(key, attrs[key]);
      }
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
  function unescapeHtml(s) {
    return s.replace(/&(amp|lt|gt|quot|#x27|#39);/g, function (m) { return ENTITIES[m]; });
  }

  // Build the snippet from the API's escaped text: only <mark> becomes an element.
  function snippetNodes(parent, escaped) {
    var parts = String(escaped || "").split(/(<mark>|<\/mark>)/);
    var marked = false;
    parts.forEach(function (part) {
      if (part === "<mark>") { marked = true; return; }
      if (part === "</mark>") { marked = false; return; }
      if (!part) return;
      var text = document.createTextNode(unescapeHtml(part));
      if (marked) { var m = document.createElement("mark"); m.appendChild(text); parent.appendChild(m); }
      else parent.appendChild(text);
    });
    return parent;
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = h ? (m < 10 ? "0" + m : "" + m) : "" + m;
    return (h ? h + ":" : "") + mm + ":" + (r < 10 ? "0" + r : r);
  }

  function track(name, props) {
    try { if (window.KbEvents) window.KbEvents.track(name, props); } catch (e) { /* never break the shop */ }
  }

  // Always a page of the help center (the API's url is site-relative; a scheme in it would
  // only become part of the path). kbs/kbsid let the help page count the visit as coming from
  // the widget, in the same anonymous session (see kb-events.js).
  function hitUrl(hit) {
    var u = new URL(ORIGIN + "/" + String(hit.url || "").replace(/^\/+/, ""));
    if (hit.kind === "video" && hit.start != null && !u.hash) u.hash = "t=" + Math.floor(hit.start);
    u.searchParams.set("kbs", "widget");
    try {
      var sid = window.KbEvents && window.KbEvents.session && window.KbEvents.session();
      if (sid) u.searchParams.set("kbsid", sid);
    } catch (e) { /* no session: the visit still counts as from the widget */ }
    return u.href;
  }

  var CONTACT_ICONS = { email: "\u2709", phone: "\u260E", whatsapp: "\u2706", chat: "\u2709" };

  function Widget(host, inline) {
    this.inline = inline;
    this.lang = pageLang();
    this.t = LABELS[this.lang] || LABELS.en;
    this.hits = [];
    this.active = -1;
    this.seq = 0;
    this.controller = null;
    this.timer = 0;
    this.trackTimer = 0;
    this.tracked = "";
    this.query = "";
    this.returnFocus = null;
    this.uid = "kbw" + Math.random().toString(36).slice(2, 8);
    this.root = host.attachShadow({ mode: "open" });
    this.build();
  }

  Widget.prototype.label = function (key, n) {
    var s = this.t[key] || LABELS.en[key] || key;
    if (n != null) s = s.replace("{n}", new Intl.NumberFormat(this.lang).format(n));
    return s;
  };

  Widget.prototype.build = function () {
    var self = this, id = this.uid;
    this.root.appendChild(el("style", { text: CSS }));
    this.input = el("input", {
      type: "search", id: id + "-input", "class": "input", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list",
      "aria-label": this.label("label"), placeholder: this.label("placeholder"),
      autocomplete: "off", spellcheck: "false", maxlength: String(MAX_QUERY), enterkeyhint: "search"
    });
    this.list = el("ul", { id: id + "-list", role: "listbox", "class": "list", "aria-label": this.label("title"), hidden: "" });
    this.status = el("div", { "class": "status", role: "status", "aria-live": "polite" });
    this.contacts = el("div", { "class": "contacts", hidden: "" });
    var body = el("div", { "class": "body" }, [
      el("div", { "class": "search" }, [this.input]), this.status, this.list, this.contacts
    ]);
    if (this.inline) {
      this.panel = el("div", { "class": "kb inline", lang: this.lang }, [body]);
      this.root.appendChild(this.panel);
    } else {
      this.avatar = el("span", { "class": "avatar", "aria-hidden": "true" });
      this.name = el("span", { "class": "name" });
      this.closeBtn = el("button", { type: "button", "class": "close", "aria-label": this.label("close"), text: "\u00D7" });
      this.panel = el("div", {
        "class": "kb panel", role: "dialog", "aria-modal": "false", "aria-labelledby": id + "-title",
        lang: this.lang, hidden: ""
      }, [
        el("div", { "class": "head" }, [
          this.avatar,
          el("div", { "class": "titles" }, [
            el("div", { "class": "title", id: id + "-title", text: this.label("title") }), this.name
          ]),
          this.closeBtn
        ]),
        body
      ]);
      this.launcher = el("button", {
        type: "button", "class": "kb launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
        "aria-controls": id + "-panel", lang: this.lang
      }, [el("span", { "class": "q", "aria-hidden": "true", text: "?" }), el("span", { text: this.label("help") })]);
      this.panel.id = id + "-panel";
      this.root.appendChild(this.launcher);
      this.root.appendChild(this.panel);
      this.launcher.addEventListener("click", function () { self.panel.hidden ? self.open() : self.close(); });
      this.closeBtn.addEventListener("click", function () { self.close(); });
      this.setAssistant(opts.name || "", opts.avatar || "");
    }
    this.input.addEventListener("input", function () { self.onInput(); });
    this.input.addEventListener("keydown", function (e) { self.onKey(e); });
    this.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && e.target !== self.input) { e.preventDefault(); self.escape(); }
    });
    this.list.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep input focus
  };

  Widget.prototype.setAssistant = function (name, avatar) {
    if (this.inline) return;
    this.name.textContent = name || "";
    this.avatar.textContent = "";
    if (avatar) {
      this.avatar.appendChild(el("img", { src: avatar, alt: "" }));
    } else {
      this.avatar.textContent = (name || "?").trim().charAt(0).toUpperCase();
    }
  };

  Widget.prototype.setConfig = function (cfg) {
    if (!cfg) return;
    var a = cfg.assistant || {};
    if (!opts.name || !opts.avatar) this.setAssistant(opts.name || a.name || "", opts.avatar || a.avatar || "");
    this.renderContacts(cfg.contacts || []);
  };

  Widget.prototype.renderContacts = function (contacts) {
    var self = this;
    this.contacts.textContent = "";
    var allowed = /^(mailto:|tel:|https:\/\/|http:\/\/)/i;
    var links = contacts.filter(function (c) { return c && allowed.test(String(c.url || "")); }).map(function (c) {
      var a = el("a", {
        href: c.url, "class": "contact " + c.channel, "data-channel": c.channel,
        target: /^https?:/i.test(c.url) ? "_blank" : null, rel: "noopener"
      }, [
        el("span", { "class": "icon", "aria-hidden": "true", text: CONTACT_ICONS[c.channel] || "\u2192" }),
        el("span", { "class": "what", text: self.label(c.channel) }),
        el("span", { "class": "how", text: c.label || "" })
      ]);
      a.addEventListener("click", function () { track("contact_click", { channel: c.channel, url: c.url }); });
      return el("li", null, [a]);
    });
    if (!links.length) { this.contacts.hidden = true; return; }
    this.contacts.appendChild(el("div", { "class": "still", text: this.label("still") }));
    this.contacts.appendChild(el("ul", null, links));
    this.contacts.hidden = false;
  };

  Widget.prototype.open = function () {
    var active = document.activeElement;
    this.returnFocus = active && active !== document.body && active !== this.root.host ? active : this.launcher;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.classList.add("open");
    this.input.focus();
  };

  Widget.prototype.close = function () {
    if (this.inline) return;
    this.flushTrack();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.classList.remove("open");
    var target = this.returnFocus || this.launcher;
    this.returnFocus = null;
    try { target.focus(); } catch (e) { this.launcher.focus(); }
  };

  Widget.prototype.escape = function () {
    if (this.inline) { this.input.value = ""; this.query = ""; this.showHits([]); this.status.textContent = ""; return; }
    this.close();
  };

  Widget.prototype.onInput = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.search(self.input.value); }, DEBOUNCE_MS);
  };

  Widget.prototype.search = function (raw) {
    var self = this;
    var q = String(raw || "").replace(/\s+/g, " ").trim().slice(0, MAX_QUERY);
    var seq = ++this.seq;
    if (this.controller) this.controller.abort();
    this.controller = null;
    if (!q) { this.query = ""; this.showHits([]); this.status.textContent = ""; return; }
    // The page's language is a preference, not a filter: an English query on a Bengali page
    // still finds the English article when there is no Bengali one.
    var context = (opts.context ? opts.context + "," : "") + "lang:" + this.lang;
    var params = new URLSearchParams({ q: q, k: String(opts.k), context: context });
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    this.controller = controller;
    this.list.setAttribute("aria-busy", "true");
    fetch(ORIGIN + "/api/search?" + params.toString(), {
      signal: controller ? controller.signal : undefined, credentials: "omit", headers: { accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (seq !== self.seq) return; // a newer query is on its way: drop this answer
      if (res.status !== 200) throw new Error(res.body && res.body.detail || "search failed");
      self.query = q;
      self.showHits(res.body.hits || []);
      self.announce();
      self.scheduleTrack();
    }).catch(function (err) {
      if (seq !== self.seq || (err && err.name === "AbortError")) return;
      self.query = q;
      self.showHits([]);
      self.status.textContent = self.label("error");
    }).then(function () { if (seq === self.seq) self.list.removeAttribute("aria-busy"); });
  };

  Widget.prototype.announce = function () {
    var n = this.hits.length;
    this.status.textContent = n === 0 ? this.label("no_results") : n === 1 ? this.label("one_result", 1) : this.label("results", n);
  };

  Widget.prototype.showHits = function (hits) {
    var self = this;
    this.hits = hits;
    this.active = -1;
    this.list.textContent = "";
    this.input.removeAttribute("aria-activedescendant");
    hits.forEach(function (hit, i) {
      var url = hitUrl(hit);
      var meta = el("div", { "class": "meta" });
      if (hit.kind === "video") {
        meta.appendChild(el("span", { "class": "badge video", text: self.label("video") }));
        if (hit.start != null) meta.appendChild(el("span", { "class": "moment", text: self.label("video_at").replace("{t}", clock(hit.start)) }));
      }
      if (hit.section && hit.section !== hit.title && !/^\d+:\d\d$/.test(hit.section)) meta.appendChild(el("span", { "class": "section", text: hit.section }));
      // An option holds no link (a focusable element inside role=option is hidden from screen
      // readers' option navigation: axe's nested-interactive); the option itself opens the answer.
      var li = el("li", {
        id: self.uid + "-opt-" + i, role: "option", "aria-selected": "false", "class": i === 0 ? "hit top" : "hit",
        "data-href": url
      }, [el("div", { "class": "hit-body" }, [
        i === 0 ? el("span", { "class": "top-label", text: self.label("top") }) : null,
        el("span", { "class": "hit-title", text: hit.title || hit.url }),
        meta,
        snippetNodes(el("span", { "class": "snippet" }), hit.snippet)
      ])]);
      li.addEventListener("click", function (e) { self.go(i, e.ctrlKey || e.metaKey || e.shiftKey); });
      li.addEventListener("auxclick", function (e) { if (e.button === 1) self.go(i, true); });
      li.addEventListener("mousemove", function () { if (self.active !== i) self.setActive(i); });
      self.list.appendChild(li);
    });
    var expanded = hits.length > 0;
    this.list.hidden = !expanded;
    this.input.setAttribute("aria-expanded", expanded ? "true" : "false");
  };

  Widget.prototype.setActive = function (i) {
    var items = this.list.children;
    if (this.active >= 0 && items[this.active]) {
      items[this.active].setAttribute("aria-selected", "false");
      items[this.active].classList.remove("active");
    }
    this.active = i;
    if (i >= 0 && items[i]) {
      items[i].setAttribute("aria-selected", "true");
      items[i].classList.add("active");
      this.input.setAttribute("aria-activedescendant", items[i].id);
      if (items[i].scrollIntoView) items[i].scrollIntoView({ block: "nearest" });
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  Widget.prototype.onKey = function (e) {
    var n = this.hits.length;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (n) this.setActive(this.active < n - 1 ? this.active + 1 : 0);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (n) this.setActive(this.active > 0 ? this.active - 1 : n - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (this.active >= 0 && this.active < n) this.go(this.active);
      else { clearTimeout(this.timer); this.search(this.input.value); this.flushTrack(); }
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.escape();
    }
  };

  Widget.prototype.go = function (i, newTab) {
    this.clicked(i);
    var url = hitUrl(this.hits[i]);
    if (opts.target === "_self" && !newTab) location.href = url;
    else window.open(url, newTab ? "_blank" : opts.target, "noopener");
  };

  Widget.prototype.clicked = function (i) {
    this.flushTrack();
    track("result_click", { query: this.query, rank: i + 1, url: this.hits[i].url });
  };

  Widget.prototype.scheduleTrack = function () {
    var self = this;
    clearTimeout(this.trackTimer);
    this.trackTimer = setTimeout(function () { self.flushTrack(); }, TRACK_IDLE_MS);
  };

  // Only the query the shopper settled on is an event, not every keystroke.
  Widget.prototype.flushTrack = function () {
    clearTimeout(this.trackTimer);
    if (!this.query || this.query === this.tracked) return;
    this.tracked = this.query;
    track("search", {
      query: this.query, results: this.hits.length,
      top: this.hits.slice(0, 5).map(function (h) { return h.url; })
    });
  };

  function start() {
    try {
      if (window.KbEvents && window.KbEvents.configure) {
        window.KbEvents.configure({ endpoint: ORIGIN + "/api/events", source: "widget" });
      }
    } catch (e) { /* analytics must never stop the widget */ }
    var host, inline = !!opts.mount;
    if (inline) {
      var target = document.querySelector(opts.mount);
      if (!target) { if (window.console) console.warn("kb widget: no element matches data-mount=" + opts.mount); return; }
      host = document.createElement("div");
      target.appendChild(host);
    } else {
      host = document.createElement("div");
      host.setAttribute("data-kb-widget", "");
      document.body.appendChild(host);
    }
    var widget = new Widget(host, inline);
    host.kbWidget = widget;
    fetch(ORIGIN + "/api/config", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (cfg) { widget.setConfig(cfg); })
      .catch(function () { /* the widget works without contact channels */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

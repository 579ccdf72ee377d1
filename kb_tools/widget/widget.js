/* Nodi help widget: one <script src=".../widget.js" async> tag gives a floating "Help"
 * launcher, or with data-mount="#id" an inline help box in that element.
 * Plain JavaScript, no dependencies, no requests to anyone but the help center's own API.
 * Everything lives in a Shadow DOM so the shop's CSS and the widget's cannot touch each other.
 *
 * What the shopper gets: suggestions for the page they are on before typing (/api/suggest),
 * search as they type (/api/search), the chosen answer read inside the panel (/api/section:
 * the section's HTML, sanitised by the server and again here, or the video playing from its
 * moment) with a way back, and always, at the panel's foot, a way to a person that carries
 * their question (kb-handoff.js). When search says it has no answer (answered: false) nothing
 * is called the top answer and the way to a person comes first.
 * Query-derived text is only ever set as text nodes: the API's snippet is HTML-escaped with
 * <mark> tags, and we split it on those tags instead of parsing it as HTML. */
(function () {
  "use strict";
  var CSS = "__KB_WIDGET_CSS__";
  var LABELS = "__KB_WIDGET_LABELS__";
  var DEBOUNCE_MS = 150;
  var SETTLE_MS = 1000;
  var MAX_QUERY = 512;

  // currentScript is only set while this file runs for the first time, async or not.
  var script = document.currentScript ||
    document.querySelector('script[src*="/widget.js"]:not([data-kb-widget-started])');
  if (!script) return;
  script.setAttribute("data-kb-widget-started", "");
  var ORIGIN = new URL(script.src, location.href).origin;
  function attr(name) { return script.getAttribute("data-" + name) || ""; }
  var opts = {
    lang: attr("lang"), context: attr("context"), mount: attr("mount"), name: attr("name"),
    avatar: attr("avatar"), target: attr("target") || "_blank", order: attr("order").slice(0, 60),
    country: attr("country").toUpperCase(), k: parseInt(attr("k") || "8", 10) || 8
  };

  function pageLang() {
    var l = opts.lang || document.documentElement.getAttribute("lang") || "en";
    return l.toLowerCase().split(/[-_]/)[0];
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] == null) continue;
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
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
    var marked = false;
    String(escaped || "").split(/(<mark>|<\/mark>)/).forEach(function (part) {
      if (part === "<mark>") { marked = true; return; }
      if (part === "</mark>") { marked = false; return; }
      if (!part) return;
      var text = document.createTextNode(unescapeHtml(part));
      if (marked) { var m = document.createElement("mark"); m.appendChild(text); parent.appendChild(m); }
      else parent.appendChild(text);
    });
    return parent;
  }

  // The section's HTML is sanitised by the server (an allow-list); this second pass keeps the
  // same allow-list here, so nothing but plain content ever enters the panel.
  var TAGS = /^(P|H[2-6]|UL|OL|LI|DL|DT|DD|STRONG|EM|B|I|U|S|SMALL|SUB|SUP|MARK|KBD|CODE|PRE|BLOCKQUOTE|TABLE|CAPTION|THEAD|TBODY|TR|TH|TD|BR|HR|A|IMG|FIGURE|FIGCAPTION|SPAN|DIV|DETAILS|SUMMARY|VIDEO|SOURCE|TRACK|ABBR)$/;
  var ATTRS = /^(href|src|alt|title|colspan|rowspan|poster|controls|kind|srclang|label|type|lang|dir|width|height|preload|playsinline|default|open)$/;
  function clean(node) {
    Array.prototype.slice.call(node.children).forEach(function (child) {
      if (!TAGS.test(child.tagName)) { child.remove(); return; }
      Array.prototype.slice.call(child.attributes).forEach(function (a) {
        var ok = ATTRS.test(a.name) && !(/^(href|src|poster)$/.test(a.name) && !/^(https?:|mailto:|tel:|#)/i.test(a.value));
        if (!ok) child.removeAttribute(a.name);
      });
      if (child.tagName === "A") { child.target = "_blank"; child.rel = "noopener"; }
      clean(child);
    });
    return node;
  }

  function clock(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (r < 10 ? "0" + r : r);
  }

  function events() { return window.KbEvents || {}; }
  function track(name, props) {
    try { if (events().track) events().track(name, props); } catch (e) { /* never break the shop */ }
  }
  function settled(props) { try { if (events().settled) events().settled(props); } catch (e) { /* ignore */ } }
  function outcome(next) { try { if (events().outcome) events().outcome(next); } catch (e) { /* ignore */ } }

  // Always a page of the help center (the API's url is site-relative; a scheme in it would
  // only become part of the path). kbs/kbsid let the help page count the visit as coming from
  // the widget, in the same anonymous session (see kb-events.js).
  function helpUrl(hit, marked) {
    var u = new URL(ORIGIN + "/" + String(hit.url || "").replace(/^\/+/, ""));
    if (hit.kind === "video" && hit.start != null && !u.hash) u.hash = "t=" + Math.floor(hit.start);
    if (!marked) return u.href;
    u.searchParams.set("kbs", "widget");
    try {
      var sid = events().session && events().session();
      if (sid) u.searchParams.set("kbsid", sid);
    } catch (e) { /* no session: the visit still counts as from the widget */ }
    return u.href;
  }

  function getJson(path, params, signal) {
    return fetch(ORIGIN + path + "?" + new URLSearchParams(params).toString(), {
      signal: signal, credentials: "omit", headers: { accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body && body.detail || String(r.status));
        return body;
      });
    });
  }

  function Widget(host, inline) {
    this.inline = inline;
    this.lang = pageLang();
    this.t = LABELS[this.lang] || LABELS.en;
    this.items = [];
    this.mode = "suggested"; // what the list shows: suggested | popular | results | related
    this.answered = null; // search's decision: true, false, or null (unknown: a server without it)
    this.active = -1;
    this.seq = 0;
    this.controller = null;
    this.timer = 0;
    this.settleTimer = 0;
    this.settleOnArrival = "";
    this.query = "";
    this.opened = null;
    this.config = null;
    this.returnFocus = null;
    this.uid = "kbw" + Math.random().toString(36).slice(2, 8);
    this.root = host.attachShadow({ mode: "open" });
    this.build();
  }

  Widget.prototype.label = function (key, values) {
    var s = this.t[key] || LABELS.en[key] || key, lang = this.lang;
    return s.replace(/\{(\w+)\}/g, function (m, k) {
      var v = values && values[k];
      return v == null ? m : typeof v === "number" ? new Intl.NumberFormat(lang).format(v) : v;
    });
  };

  Widget.prototype.build = function () {
    var self = this, id = this.uid;
    // A constructed style sheet is not an inline <style>: the widget keeps its look on a shop
    // whose Content-Security-Policy forbids inline styles. Older browsers get the <style>.
    var sheet = null;
    try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch (e) { sheet = null; }
    if (sheet && "adoptedStyleSheets" in this.root) this.root.adoptedStyleSheets = [sheet];
    else this.root.appendChild(el("style", { text: CSS }));
    this.input = el("input", {
      type: "search", id: id + "-input", "class": "input", role: "combobox",
      "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id + "-list",
      "aria-label": this.label("label"), placeholder: this.label("placeholder"),
      autocomplete: "off", spellcheck: "false", maxlength: String(MAX_QUERY), enterkeyhint: "search"
    });
    this.status = el("div", { "class": "status", role: "status", "aria-live": "polite" });
    this.heading = el("div", { "class": "list-title", "aria-hidden": "true" });
    this.list = el("ul", { id: id + "-list", role: "listbox", "class": "list", hidden: "" });
    this.backBtn = el("button", { type: "button", "class": "back", text: "\u2190 " + this.label("back") });
    this.answerTitle = el("h2", { "class": "answer-title", id: id + "-answer-title", tabindex: "-1" });
    this.answerSection = el("p", { "class": "answer-section" });
    this.answerBody = el("div", { "class": "answer-body" });
    this.fullLink = el("a", { "class": "full", target: "_blank", rel: "noopener", text: this.label("full_page") + " \u2197" });
    this.answer = el("div", { "class": "answer", role: "region", "aria-labelledby": id + "-answer-title", hidden: "" },
      [this.backBtn, this.answerTitle, this.answerSection, this.answerBody, this.fullLink]);
    // Focusable, so a long answer can be scrolled from the keyboard.
    this.scroll = el("div", { "class": "scroll", tabindex: "0" }, [this.status, this.heading, this.list, this.answer]);
    this.contactTitle = el("div", { "class": "still", id: id + "-contacts" });
    this.contactList = el("ul");
    this.note = el("div", { "class": "note", role: "status" });
    this.contacts = el("div", { "class": "contacts", role: "region", "aria-labelledby": id + "-contacts", hidden: "" },
      [this.contactTitle, this.contactList, this.note]);
    this.searchBar = el("div", { "class": "search" }, [this.input]);
    this.body = el("div", { "class": "body" }, [this.searchBar, this.scroll, this.contacts]);
    if (this.inline) {
      this.panel = el("div", { "class": "kb inline", lang: this.lang }, [this.body]);
      this.root.appendChild(this.panel);
    } else {
      this.avatar = el("span", { "class": "avatar", "aria-hidden": "true" });
      this.name = el("span", { "class": "name" });
      this.closeBtn = el("button", { type: "button", "class": "close", "aria-label": this.label("close"), text: "\u00D7" });
      this.panel = el("div", {
        "class": "kb panel", role: "dialog", "aria-modal": "false", "aria-labelledby": id + "-title",
        lang: this.lang, id: id + "-panel", hidden: ""
      }, [
        el("div", { "class": "head" }, [
          this.avatar,
          el("div", { "class": "titles" }, [el("div", { "class": "title", id: id + "-title", text: this.label("title") }), this.name]),
          this.closeBtn
        ]),
        this.body
      ]);
      this.launcher = el("button", {
        type: "button", "class": "kb launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
        "aria-controls": id + "-panel", lang: this.lang
      }, [el("span", { "class": "q", "aria-hidden": "true", text: "?" }), el("span", { text: this.label("help") })]);
      this.root.appendChild(this.launcher);
      this.root.appendChild(this.panel);
      this.launcher.addEventListener("click", function () { self.panel.hidden ? self.open() : self.close(); });
      this.closeBtn.addEventListener("click", function () { self.close(); });
      this.setAssistant(opts.name, opts.avatar);
    }
    this.input.addEventListener("input", function () { self.onInput(); });
    this.input.addEventListener("keydown", function (e) { self.onKey(e); });
    this.backBtn.addEventListener("click", function () { self.back(); });
    this.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && e.target !== self.input) { e.preventDefault(); self.escape(); }
    });
    this.list.addEventListener("mousedown", function (e) { e.preventDefault(); }); // keep input focus
    this.renderContacts();
  };

  Widget.prototype.setAssistant = function (name, avatar) {
    if (this.inline) return;
    this.name.textContent = name || "";
    this.avatar.textContent = "";
    if (avatar) this.avatar.appendChild(el("img", { src: avatar, alt: "" }));
    else this.avatar.textContent = (name || "?").trim().charAt(0).toUpperCase();
  };

  Widget.prototype.setConfig = function (cfg) {
    if (!cfg) return;
    var a = cfg.assistant || {};
    if (!opts.name || !opts.avatar) this.setAssistant(opts.name || a.name, opts.avatar || a.avatar);
    this.config = cfg;
    this.renderContacts();
  };

  // The way to a person: always in view at the panel's foot; first, above the list, when
  // search has no answer. Its links carry the question, the page and the answer being read.
  Widget.prototype.renderContacts = function () {
    var self = this, handoff = window.KbHandoff;
    var noAnswer = this.mode === "related" && this.opened === null;
    this.panel.classList.toggle("no-answer", noAnswer);
    var place = noAnswer ? this.scroll : null;
    if (this.contacts.nextSibling !== place) this.body.insertBefore(this.contacts, place);
    this.contactTitle.textContent = this.label(noAnswer ? "ask" : "still");
    var read = this.opened ? { title: this.opened.title, url: helpUrl(this.opened, false) } : null;
    var ctx = { question: this.query, page: location.origin + location.pathname, read: read, order: opts.order, country: opts.country };
    var n = handoff && this.config ? handoff.render(this.contactList, this.config, ctx, this.t, this.lang, {
      click: function (c) {
        if (self.unsettled) self.settle("click"); // asking a person before the pause settles the search
        outcome("contact");
        track("contact_click", { channel: c.channel, url: read ? read.url : location.pathname, query: self.query || null, from: "widget" });
      },
      note: function (text) { self.note.textContent = text; }
    }) : 0;
    this.contacts.hidden = !n;
  };

  Widget.prototype.open = function () {
    var active = document.activeElement;
    this.returnFocus = active && active !== document.body && active !== this.root.host ? active : this.launcher;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.classList.add("open");
    this.input.focus();
    this.suggest();
  };

  Widget.prototype.close = function () {
    if (this.inline) return;
    clearTimeout(this.settleTimer); // results glanced at for less than a second are not a search
    outcome("leave");
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.classList.remove("open");
    var target = this.returnFocus || this.launcher;
    this.returnFocus = null;
    try { target.focus(); } catch (e) { this.launcher.focus(); }
  };

  Widget.prototype.escape = function () {
    if (this.opened) { this.back(); return; }
    if (!this.inline) { this.close(); return; }
    this.input.value = "";
    this.search("");
  };

  // Before typing: answers for the page the shopper is on, or the most read ones.
  Widget.prototype.suggest = function () {
    var self = this;
    if (this.suggestions) return;
    this.suggestions = { items: [], basis: "" };
    var params = { lang: this.lang, page: location.pathname.slice(0, 300), k: "5" };
    if (opts.context) params.context = opts.context;
    getJson("/api/suggest", params).then(function (body) {
      self.suggestions = { items: body.suggestions || [], basis: body.basis || "" };
      if (!self.query && !self.opened) self.showSuggestions();
    })["catch"](function () { /* no suggestions: the search box is still there */ });
  };

  Widget.prototype.showSuggestions = function () {
    var s = this.suggestions || { items: [] };
    this.showList(s.items, s.basis === "popular" ? "popular" : "suggested");
    this.status.textContent = "";
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
    clearTimeout(this.settleTimer);
    this.settleOnArrival = "";
    this.unsettled = false; // results not yet shown are no search
    if (this.controller) this.controller.abort();
    this.controller = typeof AbortController === "function" ? new AbortController() : null;
    if (this.opened) this.leaveAnswer();
    if (!q) { this.query = ""; this.answered = null; this.showSuggestions(); this.renderContacts(); return; }
    // The page's language is a preference, not a filter: an English query on a Bengali page
    // still finds the English article when there is no Bengali one.
    var context = (opts.context ? opts.context + "," : "") + "lang:" + this.lang;
    this.list.setAttribute("aria-busy", "true");
    getJson("/api/search", { q: q, k: String(opts.k), context: context }, this.controller && this.controller.signal).then(function (body) {
      if (seq !== self.seq) return; // a newer query is on its way: drop this answer
      self.query = q;
      var hits = body.hits || [];
      // answered missing (an older server) is unknown, not "no": results, but none called the
      // answer. Only true puts "Top answer" on the first hit; false is the no-answer state.
      self.answered = !hits.length ? false : typeof body.answered === "boolean" ? body.answered : null;
      self.confidence = hits.length && typeof hits[0].confidence === "number" ? hits[0].confidence : null;
      self.showList(hits, self.answered === false ? "related" : "results");
      self.status.textContent = self.answered === false
        ? self.label("no_answer", { q: q })
        : self.label(hits.length === 1 ? "one_result" : "results", { n: hits.length });
      self.renderContacts();
      self.unsettled = true;
      var how = self.settleOnArrival;
      if (how) self.settle(how);
      else self.settleTimer = setTimeout(function () { self.settle("pause"); }, SETTLE_MS);
    })["catch"](function (err) {
      if (seq !== self.seq || (err && err.name === "AbortError")) return;
      self.query = q;
      self.answered = null;
      self.showList([], "results");
      self.status.textContent = self.label("error");
    }).then(function () { if (seq === self.seq) self.list.removeAttribute("aria-busy"); });
  };

  // The shopper settled on this search (paused, pressed Enter or chose a result): one event,
  // sent by KbEvents once what they did next is known.
  Widget.prototype.settle = function (how) {
    clearTimeout(this.settleTimer);
    if (!how || !this.query || (this.mode !== "results" && this.mode !== "related")) return;
    this.unsettled = false;
    var props = {
      query: this.query, results: this.items.length, settled: how,
      top: this.items.slice(0, 5).map(function (h) { return h.url; })
    };
    if (this.answered !== null) props.answered = this.answered; // missing = unknown (events contract)
    if (this.confidence != null) props.confidence = this.confidence;
    settled(props);
  };

  Widget.prototype.showList = function (items, mode) {
    var self = this;
    this.items = items;
    this.mode = mode;
    this.active = -1;
    this.list.textContent = "";
    this.input.removeAttribute("aria-activedescendant");
    var titles = { suggested: "suggested", popular: "popular", related: "related", results: "results_label" };
    this.list.setAttribute("aria-label", this.label(titles[mode]));
    this.heading.textContent = items.length && mode !== "results" ? this.label(titles[mode]) : "";
    items.forEach(function (hit, i) {
      var top = mode === "results" && i === 0 && self.answered === true;
      var meta = el("div", { "class": "meta" });
      if (hit.kind === "video") {
        meta.appendChild(el("span", { "class": "badge video", text: self.label("video") }));
        if (hit.start != null) meta.appendChild(el("span", { "class": "moment", text: self.label("video_at", { t: clock(hit.start) }) }));
      }
      if (hit.section && hit.section !== hit.title && !/^\d+:\d\d$/.test(hit.section)) meta.appendChild(el("span", { "class": "section", text: hit.section }));
      // An option holds no link (a focusable element inside role=option is hidden from screen
      // readers' option navigation: axe's nested-interactive); the option itself opens the answer.
      var li = el("li", {
        id: self.uid + "-opt-" + i, role: "option", "aria-selected": "false", "class": top ? "hit top" : "hit",
        "data-href": helpUrl(hit, true)
      }, [el("div", { "class": "hit-body" }, [
        top ? el("span", { "class": "top-label", text: self.label("top") }) : null,
        el("span", { "class": "hit-title", text: hit.title || hit.url }),
        meta,
        hit.snippet ? snippetNodes(el("span", { "class": "snippet" }), hit.snippet)
          : hit.summary ? el("span", { "class": "snippet", text: hit.summary }) : null
      ])]);
      li.addEventListener("click", function (e) { self.choose(i, e.ctrlKey || e.metaKey || e.shiftKey); });
      li.addEventListener("auxclick", function (e) { if (e.button === 1) self.choose(i, true); });
      li.addEventListener("mousemove", function () { if (self.active !== i) self.setActive(i); });
      self.list.appendChild(li);
    });
    var expanded = items.length > 0;
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
    var n = this.opened ? 0 : this.items.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (n) this.setActive(e.key === "ArrowDown" ? (this.active + 1) % n : (this.active > 0 ? this.active : n) - 1);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (this.active >= 0 && this.active < n) { this.choose(this.active, e.ctrlKey || e.metaKey); return; }
      clearTimeout(this.timer);
      var q = this.input.value.replace(/\s+/g, " ").trim();
      if (q && q === this.query && !this.list.hasAttribute("aria-busy")) { if (this.unsettled) this.settle("enter"); }
      else { this.search(this.input.value); this.settleOnArrival = "enter"; }
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.escape();
    }
  };

  // A result chosen: read it here (the shop page stays), or in a new tab when asked for.
  Widget.prototype.choose = function (i, newTab) {
    var hit = this.items[i];
    if (!hit) return;
    // The shopper chose from what they see: a search still on its way must not replace it.
    clearTimeout(this.timer);
    this.seq++;
    if (this.controller) this.controller.abort();
    this.list.removeAttribute("aria-busy");
    if (this.mode === "results" || this.mode === "related") {
      if (this.unsettled) this.settle("click");
      outcome("open");
      track("result_click", { query: this.query, rank: i + 1, url: hit.url });
    }
    if (newTab) { window.open(helpUrl(hit, true), "_blank", "noopener"); return; }
    this.showAnswer(hit, i);
  };

  Widget.prototype.showAnswer = function (hit, index) {
    var self = this;
    this.opened = hit;
    this.openedIndex = index;
    this.list.hidden = true;
    this.heading.hidden = true;
    this.status.textContent = "";
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.answerTitle.textContent = hit.title || "";
    this.answerSection.textContent = hit.section && hit.section !== hit.title && !/^\d+:\d\d$/.test(hit.section) ? hit.section : "";
    this.answerBody.textContent = this.label("loading");
    this.answerBody.setAttribute("aria-busy", "true");
    this.fullLink.href = helpUrl(hit, true);
    this.answer.hidden = false;
    this.scroll.scrollTop = 0;
    this.renderContacts();
    this.answerTitle.focus();
    var seq = this.answerSeq = (this.answerSeq || 0) + 1;
    getJson("/api/section", { url: hit.url, lang: this.lang }).then(function (body) {
      if (seq !== self.answerSeq || self.opened !== hit) return;
      self.answerBody.textContent = "";
      if (body.video) self.answerBody.appendChild(self.player(body.video, hit.start));
      // A parsed document that is not the page's: nothing in it loads or runs.
      var doc = new DOMParser().parseFromString("<body>" + (body.html || ""), "text/html");
      var nodes = clean(doc.body).childNodes;
      while (nodes.length) self.answerBody.appendChild(nodes[0]);
    })["catch"](function () {
      if (seq !== self.answerSeq || self.opened !== hit) return;
      self.answerBody.textContent = "";
      self.answerBody.appendChild(el("p", { "class": "error", text: self.label("answer_error") }));
      if (hit.snippet) self.answerBody.appendChild(snippetNodes(el("p"), hit.snippet));
    }).then(function () { self.answerBody.removeAttribute("aria-busy"); });
  };

  // The video plays inside the panel from the moment the search found.
  Widget.prototype.player = function (v, start) {
    var at = start != null ? start : v.start || 0;
    var video = el("video", { controls: "", playsinline: "", preload: "metadata", "class": "player", "aria-label": this.opened.title || "" });
    if (/^https?:/.test(v.poster || "")) video.poster = v.poster;
    (v.tracks || []).forEach(function (tr) {
      if (/^https?:/.test(tr.src || "")) video.appendChild(el("track", { kind: tr.kind, srclang: tr.srclang, label: tr.label, src: tr.src }));
    });
    var lang = this.lang;
    video.addEventListener("loadedmetadata", function () {
      for (var i = 0; i < video.textTracks.length; i++) {
        var tt = video.textTracks[i];
        if (tt.kind === "captions") tt.mode = tt.language === lang ? "showing" : "disabled";
      }
      if (at && Math.abs(video.currentTime - at) > 0.5) video.currentTime = at;
      var played = video.play();
      if (played && played["catch"]) played["catch"](function () { /* autoplay refused: the controls are there */ });
    });
    if (/^https?:/.test(v.src || "")) video.src = v.src + (at ? "#t=" + at : "");
    return video;
  };

  Widget.prototype.leaveAnswer = function () {
    var video = this.answerBody.querySelector("video");
    if (video) video.pause();
    this.opened = null;
    this.answer.hidden = true;
    this.answerBody.textContent = "";
    this.heading.hidden = false;
    this.list.hidden = !this.items.length;
    this.input.setAttribute("aria-expanded", this.items.length ? "true" : "false");
  };

  Widget.prototype.back = function () {
    var index = this.openedIndex;
    this.leaveAnswer();
    this.renderContacts();
    this.input.focus();
    if (index >= 0 && index < this.items.length) this.setActive(index);
  };

  function start() {
    try {
      if (events().configure) events().configure({ endpoint: ORIGIN + "/api/events", source: "widget" });
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
    if (inline) widget.suggest();
    getJson("/api/config", { lang: widget.lang })
      .then(function (cfg) { widget.setConfig(cfg); })["catch"](function () { /* the widget works without contact channels */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

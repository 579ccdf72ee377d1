/* kb-feedback.js — on every help page: "Was this page helpful? Yes / No" (+ optional comment),
 * a page_view event with where the shopper came from, and contact_click events for mailto:,
 * tel:, WhatsApp and [data-kb-contact="chat"] links. Events go through window.KbEvents
 * (kb-events.js). No Google Analytics: Material's own feedback widget needs it.
 *
 * The box appears where the plugin put its host (<div class="kb-feedback">: articles and video
 * pages, not the home page, section indexes or the 404 page). "No" is not a dead end: next to
 * the comment box it offers the shop's contact channels (kb-handoff.js), their links carrying
 * the article, its contact_topic and what the shopper typed. The host's data-handoff holds the
 * channels written at build time and the labels in the page's language; without channels
 * there, they come from `kb serve`'s /api/config.
 *
 * page_view "from": "widget" when the URL has kbs=widget (the widget adds it to its links),
 * "search" when it has kbs=search, q= or Material's h= (search highlight), when the shopper got
 * here by a result_click tracked on this site (KbEvents remembers it for 10 minutes), or the
 * previous page of this site had ?q=; else "direct". The kbs/kbsid markers are then removed from the address
 * bar so a shared link does not carry them.
 */
(function () {
  "use strict";

  var LABELS = {
    en: { question: "Was this page helpful?", yes: "Yes", no: "No",
          more_yes: "Great! Anything we could add? (optional)", more_no: "Sorry about that. What were you looking for? (optional)",
          placeholder: "Please don't include order numbers, phone numbers or e-mail addresses.",
          send: "Send", skip: "No thanks", thanks: "Thank you for your feedback!" },
    bn: { question: "এই পাতাটি কি সহায়ক ছিল?", yes: "হ্যাঁ", no: "না",
          more_yes: "ধন্যবাদ! আর কী যোগ করতে পারি? (ঐচ্ছিক)", more_no: "দুঃখিত। আপনি কী খুঁজছিলেন? (ঐচ্ছিক)",
          placeholder: "অর্ডার নম্বর, ফোন নম্বর বা ইমেইল লিখবেন না।",
          send: "পাঠান", skip: "না, ধন্যবাদ", thanks: "আপনার মতামতের জন্য ধন্যবাদ!" },
    gu: { question: "શું આ પાનું ઉપયોગી હતું?", yes: "હા", no: "ના",
          more_yes: "સરસ! અમે બીજું શું ઉમેરી શકીએ? (વૈકલ્પિક)", more_no: "માફ કરશો. તમે શું શોધી રહ્યા હતા? (વૈકલ્પિક)",
          placeholder: "કૃપા કરીને ઓર્ડર નંબર, ફોન નંબર કે ઇમેઇલ લખશો નહીં.",
          send: "મોકલો", skip: "ના, આભાર", thanks: "તમારા પ્રતિભાવ બદલ આભાર!" }
  };

  function labels() {
    var lang = (document.documentElement.getAttribute("lang") || "en").toLowerCase().split("-")[0];
    return LABELS[lang] || LABELS.en;
  }

  function track(name, props) {
    try { if (window.KbEvents) window.KbEvents.track(name, props); } catch (e) { /* never break the page */ }
  }

  function flush() {
    try { if (window.KbEvents && window.KbEvents.flush) window.KbEvents.flush(); } catch (e) { /* ignore */ }
  }

  function cameFrom() {
    var params;
    try { params = new URLSearchParams(location.search); } catch (e) { return "direct"; }
    var marker = params.get("kbs") || params.get("kb_src");
    if (marker === "widget") return "widget";
    if (marker === "search" || params.has("q") || params.has("h")) return "search";
    var click = window.KbEvents && window.KbEvents.lastClick ? window.KbEvents.lastClick(true) : null;
    if (click && click.path !== undefined) {
      var here = location.pathname.replace(/^\/+/, "");
      if (here === click.path || (click.path && here.slice(-click.path.length) === click.path)) {
        return click.source === "widget" ? "widget" : "search";
      }
    }
    try {
      if (document.referrer) {
        var ref = new URL(document.referrer);
        if (ref.origin === location.origin && (ref.searchParams.has("q") || /\/search\/?$/.test(ref.pathname))) return "search";
      }
    } catch (e) { /* unparsable referrer */ }
    return "direct";
  }

  function stripMarkers() {
    try {
      var url = new URL(location.href);
      var had = false;
      ["kbs", "kb_src", "kbsid"].forEach(function (k) { if (url.searchParams.has(k)) { url.searchParams["delete"](k); had = true; } });
      if (had && window.history && history.replaceState) history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    } catch (e) { /* keep the URL */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] == null) continue;
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var uid = 0;

  function render(host) {
    if (host.getAttribute("data-kb-ready")) return;
    host.setAttribute("data-kb-ready", "1");
    var t = labels();
    var url = host.getAttribute("data-url") || location.pathname;
    if (url.charAt(0) !== "/") url = "/" + url;
    var id = "kb-feedback-" + (++uid);
    var pending = null;
    var sent = false;

    var status = el("p", { "class": "kb-feedback__status", role: "status", "aria-live": "polite" });
    var yes = el("button", { type: "button", "class": "kb-feedback__button", "data-helpful": "yes", "aria-pressed": "false", text: t.yes });
    var no = el("button", { type: "button", "class": "kb-feedback__button", "data-helpful": "no", "aria-pressed": "false", text: t.no });
    var question = el("p", { "class": "kb-feedback__question", id: id + "-q", text: t.question });
    var choices = el("div", { "class": "kb-feedback__choices", role: "group", "aria-labelledby": id + "-q" }, [yes, no]);
    var prompt = el("label", { "for": id + "-comment", "class": "kb-feedback__prompt" });
    var comment = el("textarea", { id: id + "-comment", "class": "kb-feedback__comment", maxlength: "1000", rows: "3", placeholder: t.placeholder });
    var send = el("button", { type: "submit", "class": "kb-feedback__send", text: t.send });
    var skip = el("button", { type: "button", "class": "kb-feedback__skip", text: t.skip });
    var form = el("form", { "class": "kb-feedback__form", hidden: "" }, [prompt, comment, el("div", { "class": "kb-feedback__actions" }, [send, skip])]);
    var handoff = null;

    function finish(withComment) {
      if (sent || pending === null) return;
      sent = true;
      var props = { url: url, helpful: pending };
      var text = withComment ? comment.value.trim().slice(0, 1000) : "";
      if (text) props.comment = text;
      track("feedback", props);
      flush();
      form.hidden = true;
      choices.hidden = true;
      question.hidden = true;
      status.textContent = t.thanks;
      status.setAttribute("tabindex", "-1");
      status.focus();
    }

    function choose(helpful) {
      if (sent) return;
      pending = helpful;
      yes.setAttribute("aria-pressed", helpful ? "true" : "false");
      no.setAttribute("aria-pressed", helpful ? "false" : "true");
      prompt.textContent = helpful ? t.more_yes : t.more_no;
      form.hidden = false;
      if (handoff) handoff.hidden = helpful;
      else if (!helpful) handoff = offerContacts(host, comment);
      comment.focus();
    }

    yes.addEventListener("click", function () { choose(true); });
    no.addEventListener("click", function () { choose(false); });
    form.addEventListener("submit", function (e) { e.preventDefault(); finish(true); });
    skip.addEventListener("click", function () { finish(false); });
    // Leaving after a Yes/No without pressing Send still counts the vote (and the comment typed).
    window.addEventListener("pagehide", function () { finish(true); });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") finish(true); });

    host.classList.add("kb-feedback");
    host.setAttribute("role", "region");
    host.setAttribute("aria-labelledby", id + "-q");
    host.appendChild(question);
    host.appendChild(choices);
    host.appendChild(form);
    host.appendChild(status);
  }

  function parse(json) {
    try { return JSON.parse(json || "null"); } catch (e) { return null; }
  }

  function apiBase() {
    if (window.KbSite && window.KbSite.api) return window.KbSite.api;
    var meta = document.querySelector('meta[name="kb-api"]');
    return Promise.resolve((meta && meta.getAttribute("content") || location.origin).replace(/\/+$/, ""));
  }

  // The way to a person after "No": channels from the page (build time), else from kb serve.
  function offerContacts(host, comment) {
    var data = parse(host.getAttribute("data-handoff")) || {};
    var t = data.labels, lang = (document.documentElement.getAttribute("lang") || "en").split("-")[0];
    if (!t || !window.KbHandoff) return null;
    var title = el("p", { "class": "kb-handoff__title", text: t.still });
    var list = el("ul", { "class": "kb-handoff__list" });
    var note = el("p", { "class": "kb-handoff__note", role: "status" });
    var box = el("div", { "class": "kb-handoff", role: "region", "aria-label": t.contacts_label, "data-kb-no-track": "", hidden: "" }, [title, list, note]);
    host.insertBefore(box, host.lastChild); // above the thanks line, so it stays after sending
    var topic = host.getAttribute("data-topic") || "";
    var h1 = document.querySelector("article h1");
    var read = { title: h1 ? h1.textContent.replace(/\u00b6$/, "").trim() : document.title, url: location.origin + location.pathname };
    function show(cfg) {
      var draw = function () {
        var question = comment.value.trim().slice(0, 300);
        return window.KbHandoff.render(list, cfg, { question: question, read: read, topic: topic }, t, lang, {
          click: function (c) {
            track("contact_click", { channel: c.channel, url: location.pathname, topic: topic || null, query: question || null, from: "feedback" });
            flush();
          },
          note: function (text) { note.textContent = text; }
        });
      };
      box.hidden = !draw();
      comment.addEventListener("input", draw); // the links carry what the shopper typed
    }
    if (data.contacts && data.contacts.length) show(data);
    else {
      apiBase().then(function (base) {
        if (!base) return;
        return fetch(base + "/api/config", { credentials: "omit" })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (cfg) { if (cfg && cfg.contacts && cfg.contacts.length) show(cfg); });
      })["catch"](function () { /* no channels: the comment box is still there */ });
    }
    return box;
  }

  function contactChannel(link) {
    var declared = link.getAttribute("data-kb-contact");
    if (declared) return ["email", "phone", "whatsapp", "messenger", "chat"].indexOf(declared) >= 0 ? declared : "chat";
    var href = (link.getAttribute("href") || "").toLowerCase();
    if (href.indexOf("mailto:") === 0) return "email";
    if (href.indexOf("tel:") === 0) return "phone";
    if (/^(https?:)?\/\/(wa\.me|api\.whatsapp\.com|web\.whatsapp\.com)\//.test(href) || href.indexOf("whatsapp:") === 0) return "whatsapp";
    if (/^(https?:)?\/\/(m\.me|www\.messenger\.com)\//.test(href)) return "messenger";
    return null;
  }

  function onClick(e) {
    var link = e.target && e.target.closest ? e.target.closest("a[href], [data-kb-contact]") : null;
    if (!link || link.closest("[data-kb-no-track]")) return;
    var channel = contactChannel(link);
    if (!channel) return;
    track("contact_click", { channel: channel, url: location.pathname });
    flush();
  }

  function start() {
    track("page_view", { url: location.pathname, from: cameFrom() });
    stripMarkers();
    var hosts = document.querySelectorAll(".kb-feedback"); // only where the plugin put one
    if (!hosts.length) return;
    // Our stylesheet first (only pages with the feedback box load it), then the box.
    var ready = window.KbSite && window.KbSite.css ? window.KbSite.css() : Promise.resolve();
    ready.then(function () { Array.prototype.forEach.call(hosts, render); });
  }

  document.addEventListener("click", onClick, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  // Material's instant navigation swaps pages without a load: render and count those too.
  if (window.document$ && window.document$.subscribe) {
    var first = true;
    window.document$.subscribe(function () { if (first) { first = false; return; } start(); });
  }
})();

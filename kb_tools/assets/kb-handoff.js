/* kb-handoff.js — the way to a person, shared by the widget and the help pages ("No" on "Was
 * this page helpful?"). Each channel's link carries what the agent needs: the shopper's
 * question, the page they were on, the article they read, its contact topic and the order
 * number (WhatsApp text=, e-mail subject and body; Messenger cannot take a text, so the
 * message is copied for pasting). Opening hours come as minutes of the week in the shop's
 * time zone (kb_tools/service/contacts.py); with the browser's clock each channel says
 * "Open now" or when it opens, in the shopper's language and own time.
 *
 * window.KbHandoff.render(ul, config, context, labels, lang, {click, note}) fills `ul` with one
 * <li><a> per channel and returns the number shown; click(contact) runs on a click, note(text)
 * when there is something to tell the shopper (the message was copied). config: {timezone, contacts: [{channel,
 * label, url, country, hours, reply_min}]}; context: {question, page, read: {title, url},
 * topic, order, country}. KbHandoff.message(context, labels) is the text sent.
 */
(function () {
  "use strict";
  if (window.KbHandoff) return;

  var WEEK = 7 * 1440;
  var DAYS = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
  var COUNTRY_OF_LANG = { bn: "BD", gu: "IN", hi: "IN" };
  var SAFE_URL = /^(https:\/\/|http:\/\/|mailto:|tel:)/i;

  function fill(s, values) {
    return String(s || "").replace(/\{(\w+)\}/g, function (m, k) { return values[k] != null ? values[k] : m; });
  }

  function message(ctx, t) {
    var lines = [t.msg_hello];
    if (ctx.question) lines.push(fill(t.msg_question, { q: ctx.question }));
    if (ctx.read && ctx.read.url) lines.push(fill(t.msg_read, { title: ctx.read.title || "", url: ctx.read.url }));
    if (ctx.topic) lines.push(fill(t.msg_topic, { topic: ctx.topic }));
    if (ctx.page) lines.push(fill(t.msg_page, { url: ctx.page }));
    if (ctx.order) lines.push(fill(t.msg_order, { order: ctx.order }));
    return lines.join("\n");
  }

  function href(c, text, subject) {
    var q = encodeURIComponent;
    if (c.channel === "whatsapp") return c.url + "?text=" + q(text);
    if (c.channel === "email") return c.url + "?subject=" + q(subject) + "&body=" + q(text);
    return c.url;
  }

  // Minute of the week (Monday 00:00 = 0) of `now` on the shop's wall clock.
  function minuteOfWeek(now, tz) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: tz || "UTC", weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(now).forEach(function (p) { parts[p.type] = p.value; });
    return DAYS[parts.weekday] * 1440 + (parseInt(parts.hour, 10) % 24) * 60 + parseInt(parts.minute, 10);
  }

  // null: no hours given; {open: true}; or {open: false, at: Date it opens}.
  function openState(c, now, tz) {
    if (!c.hours || !c.hours.length) return null;
    var m = minuteOfWeek(now, tz), wait = WEEK;
    for (var i = 0; i < c.hours.length; i++) {
      var h = c.hours[i];
      if (h[0] <= m && m < h[1]) return { open: true };
      wait = Math.min(wait, (h[0] - m + WEEK) % WEEK);
    }
    var at = new Date(now.getTime() + wait * 60000);
    at.setSeconds(0, 0);
    return { open: false, at: at };
  }

  function duration(min, lang) {
    var unit = min >= 1440 && min % 1440 === 0 ? "day" : min >= 60 && min % 60 === 0 ? "hour" : "minute";
    var n = unit === "day" ? min / 1440 : unit === "hour" ? min / 60 : min;
    try { return new Intl.NumberFormat(lang, { style: "unit", unit: unit, unitDisplay: "short" }).format(n); } catch (e) { return n + " " + unit; }
  }

  function when(c, now, tz, t, lang) {
    var state = openState(c, now, tz), bits = [];
    if (state && state.open) bits.push(t.open_now);
    else if (state) {
      var at = new Intl.DateTimeFormat(lang, { weekday: "short", hour: "numeric", minute: "2-digit" }).format(state.at);
      bits.push(fill(t.opens, { when: at }));
    }
    if (c.reply_min && !(state && !state.open)) bits.push(fill(t.reply, { t: duration(c.reply_min, lang) }));
    return { text: bits.join(" · "), closed: !!(state && !state.open) };
  }

  // One entry per channel: the one for the shopper's country when a channel has several.
  function pick(contacts, country) {
    var byChannel = {}, order = [];
    (contacts || []).forEach(function (c) {
      if (!c || !SAFE_URL.test(String(c.url || ""))) return;
      var seen = byChannel[c.channel];
      if (!seen) { byChannel[c.channel] = c; order.push(c.channel); } else if (country && c.country === country && seen.country !== country) byChannel[c.channel] = c;
    });
    return order.map(function (ch) { return byChannel[ch]; });
  }

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text) n.textContent = text;
    return n;
  }

  function render(ul, cfg, ctx, t, lang, hooks) {
    hooks = hooks || {};
    ul.textContent = "";
    var now = new Date();
    var tz = cfg && cfg.timezone;
    var text = message(ctx, t);
    var subject = ctx.question ? fill(t.msg_subject, { q: ctx.question.slice(0, 120) }) : t.subject_help;
    var shown = pick(cfg && cfg.contacts, ctx.country || COUNTRY_OF_LANG[lang]);
    shown.forEach(function (c) {
      var a = el("a", "contact " + c.channel);
      a.href = href(c, text, subject);
      a.setAttribute("data-channel", c.channel);
      if (/^https?:/i.test(c.url)) { a.target = "_blank"; a.rel = "noopener"; }
      var w = when(c, now, tz, t, lang);
      if (w.closed) a.className += " closed";
      a.appendChild(el("span", "what", t[c.channel] || c.channel));
      a.appendChild(el("span", "how", c.label || ""));
      if (w.text) a.appendChild(el("span", "when", w.text));
      a.addEventListener("click", function () {
        if (c.channel === "messenger" && navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(function () { if (hooks.note) hooks.note(t.copied); }, function () {});
        }
        if (hooks.click) hooks.click(c);
      });
      var li = el("li");
      li.appendChild(a);
      ul.appendChild(li);
    });
    return shown.length;
  }

  window.KbHandoff = { render: render, message: message, openState: openState };
})();

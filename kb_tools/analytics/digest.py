"""The weekly digest: what a support lead should look at, as an HTML e-mail.

Top failing searches, new gaps (groups first seen in the period), articles that improved or
regressed (their contact rate against the period before), and stale content. Sent through the
SMTP server in the `KB_SMTP_*` settings, or written to a file.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from typing import Any

from kb_tools.analytics.metrics import DeflectionReport, iso_day
from kb_tools.errors import AnalyticsError

MIN_SESSIONS = 20  # an article needs this many viewing sessions in both periods to be compared
MOVED_POINTS = 5.0  # contact-rate change, in percentage points, that counts as improved/regressed


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool
    ssl: bool

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SmtpSettings:
        """KB_SMTP_HOST (required), KB_SMTP_PORT (587 with STARTTLS, 465 with SSL, else 25),
        KB_SMTP_USER / KB_SMTP_PASSWORD (optional), KB_SMTP_FROM (required),
        KB_SMTP_STARTTLS=1 / KB_SMTP_SSL=1."""
        env = dict(os.environ if env is None else env)
        host, sender = env.get("KB_SMTP_HOST", "").strip(), env.get("KB_SMTP_FROM", "").strip()
        missing = [name for name, value in (("KB_SMTP_HOST", host), ("KB_SMTP_FROM", sender)) if not value]
        if missing:
            raise AnalyticsError(f"{' and '.join(missing)} not set: set the SMTP settings (KB_SMTP_HOST, KB_SMTP_PORT, "
                                 "KB_SMTP_USER, KB_SMTP_PASSWORD, KB_SMTP_FROM) or write the digest with --out FILE")

        def flag(name: str) -> bool:
            value = env.get(name, "").strip().lower()
            if value not in ("", "0", "1", "true", "false", "yes", "no"):
                raise AnalyticsError(f"{name}={env[name]!r}: use 1 or 0")
            return value in ("1", "true", "yes")

        starttls, use_ssl = flag("KB_SMTP_STARTTLS"), flag("KB_SMTP_SSL")
        port_text = env.get("KB_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else (465 if use_ssl else 587 if starttls else 25)
        except ValueError:
            raise AnalyticsError(f"KB_SMTP_PORT={port_text!r} is not a port number") from None
        return cls(host, port, env.get("KB_SMTP_USER") or None, env.get("KB_SMTP_PASSWORD") or None, sender,
                   starttls, use_ssl)


def changed_articles(current: DeflectionReport, previous: DeflectionReport) -> list[dict[str, Any]]:
    """Articles and videos whose share of contacted viewing sessions moved by MOVED_POINTS or more."""
    before = {(i.kind, i.key): i for i in previous.items}
    out = []
    for it in current.items:
        old = before.get((it.kind, it.key))
        if old is None or it.sessions < MIN_SESSIONS or old.sessions < MIN_SESSIONS:
            continue
        now_pct, old_pct = 100 * it.contacted / it.sessions, 100 * old.contacted / old.sessions
        if abs(now_pct - old_pct) >= MOVED_POINTS:
            out.append({"kind": it.kind, "key": it.key, "title": it.title, "before_pct": round(old_pct, 1),
                        "now_pct": round(now_pct, 1), "improved": now_pct < old_pct})
    return sorted(out, key=lambda r: r["now_pct"] - r["before_pct"])


def render_digest(current: DeflectionReport, previous: DeflectionReport | None, *, site_url: str = "",
                  title: str = "Help center: your weekly digest") -> str:
    """One HTML e-mail, inline styles only (mail clients drop <style> blocks and scripts)."""
    def link(text: str, url: str) -> str:
        href = (site_url.rstrip("/") + url) if site_url else url
        return f'<a href="{escape(href, quote=True)}" style="color:#00796b">{escape(text)}</a>'

    def table(headers: list[str], rows: list[list[str]], empty: str) -> str:
        if not rows:
            return f'<p style="color:#5f6f6f">{escape(empty)}</p>'
        th = "".join(f'<th style="text-align:left;padding:4px 8px;border-bottom:2px solid #e2e8e8">{escape(h)}</th>'
                     for h in headers)
        body = "".join("<tr>" + "".join(f'<td style="padding:4px 8px;border-bottom:1px solid #e2e8e8">{c}</td>'
                                        for c in r) + "</tr>" for r in rows)
        return f'<table style="border-collapse:collapse;font-size:14px"><tr>{th}</tr>{body}</table>'

    k = current.kpis
    failing_rows = [[escape(t["query"]), escape(t["lang"]), f'{t["searches"]:,}',
                     "—" if t["no_answer_pct"] is None else f'{t["no_answer_pct"]:.0f}%']
                    for t in current.failing_searches[:10]]
    old_topics = {(g["lang"], q) for g in (previous.gaps if previous else []) for q in g["examples"]}
    new_gaps = [g for g in current.gaps if not any((g["lang"], q) in old_topics for q in g["examples"])]
    gap_rows = [[escape(g["topic"]), escape(g["lang"]), escape(g.get("kind", "")),
                 link(g["article"]["title"], g["article"]["page"]) if g.get("article") else "—",
                 f'{g.get("contacts_per_week", 0):,.1f}'] for g in new_gaps[:10]]
    moved = changed_articles(current, previous) if previous else []
    moved_rows = [[link(m["title"], m["key"] if m["kind"] == "article" else f"/videos/{m['key']}/"),
                   "improved" if m["improved"] else "regressed", f'{m["before_pct"]:.1f}% → {m["now_pct"]:.1f}%']
                  for m in moved]
    stale_rows = [[link(s["title"], s["key"]), escape(s["review_by"]), f'{s["views"]:,}'] for s in current.stale[:10]]
    period = f"{iso_day(current.since)} – {iso_day(current.until - 1)}"
    headline = (f'{k.get("sessions", 0):,} help-center sessions, {k.get("contacts", 0):,} contacts, '
                f'{k.get("searches", 0):,} searches'
                + (f', {k["no_answer_pct"]:.1f}% without an answer' if k.get("no_answer_pct") is not None else ""))
    h2 = 'style="font-size:17px;margin:24px 0 8px"'
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
            f'<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2a2a;max-width:720px">'
            f'<h1 style="font-size:21px">{escape(title)}</h1><p>{escape(period)}: {escape(headline)}.</p>'
            f'<h2 {h2}>Top failing searches</h2>'
            + table(["Query", "Lang", "Searches", "No answer"], failing_rows, "No search went unanswered.")
            + f'<h2 {h2}>New gaps</h2>'
            + table(["Shoppers asked", "Lang", "Kind", "Article", "Contacts / week"], gap_rows, "No new gap.")
            + f'<h2 {h2}>Articles that improved or regressed</h2>'
            + table(["Article", "", "Viewing sessions that contacted us"], moved_rows,
                    "No article moved by 5 points or more." if previous else "No earlier period to compare with.")
            + f'<h2 {h2}>Stale content</h2>'
            + table(["Article", "Review by", "Views"], stale_rows, "No article is past its review_by date.")
            + '<p style="color:#5f6f6f;font-size:12px">Sent by kb digest. The full dashboard: kb report.</p>'
            + "</body></html>")


def send_digest(html: str, to: list[str], settings: SmtpSettings, *, subject: str) -> None:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject, settings.sender, ", ".join(to)
    msg.set_content("This digest is HTML: open it in a mail client that shows HTML, or run kb report.")
    msg.add_alternative(html, subtype="html")
    where = f"SMTP server {settings.host}:{settings.port}"
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=30,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=30)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.user:
                client.login(settings.user, settings.password or "")
            client.send_message(msg)
    except smtplib.SMTPAuthenticationError:
        raise AnalyticsError(f"{where} refused KB_SMTP_USER/KB_SMTP_PASSWORD: check them") from None
    except (smtplib.SMTPException, OSError) as e:
        raise AnalyticsError(f"could not send the digest through {where}: {e}: check KB_SMTP_HOST/KB_SMTP_PORT "
                             "(and KB_SMTP_STARTTLS), or write it with --out FILE") from None

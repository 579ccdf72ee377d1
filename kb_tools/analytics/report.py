"""`kb report`: the deflection dashboard as one self-contained HTML file, plus CSV and JSON of
every table. Charts are inline SVG; the page makes no request to any host, so it opens from
disk, by e-mail or on a file share."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from kb_tools.analytics.metrics import DeflectionReport, deflecting_publications, iso_day
from kb_tools.errors import AnalyticsError

PALETTE = ["#00897b", "#e65100", "#3949ab", "#c2185b", "#6d4c41", "#7cb342", "#8e24aa", "#0288d1",
           "#f9a825", "#546e7a"]


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v + 0.0 if round(v, digits) != 0 else 0.0:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return escape(str(v))


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


class _Frame:
    """A chart's plotting area: maps (x in label units, y value) to SVG coordinates."""

    def __init__(self, width: int, height: int, n: int, ymax: float) -> None:
        self.left, self.right, self.top, self.bottom = 48, 16, 16, 40
        self.width, self.height, self.n, self.ymax = width, height, max(n, 2), ymax
        self.pw, self.ph = width - self.left - self.right, height - self.top - self.bottom

    def x(self, i: float) -> float:
        return self.left + self.pw * i / (self.n - 1)

    def y(self, v: float) -> float:
        return self.top + self.ph * (1 - v / self.ymax)


def line_chart(series: dict[str, list[float | None]], labels: list[str], *, title: str,
               markers: list[tuple[float, str]] = (), y_label: str = "", width: int = 760,
               height: int = 300) -> str:
    """An SVG line chart. `markers` are (x in week units, label) vertical lines."""
    values = [v for s in series.values() for v in s if v is not None]
    ymax = max(values, default=1) or 1
    step = _nice_step(ymax / 4)
    f = _Frame(width, height, len(labels), step * (int(ymax / step) + 1))
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           *_axes(f, step, labels, y_label), *_markers(f, markers), *_lines(f, series, labels), "</svg>"]
    legend = "".join(f'<li><span class="swatch" style="background:{PALETTE[k % len(PALETTE)]}"></span>{escape(name)}</li>'
                     for k, name in enumerate(series))
    return "".join(out) + (f'<ul class="legend">{legend}</ul>' if len(series) > 1 else "")


def _axes(f: _Frame, step: float, labels: list[str], y_label: str) -> list[str]:
    out = []
    tick = 0.0
    while tick <= f.ymax + 1e-9:
        out.append(f'<line class="grid" x1="{f.left}" x2="{f.width - f.right}" y1="{f.y(tick):.1f}" y2="{f.y(tick):.1f}"/>'
                   f'<text class="axis" x="{f.left - 6}" y="{f.y(tick) + 4:.1f}" text-anchor="end">{_fmt(tick, 0) if tick >= 1 or tick == 0 else f"{tick:.1f}"}</text>')
        tick += step
    every = max(1, len(labels) // 10)
    for i, lab in enumerate(labels):
        if i % every == 0:
            out.append(f'<text class="axis" x="{f.x(i):.1f}" y="{f.height - f.bottom + 18}" text-anchor="middle">{escape(lab)}</text>')
    if y_label:
        out.append(f'<text class="axis" x="{f.left}" y="{f.top - 4}">{escape(y_label)}</text>')
    return out


def _markers(f: _Frame, markers: list[tuple[float, str]]) -> list[str]:
    out = []
    for m, (pos, label) in enumerate(markers):
        mx = f.x(pos)
        anchor, dx = ("end", -4) if pos > (f.n - 1) * 0.6 else ("start", 4)
        out.append(f'<line class="marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{f.top}" y2="{f.height - f.bottom}"/>'
                   f'<text class="marker-label" x="{mx + dx:.1f}" y="{f.top + 12 + 14 * m}" '
                   f'text-anchor="{anchor}">{escape(label)}</text>')
    return out


def _lines(f: _Frame, series: dict[str, list[float | None]], labels: list[str]) -> list[str]:
    out = []
    for k, (name, vals) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        pts = [f"{f.x(i):.1f},{f.y(v):.1f}" for i, v in enumerate(vals) if v is not None]
        if pts:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2.2" points="{" ".join(pts)}">'
                       f'<title>{escape(name)}</title></polyline>')
            out.extend(f'<circle cx="{f.x(i):.1f}" cy="{f.y(v):.1f}" r="3" fill="{color}">'
                       f'<title>{escape(name)} · {escape(labels[i])}: {_fmt(v)}</title></circle>'
                       for i, v in enumerate(vals) if v is not None)
    return out


def _nice_step(raw: float) -> float:
    if raw <= 0:
        return 1.0
    mag = 10 ** int(f"{raw:e}".split("e")[1])
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _table(table_id: str, headers: list[tuple[str, str]], rows: list[list[tuple[Any, str]]], caption: str,
           keys: list[str] | None = None) -> str:
    """headers: (label, "num"|"text"); rows: cells as (sort value, html); keys: each row's
    data-key (the date filter finds its weekly figures by it)."""
    head = "".join(f'<th scope="col" class="{kind}"><button type="button" data-col="{i}">{escape(label)}</button></th>'
                   for i, (label, kind) in enumerate(headers))
    body = []
    for n, row in enumerate(rows):
        cells = []
        for (sort, html), (_, kind) in zip(row, headers, strict=True):
            sv = "" if sort is None else escape(str(sort), quote=True)
            cells.append(f'<td class="{kind}" data-v="{sv}">{html}</td>')
        key = f' data-key="{escape(keys[n], quote=True)}"' if keys else ""
        body.append(f"<tr{key}>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table id="{table_id}" class="sortable"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


KPI_DEFINITIONS = (
    ("Help-center sessions", "sessions", 0, "Anonymous visits (no cookie) to the help site or the widget in the period."),
    ("Contacts", "contacts", 0, "Logged calls and tickets (contact-link clicks when no call log was imported)."),
    ("Self-service score", "self_service_score", 2, "Help-center sessions per contact: higher is better."),
    ("Searches", "searches", 0, "Settled searches: once per search, not per keystroke."),
    ("No-answer rate", "no_answer_pct", 1, "Searches search had no answer for, among those whose outcome is known."),
    ("Search click-through", "ctr_pct", 1, "Result clicks per search."),
    ("Estimated calls deflected", "est_calls_deflected", 0,
     "Calls each publication took off its topic, estimated against the other topics (seasons cancel out)."),
    ("Confirmed deflections", "confirmed_deflections", 0,
     "Viewing sessions that said the page helped and did not contact support: counted, not estimated."),
)


def _link(title: str, url: str, site_url: str) -> str:
    href = (site_url.rstrip("/") + url) if site_url else url
    return f'<a href="{escape(href, quote=True)}">{escape(title)}</a>'


def render_html(report: DeflectionReport, *, title: str = "Help center deflection report", site_url: str = "") -> str:
    """The dashboard page: one section per table or chart, each built by its own function."""
    labels = [datetime.fromisoformat(w.start).strftime("%d %b") for w in report.weeks]
    period = f"{iso_day(report.since)} – {iso_day(report.until - 1)}"
    downloads = " · ".join(f'<a href="{n}">{n}</a>' for n in
                           ("items.csv", "publications.csv", "weeks.csv", "topic_weeks.csv", "gaps.csv", "report.json"))
    return TEMPLATE.format(
        title=escape(title), period=escape(period), window=_fmt(report.window_hours, 0),
        generated=escape(report.generated), cards=_kpi_cards(report.kpis), calls_chart=_calls_chart(report, labels),
        score_chart=line_chart({"Self-service score": [w.self_service_score for w in report.weeks]}, labels,
                               title="Self-service score by week (help-center sessions per contact)",
                               y_label="sessions per contact", width=420, height=300),
        items_table=_items_section(report, site_url), pub_table=_publications_section(report),
        gaps=_gaps_section(report, site_url), downloads=downloads, css=CSS, js=JS, csp=CSP,
        languages=_languages_section(report), top_searches=_top_searches_section(report),
        feedback=_feedback_section(report, site_url), stale=_stale_section(report, site_url),
        weeks=_weeks_section(report), first=iso_day(report.since), last=iso_day(report.until - 1),
        data=_filter_data(report),
    )


def _kpi_cards(k: dict[str, Any]) -> str:
    """The headline figures, each with its one-line definition."""
    cards = []
    for label, key, digits, definition in KPI_DEFINITIONS:
        value = k.get(key)
        shown = _fmt(float(value) if isinstance(value, float) else value, digits) + ("%" if key.endswith("_pct") and value is not None else "")
        note = definition
        if key == "contacts" and not k.get("calls"):
            note = "Contact-link clicks: no call log was imported."
        cards.append(f'<div class="kpi"><div class="kpi-label">{escape(label)}</div>'
                     f'<div class="kpi-value" data-kpi="{key}" data-digits="{digits}">{shown}</div>'
                     f'<div class="kpi-note">{escape(note)}</div></div>')
    return "".join(cards)


def _calls_chart(report: DeflectionReport, labels: list[str]) -> str:
    """Calls per topic and week, with a marker at each publication."""
    # Each weekly point sits on its week's label (the Monday it starts): a publication is drawn
    # at its own date on that scale, so one on Monday 26 Oct sits on the "26 Oct" point.
    last = max(len(report.weeks) - 1, 0)
    markers = [(min(max(p["week"], 0), last), f"{p['title']} ({p['kind']}, {iso_day(p['published'])})")
               for p in report.publications]
    topic_series: dict[str, list[float | None]] = {t: [float(v) for v in vals] for t, vals in report.topic_weeks.items()}
    if not topic_series:
        return '<p class="empty">No call log imported yet: <code>kb calls import calls.csv</code></p>'
    return line_chart(topic_series, labels, title="Calls and tickets per week, by contact topic",
                      markers=markers, y_label="calls / week")


def _items_section(report: DeflectionReport, site_url: str) -> str:
    """Per article and video: views, sessions, outcomes, feedback and the change in calls."""
    item_rows, item_keys = [], []
    for it in report.items:
        if not it.sessions and not it.views and it.rate_before is None:
            continue
        item_keys.append(f"{it.kind}:{it.key}")
        contacted = _pct(it.contacted, it.sessions)
        url = it.key if it.kind == "article" else f"/videos/{it.key}/"
        item_rows.append([
            (it.title.lower(), f'<span class="title">{_link(it.title, url, site_url)}</span>'
                               f'<span class="key"><span class="badge {it.kind}">{it.kind}</span> {escape(it.lang)} · '
                               f'{escape(it.contact_topic or "no topic")}</span>'),
            (it.views, _fmt(it.views)),
            (it.sessions, _fmt(it.sessions)),
            (contacted, _fmt(contacted) + ("%" if contacted is not None else "")),
            (it.potential_deflections, _fmt(it.potential_deflections)),
            (it.confirmed_deflections, _fmt(it.confirmed_deflections)),
            (it.helpful_pct, _fmt(it.helpful_pct) + ("%" if it.helpful_pct is not None else "")),
            (it.change_pct, _effect(it)),
        ])
    return _table("items", [
        ("Article / video", "text"), ("Views", "num"), ("Sessions", "num"), ("Contacted", "num"),
        ("Potential deflections", "num"), ("Confirmed", "num"), ("Helpful", "num"), ("Change in calls", "num"),
    ], item_rows, "Per article and video (click a heading to sort). Views: page views or plays; "
                  "Sessions: distinct sessions that viewed it.", item_keys)


def _publications_section(report: DeflectionReport) -> str:
    """Each dated publication's change in calls against the other topics, and the plain one."""
    pub_rows = []
    for it in report.items:
        if it.rate_before is None and it.change_pct is None:
            continue
        pub_rows.append([
            (it.title.lower(), escape(it.title)), (it.kind, escape(it.kind)), (it.contact_topic, escape(it.contact_topic)),
            (it.published, iso_day(it.published) if it.published else "—"),
            (it.change_pct, _effect(it)), (it.verdict or "", escape(it.verdict or "—")),
            (it.plain_change_pct, _change(it.plain_change_pct)),
            (it.est_calls_deflected, _fmt(it.est_calls_deflected)),
        ])
    if not pub_rows:
        return '<p class="empty">No publication inside the period with data before and after it.</p>'
    return _table("impact", [("Published item", "text"), ("Kind", "text"), ("Topic", "text"), ("Published", "text"),
                             ("Change vs other topics (95 % interval)", "num"), ("Verdict", "text"),
                             ("Plain before/after", "num"), ("Est. calls deflected", "num")], pub_rows,
                  f"Calls on the topic {report.kpis.get('ba_weeks', 4)} weeks before and after publication, "
                  "against the other topics over the same days")


def _gap_target(g: dict[str, Any], site_url: str) -> str:
    art = g.get("article")
    if not art:
        return "—"
    target = _link(art["title"], art["page"], site_url)
    if g.get("failure_pct") is not None:
        target += f'<span class="key">{_fmt(g["failure_pct"])}% of its readers contacted support</span>'
    return target


def _gaps_section(report: DeflectionReport, site_url: str) -> str:
    """The content gaps: missing, not found or failing, with the article concerned."""
    gap_rows = []
    for g in report.gaps:
        art = g.get("article")
        kind = g.get("kind", "")
        gap_rows.append([
            (g["topic"], f'<strong>{escape(g["topic"])}</strong><span class="key">{escape(" · ".join(g["examples"]))}</span>'),
            (g["lang"], escape(g["lang"])),
            (kind, f'<span class="badge gap-{escape(kind.replace(" ", "-"))}">{escape(kind)}</span>'),
            (art["title"].lower() if art else "", _gap_target(g, site_url)),
            (g["searches"], _fmt(g["searches"])), (g["no_result"], _fmt(g["no_result"])),
            (g.get("contacts_per_week"), _fmt(g.get("contacts_per_week"))),
        ])
    if not gap_rows:
        return '<p class="empty">No failing searches in this period.</p>'
    return _table("gaps", [("Shoppers asked", "text"), ("Lang", "text"), ("Kind", "text"), ("Article", "text"),
                           ("Searches", "num"), ("No answer", "num"), ("Contacts / week", "num")], gap_rows,
                  "Missing: nothing covers it, write it. Not found: an article covers it but search did not "
                  "surface it for these words, add them. Failing: shoppers reached the article and still "
                  "contacted us, improve it.")


def _languages_section(report: DeflectionReport) -> str:
    lang_rows = [[(r["lang"], escape(r["lang"])), (r["sessions"], _fmt(r["sessions"])), (r["page_views"], _fmt(r["page_views"])),
                  (r["searches"], _fmt(r["searches"])), (r["no_answer_pct"], _pctf(r["no_answer_pct"])),
                  (r["ctr_pct"], _pctf(r["ctr_pct"])), (r["contact_clicks"], _fmt(r["contact_clicks"]))]
                 for r in report.languages]
    return _table("languages", [("Language", "text"), ("Sessions", "num"), ("Page views", "num"), ("Searches", "num"),
                                ("No answer", "num"), ("Click-through", "num"), ("Contact clicks", "num")],
                  lang_rows, "Per page language", [r["lang"] for r in report.languages])


def _top_searches_section(report: DeflectionReport) -> str:
    top_rows = [[(t["query"], escape(t["query"])), (t["lang"], escape(t["lang"])), (t["searches"], _fmt(t["searches"])),
                 (t["no_answer_pct"], _pctf(t["no_answer_pct"])), (t["opened_pct"], _pctf(t["opened_pct"]))]
                for t in report.top_searches]
    return _table("top-searches", [("Query", "text"), ("Lang", "text"), ("Searches", "num"), ("No answer", "num"),
                                   ("Opened an answer", "num")], top_rows, "Most frequent searches",
                  [f'{t["lang"]}:{t["query"]}' for t in report.top_searches])


def _feedback_section(report: DeflectionReport, site_url: str) -> str:
    """Per page: yes/no counts, the "No" reasons grouped, and the dated comments."""
    fb_parts = []
    for f in report.feedback[:30]:
        reasons = "".join(f'<li><strong>{r["count"]}×</strong> {escape(" · ".join(r["examples"]))}</li>'
                          for r in f["no_reasons"])
        comments = "".join(f'<li data-day="{iso_day(c["ts"])}"><span class="badge {"yes" if c["helpful"] else "no"}">'
                           f'{"Yes" if c["helpful"] else "No"}</span> {iso_day(c["ts"])}: {escape(c["comment"])}</li>'
                           for c in f["comments"])
        helpful = f" ({_fmt(f['helpful_pct'])}% helpful)" if f["helpful_pct"] is not None else ""
        fb_parts.append(f'<details><summary>{_link(f["title"], f["page"], site_url)} — {f["yes"]} yes, {f["no"]} no'
                        f'{helpful}</summary>'
                        + (f'<h3>Why "No"</h3><ul>{reasons}</ul>' if reasons else "")
                        + (f'<h3>Comments</h3><ul class="dated">{comments}</ul>' if comments else "") + "</details>")
    return "".join(fb_parts) or '<p class="empty">No feedback in this period.</p>'


def _stale_section(report: DeflectionReport, site_url: str) -> str:
    stale_rows = [[(r["title"].lower(), _link(r["title"], r["key"], site_url)), (r["review_by"], escape(r["review_by"])),
                   (r["days_overdue"], _fmt(r["days_overdue"])), (r["views"], _fmt(r["views"]))] for r in report.stale]
    if not stale_rows:
        return '<p class="empty">No article is past its review_by date.</p>'
    return _table("stale", [("Article", "text"), ("Review by", "text"), ("Days overdue", "num"), ("Views", "num")],
                  stale_rows, "Past their review_by date, busiest first")


def _weeks_section(report: DeflectionReport) -> str:
    week_rows = [[(w.start, escape(w.start)), (w.sessions, _fmt(w.sessions)), (w.calls, _fmt(w.calls)),
                  (w.contact_clicks, _fmt(w.contact_clicks)), (w.self_service_score, _fmt(w.self_service_score, 2))]
                 for w in report.weeks]
    return _table("weeks", [("Week of", "text"), ("Sessions", "num"), ("Calls", "num"), ("Contact clicks", "num"),
                            ("Self-service score", "num")], week_rows, "Per week (Monday to Monday, UTC)")


def _filter_data(report: DeflectionReport) -> str:
    """The weekly figures the date filter sums in the page, as JSON safe inside <script>."""
    data = {
        "first": iso_day(report.since), "weeks": [[w.sessions, w.calls, w.contacts] for w in report.weeks],
        "items": report.item_weeks, "langs": report.lang_weeks, "queries": report.query_weeks,
        "deflections": [[(t - report.since) // 86_400_000, est] for t, est in deflecting_publications(report.items)],
        "top": len(report.top_searches),
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _pctf(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}%"


def _effect(it: Any) -> str:
    if it.change_pct is None:
        return _change(it.plain_change_pct) if it.plain_change_pct is not None else "—"
    interval = f'<span class="key">{it.change_low:+.1f} to {it.change_high:+.1f}</span>' if it.change_low is not None else ""
    noise = " noise" if it.verdict and "noise" in it.verdict else ""
    return f'<span class="chg-wrap{noise}">{_change(it.change_pct)}{interval}</span>'


def _change(v: float | None) -> str:
    if v is None:
        return "—"
    cls = "down" if v < -0.5 else "up" if v > 0.5 else "flat"
    return f'<span class="chg {cls}">{v:+.1f}%</span>'


MARKER = ".kb-report"  # in every folder kb report writes; only such a folder is ever replaced
MARKER_TEXT = "This folder was written by `kb report`; the next `kb report --out` into it replaces it.\n"


def output_folder(out_dir: Path) -> Path:
    """`out_dir` if a report may be written there: a new folder, an empty one, or one an earlier
    report wrote (it holds MARKER). Anything else (`docs`, `.`, a home folder) would be
    replaced wholesale, so it is refused and left as it is."""
    out = Path(out_dir).absolute()
    where = f"--out {out_dir}"
    if out == out.parent or out in Path.cwd().absolute().parents or out == Path.cwd().absolute():
        raise AnalyticsError(f"{where} is the current folder or one above it, which kb report would replace: "
                             "give a folder of its own, e.g. --out report")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise AnalyticsError(f"{where} is not a folder: give a folder name, e.g. --out report")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise AnalyticsError(f"{where} holds files kb report did not write, and a report replaces the whole "
                             "folder: give a new folder (kb report creates it) or an empty one; nothing was changed")
    return out


def write_report(report: DeflectionReport, out_dir: Path, *, title: str = "Help center deflection report",
                 site_url: str = "") -> Path:
    """Write index.html, the CSVs and report.json into `out_dir` (swapped in atomically; see
    `output_folder` for which folders may be replaced)."""
    out_dir = output_folder(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    except OSError as e:
        raise AnalyticsError(f"cannot write the report to {out_dir}: {e.strerror}: choose another --out") from None
    try:
        (tmp / "index.html").write_text(render_html(report, title=title, site_url=site_url), encoding="utf-8")
        data = report.to_dict()
        (tmp / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        _csv(tmp / "items.csv", data["items"])
        _csv(tmp / "weeks.csv", data["weeks"])
        _csv(tmp / "publications.csv", [{**p, "published": iso_day(p["published"])} for p in data["publications"]])
        _csv(tmp / "topic_weeks.csv", [{"topic": t, "week": i, "week_start": report.weeks[i].start, "calls": n}
                                       for t, vals in report.topic_weeks.items() for i, n in enumerate(vals)])
        _csv(tmp / "gaps.csv", [{**{k: v for k, v in g.items() if k != "article"}, "examples": " | ".join(g["examples"]),
                                 "article": (g.get("article") or {}).get("page", "")} for g in data["gaps"]])
        (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir / "index.html"


# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) that
# sends the next cell to another site): such text cells get a leading apostrophe, as OWASP
# recommends. Numbers are numbers, negative or not.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text, never runs."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        if not rows:
            f.write("")
            return
        names = list(dict.fromkeys(k for row in rows for k in row))  # rows may differ (gaps without an article)
        w = csv.DictWriter(f, fieldnames=names, restval="")
        w.writeheader()
        w.writerows({k: cell(v) for k, v in row.items()} for row in rows)


CSS = """
:root{--bg:#f6f8f8;--card:#fff;--ink:#1d2a2a;--muted:#5f6f6f;--line:#e2e8e8;--brand:#00796b;--down:#2e7d32;--up:#c62828}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Bengali","Noto Sans Gujarati",sans-serif;background:var(--bg);color:var(--ink)}
header{background:var(--brand);color:#fff;padding:24px 32px}header h1{margin:0 0 4px;font-size:1.6rem;font-weight:600}header p{margin:0;opacity:.9}
main{max-width:1280px;margin:0 auto;padding:24px 32px 48px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:0 0 24px}
h2{font-size:1.15rem;margin:0 0 12px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:16px;margin:0 0 24px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px;border-top:4px solid var(--brand)}
.kpi-label{color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}.kpi-value{font-size:2rem;font-weight:650;margin:4px 0}
.kpi-note{color:var(--muted);font-size:.82rem}
.grid2{display:grid;grid-template-columns:2fr 1fr;gap:24px}.grid2 section{margin:0}
@media (max-width:900px){.grid2{grid-template-columns:1fr}main{padding:16px}header{padding:18px 16px}}
.chart{width:100%;height:auto;display:block}.chart .grid{stroke:var(--line)}.chart .axis{font-size:11px;fill:var(--muted)}
.chart .marker{stroke:#e65100;stroke-dasharray:5 4;stroke-width:1.5}.chart .marker-label{font-size:11px;fill:#e65100;font-weight:600}
.legend{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px 16px;font-size:.85rem}.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-1px}
.table-wrap{overflow-x:auto;margin:0 0 12px}table{border-collapse:collapse;width:100%;font-size:.88rem}
caption{text-align:left;color:var(--muted);padding:0 0 8px;font-size:.85rem}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th button{all:unset;cursor:pointer;font-weight:600;color:var(--ink)}th button:focus-visible{outline:2px solid var(--brand);outline-offset:2px}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
thead th{position:sticky;top:0;background:#f0f4f4}tbody tr:hover{background:#f7fbfa}
.title{display:block;font-weight:550}.key{display:block;color:var(--muted);font-size:.78rem}
.badge{font-size:.75rem;padding:1px 8px;border-radius:10px;background:#e0f2f1;color:#00695c}.badge.video{background:#fff3e0;color:#e65100}
.chg.down{color:var(--down);font-weight:600}.chg.up{color:var(--up);font-weight:600}.chg.flat{color:var(--muted)}
.grid2.even{grid-template-columns:1fr 1fr}.grid2>section{min-width:0}.filter{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:0 0 16px}
.filter input{font:inherit;padding:4px 6px}details{border-bottom:1px solid var(--line);padding:6px 0}summary{cursor:pointer}
details h3{font-size:.9rem;margin:8px 0 4px}details ul{margin:0 0 8px;padding-left:20px}
.badge.gap-missing{background:#ffebee;color:#c62828}.badge.gap-not-found{background:#fff8e1;color:#8d6e00}.badge.gap-failing{background:#ede7f6;color:#4527a0}
.badge.yes{background:#e8f5e9;color:#2e7d32}.badge.no{background:#ffebee;color:#c62828}.chg-wrap.noise .chg{color:var(--muted)}
td a{color:var(--brand)}.empty{color:var(--muted)}footer{color:var(--muted);font-size:.85rem}footer dt{font-weight:600;color:var(--ink)}footer dd{margin:0 0 8px}
"""

JS = """
(function(){
  var from = document.getElementById('kb-from'), to = document.getElementById('kb-to');
  var el = document.getElementById('kb-data');
  if (!from || !to || !el) return;
  var D = JSON.parse(el.textContent), DAY = 86400000, first = Date.parse(D.first);
  function fmt(v, digits, pct){
    if (v === null || v === undefined || !isFinite(v)) return '\u2014';
    return v.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}) + (pct ? '%' : '');
  }
  function pct(part, whole){ return whole ? Math.round(1000 * part / whole) / 10 : null; }
  function sum(rows, inRange){  // rows: [week, a, b, ...] -> [a, b, ...] over the weeks in range
    var out = null;
    (rows || []).forEach(function(r){
      if (!inRange(r[0])) return;
      if (!out) out = r.slice(1).map(function(){ return 0; });
      for (var i = 1; i < r.length; i++) out[i - 1] += r[i];
    });
    return out || [];
  }
  function set(td, v, text){ td.dataset.v = v === null ? '' : v; td.textContent = text; }
  function kpi(key, v){
    var node = document.querySelector('[data-kpi="' + key + '"]');
    if (node) node.textContent = fmt(v, +node.dataset.digits, key.slice(-4) === '_pct');
  }
  function apply(){
    var a = from.value || '0000-01-01', b = to.value || '9999-12-31';
    var lo = Date.parse(a), hi = Date.parse(b);
    // A week is in the range when it overlaps [a, b]; a day when it is inside.
    function inRange(w){ var s = first + w * 7 * DAY; return s <= hi && s + 6 * DAY >= lo; }
    function dayIn(d){ var t = first + d * DAY; return t >= lo && t <= hi; }
    document.querySelectorAll('#weeks tbody tr').forEach(function(tr){
      var d = Date.parse(tr.cells[0].dataset.v);
      tr.hidden = !(d <= hi && d + 6 * DAY >= lo);
    });
    document.querySelectorAll('ul.dated li').forEach(function(li){
      var d = li.dataset.day; li.hidden = d < a || d > b;
    });
    var sessions = 0, calls = 0, contacts = 0;
    D.weeks.forEach(function(w, i){ if (inRange(i)) { sessions += w[0]; calls += w[1]; contacts += w[2]; } });
    kpi('sessions', sessions); kpi('contacts', contacts);
    kpi('self_service_score', contacts ? Math.round(100 * sessions / contacts) / 100 : null);
    var searches = 0, known = 0, noAnswer = 0, clicks = 0;
    document.querySelectorAll('#languages tbody tr').forEach(function(tr){
      var t = sum(D.langs[tr.dataset.key], inRange), c = tr.cells;  // LANG_WEEK_FIELDS
      t = t.length ? t : [0, 0, 0, 0, 0, 0, 0];
      set(c[1], t[0], fmt(t[0], 0)); set(c[2], t[1], fmt(t[1], 0)); set(c[3], t[2], fmt(t[2], 0));
      var na = pct(t[4], t[3]), ctr = pct(t[5], t[2]);
      set(c[4], na, fmt(na, 1, true)); set(c[5], ctr, fmt(ctr, 1, true)); set(c[6], t[6], fmt(t[6], 0));
    });
    Object.keys(D.langs).forEach(function(lang){
      var t = sum(D.langs[lang], inRange);
      if (t.length) { searches += t[2]; known += t[3]; noAnswer += t[4]; clicks += t[5]; }
    });
    kpi('searches', searches); kpi('no_answer_pct', pct(noAnswer, known)); kpi('ctr_pct', pct(clicks, searches));
    var confirmed = 0;
    document.querySelectorAll('#items tbody tr').forEach(function(tr){
      var t = sum(D.items[tr.dataset.key], inRange), c = tr.cells;  // views, sessions, contacted, confirmed, answers, yes
      t = t.length ? t : [0, 0, 0, 0, 0, 0];
      var contacted = pct(t[2], t[1]), helpful = pct(t[5], t[4]);
      set(c[1], t[0], fmt(t[0], 0)); set(c[2], t[1], fmt(t[1], 0)); set(c[3], contacted, fmt(contacted, 1, true));
      set(c[4], t[1] - t[2], fmt(t[1] - t[2], 0)); set(c[5], t[3], fmt(t[3], 0)); set(c[6], helpful, fmt(helpful, 1, true));
    });
    Object.keys(D.items).forEach(function(key){
      if (key.indexOf('article:') === 0) { var t = sum(D.items[key], inRange); if (t.length) confirmed += t[3]; }
    });
    kpi('confirmed_deflections', confirmed);
    var est = 0;
    D.deflections.forEach(function(p){ if (dayIn(p[0])) est += p[1]; });
    kpi('est_calls_deflected', Math.round(est));
    var top = D.queries.map(function(q){  // searches, known, no answer, opened, outcome known, failed
      return {q: q, t: sum(q.weeks, inRange)};
    }).filter(function(x){ return x.t.length && x.t[0] > 0; });
    top.sort(function(x, y){ return y.t[0] - x.t[0] || (x.q.query < y.q.query ? -1 : x.q.query > y.q.query ? 1 : 0); });
    var body = document.querySelector('#top-searches tbody');
    if (body) {
      body.textContent = '';
      top.slice(0, D.top).forEach(function(x){
        var tr = document.createElement('tr'), t = x.t, na = pct(t[2], t[1]), op = pct(t[3], t[4]);
        tr.dataset.key = x.q.lang + ':' + x.q.query;
        [[x.q.query, x.q.query, 'text'], [x.q.lang, x.q.lang, 'text'], [t[0], fmt(t[0], 0), 'num'],
         [na, fmt(na, 1, true), 'num'], [op, fmt(op, 1, true), 'num']].forEach(function(cell){
          var td = document.createElement('td'); td.className = cell[2]; set(td, cell[0], cell[1]); tr.appendChild(td);
        });
        body.appendChild(tr);
      });
    }
  }
  from.addEventListener('change', apply); to.addEventListener('change', apply);
})();
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th button').forEach(function(btn){
    btn.addEventListener('click', function(){
      var th = btn.parentElement, col = +btn.dataset.col, num = th.classList.contains('num');
      var dir = th.getAttribute('aria-sort') === 'descending' ? 'ascending' : 'descending';
      table.querySelectorAll('th').forEach(function(h){ h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir);
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v, y = b.cells[col].dataset.v, r;
        if (num) { x = x === '' ? -Infinity : +x; y = y === '' ? -Infinity : +y; r = x - y; }
        else { r = x.localeCompare(y); }
        return dir === 'ascending' ? r : -r;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
});
"""

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title><style>{css}</style></head>
<body><header><h1>{title}</h1><p>{period} · outcome window {window} h · generated {generated}</p></header>
<main>
<form class="filter" aria-label="Date filter"><label>From <input type="date" id="kb-from" value="{first}" min="{first}" max="{last}"></label>
<label>To <input type="date" id="kb-to" value="{last}" min="{first}" max="{last}"></label>
<span class="key" id="kb-filter-note">the figures, the tables of articles, languages and searches, the weeks and the dated comments follow these dates (whole weeks); publication effects and content gaps cover the whole period</span></form>
<div class="kpis">{cards}</div>
<div class="grid2">
<section><h2>Calls per week by contact topic</h2>{calls_chart}</section>
<section><h2>Self-service score by week</h2>{score_chart}</section>
</div>
<section style="margin-top:24px"><h2>What publishing did to calls</h2>{pub_table}</section>
<section><h2>Content gaps: what to write or fix next</h2>{gaps}</section>
<section><h2>Articles and videos</h2>{items_table}</section>
<div class="grid2 even">
<section><h2>Searches by language</h2>{languages}</section>
<section><h2>Top searches</h2>{top_searches}</section>
</div>
<section style="margin-top:24px"><h2>What readers said</h2>{feedback}</section>
<section><h2>Stale content</h2>{stale}</section>
<section><h2>Weeks</h2>{weeks}</section>
<footer><section><h2>How to read this</h2><dl>
<dt>Viewing session</dt><dd>An anonymous session (no cookie, no IP address) that opened the article or played the video; its outcome is judged over the window after the first view. Views count every page view or play; Sessions count each session once.</dd>
<dt>Contacted · potential · confirmed deflection</dt><dd>Contacted: a contact-link click, or a logged call or ticket carrying that session id on the item's topic, within the window. Potential deflection: not contacted. Confirmed: not contacted and answered "Was this page helpful?" with yes. Calls without a session id cannot be tied to a session, so these per-session figures are upper bounds; such calls count in everything per topic and per week.</dd>
<dt>Change in calls, interval, verdict</dt><dd>Calls on the item's topic after its publication against before, divided by the same ratio for the other topics over the same days (a difference-in-differences): a rush or a sale that raises every topic cancels out. The interval is a 95 % bootstrap by day; when it contains 0 the change is not distinguishable from noise. Plain before/after: calls per 1,000 sessions before and after, which a season moves too. Estimated calls deflected: calls expected without the item minus calls seen, after publication.</dd>
<dt>Self-service score</dt><dd>Help-center sessions per contact in the week: higher is better.</dd>
<dt>Content gaps</dt><dd>Searches search had no answer for, that opened nothing, or after which the shopper contacted support, grouped by what they ask per language and matched against the articles and videos.</dd>
</dl><p>Data: {downloads}</p></section></footer>
</main><script type="application/json" id="kb-data">{data}</script><script>{js}</script></body></html>
"""


# The dashboard shows what shoppers typed: even if a query slipped past escaping, the page runs
# no script but its own (by hash), loads nothing and sends nothing anywhere. Inline styles stay
# allowed (the charts' colours); they cannot run code.
CSP = ("default-src 'none'; "
       f"script-src 'sha256-{base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()}'; "
       "style-src 'unsafe-inline'; img-src data:; base-uri 'none'")

"""Deflection metrics, aggregated in SQL (the same SQL on SQLite and PostgreSQL).

Definitions (the README repeats them for support leads):
- A *viewing session* of an article is a session with a page_view of it; of a video, a session
  with a video_play of it. It starts at the first view.
- It is *contacted* when, within the window after that first view (24 h by default), the
  session clicked a contact link, or a logged call/ticket carries the session id and is on the
  item's contact_topic (any topic when the item has none).
- *Potential deflection*: not contacted. *Confirmed deflection*: not contacted, and the shopper
  answered "Was this page helpful?" with yes (for a video: on the page where it was played).
- Calls without a session id cannot be tied to a session, so they never mark one contacted
  (per-session outcomes are therefore an upper bound); they do count, like all calls, in the
  calls per topic, the calls per 1,000 sessions and the self-service score.
- *Calls per 1,000 sessions*: calls on a topic divided by help-center sessions, both over whole
  weeks. For an item with a publication time, *before* is the 4 weeks up to the week it was
  published in and *after* the 4 weeks from the first full week after it (a publication exactly
  at a week start splits there). *Change* is (after - before) / before. *Estimated calls
  deflected* = (before - after) / 1000 x sessions in the after weeks.
- *Self-service score* of a week: help-center sessions per contact (logged calls; contact clicks
  when no call log was imported).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kb_tools.analytics.store import EventStore

HOUR = 3_600_000
DAY = 24 * HOUR
WEEK = 7 * DAY


@dataclass
class _Meta:
    kind: str
    key: str
    title: str
    contact_topic: str = ""
    lang: str = "en"
    url: str = ""
    published: int | None = None


@dataclass
class ItemStats:
    kind: str  # article | video
    key: str  # page path or video id
    title: str
    lang: str
    contact_topic: str
    published: int | None
    views: int = 0
    sessions: int = 0
    contacted: int = 0
    potential_deflections: int = 0
    confirmed_deflections: int = 0
    feedback: int = 0
    helpful: int = 0
    helpful_pct: float | None = None
    rate_before: float | None = None  # calls on the topic per 1,000 sessions
    rate_after: float | None = None
    change_pct: float | None = None
    est_calls_deflected: float | None = None


@dataclass
class WeekStats:
    week: int
    start: str  # ISO date
    sessions: int
    calls: int
    contact_clicks: int
    contacts: int
    self_service_score: float | None


@dataclass
class DeflectionReport:
    since: int
    until: int
    window_hours: float
    generated: str
    kpis: dict[str, Any] = field(default_factory=dict)
    items: list[ItemStats] = field(default_factory=list)
    weeks: list[WeekStats] = field(default_factory=list)
    topic_weeks: dict[str, list[int]] = field(default_factory=dict)  # topic -> calls per week
    publications: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date().isoformat()


def week_floor(ms: int) -> int:
    """Monday 00:00 UTC of the week holding `ms`."""
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    day = int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)
    return day - d.weekday() * DAY


def data_range(store: EventStore) -> tuple[int, int] | None:
    with store.connect() as conn:
        ends = [v for sql in ("SELECT MIN(ts) FROM events", "SELECT MAX(ts) FROM events",
                              "SELECT MIN(ts) FROM calls", "SELECT MAX(ts) FROM calls")
                if (v := conn.execute(sa.text(sql)).scalar()) is not None]
    if not ends:
        return None
    return int(min(ends)), int(max(ends))


# Outcome of each (session, item) viewing; {key} is `page` for articles, `video` for videos.
_OUTCOMES = """
WITH v AS (
  SELECT e.session, e.{key} AS item, MIN(e.ts) AS t0, MIN(e.page) AS page, COUNT(*) AS n
  FROM events e
  WHERE e.name = :view AND e.ts >= :since AND e.ts < :until AND e.{key} IS NOT NULL
  GROUP BY e.session, e.{key}
), vt AS (
  SELECT v.session, v.item, v.t0, v.page, v.n, COALESCE(c.contact_topic, '') AS topic
  FROM v LEFT JOIN content c ON c.kind = :kind AND c.key = v.item
), o AS MATERIALIZED (
  SELECT vt.item, vt.n,
    CASE WHEN EXISTS (SELECT 1 FROM events x WHERE x.session = vt.session AND x.name = 'contact_click'
                      AND x.ts >= vt.t0 AND x.ts < vt.t0 + :window)
           OR EXISTS (SELECT 1 FROM calls k WHERE k.session = vt.session AND k.ts >= vt.t0
                      AND k.ts < vt.t0 + :window AND (k.topic = vt.topic OR vt.topic = ''))
         THEN 1 ELSE 0 END AS contacted,
    CASE WHEN EXISTS (SELECT 1 FROM events f WHERE f.session = vt.session AND f.name = 'feedback'
                      AND f.page = vt.page AND f.helpful = 1)
         THEN 1 ELSE 0 END AS helped
  FROM vt
)
SELECT item, SUM(n) AS views, COUNT(*) AS sessions, SUM(contacted) AS contacted,
       SUM(CASE WHEN contacted = 0 AND helped = 1 THEN 1 ELSE 0 END) AS confirmed
FROM o GROUP BY item
"""


def build_report(store: EventStore, *, since: int | None = None, until: int | None = None,
                 window_hours: float = 24.0, before_after_weeks: int = 4,
                 gaps: bool = True, embed: Any = None,
                 content: list[dict[str, Any]] | None = None) -> DeflectionReport:
    """Compute every table of the dashboard for [since, until) (ms; default: all data).
    `content`: article/video metadata read from the project (see `project.read_content`); the
    store's own content table (written by demo traffic) wins where both know an item."""
    rng = data_range(store)
    if rng is None:
        lo = hi = week_floor(int(datetime.now(UTC).timestamp() * 1000))
    else:
        lo, hi = rng
    since = week_floor(since if since is not None else lo)
    until = until if until is not None else hi + 1
    window = int(window_hours * HOUR)
    report = DeflectionReport(since, until, window_hours, datetime.now(UTC).isoformat(timespec="seconds"))
    p = {"since": since, "until": until, "window": window}
    # The content-gap query (and the model load, when a query was never embedded) runs beside
    # the main queries: SQLite and torch release the GIL, and a server has more than one core.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-report") if gaps else None
    gap_future = None
    if pool is not None:
        from kb_tools.analytics.gaps import content_gaps

        gap_future = pool.submit(content_gaps, store, since=since, until=until, window=window, embed=embed)
    n_weeks = max(1, math.ceil((until - since) / WEEK))

    with store.connect() as conn:
        meta: dict[tuple[str, str], Any] = {(c["kind"], c["key"]): _Meta(**c) for c in content or []}
        meta.update({(r.kind, r.key): r for r in conn.execute(sa.text(
            "SELECT kind, key, title, contact_topic, lang, url, published FROM content"))})
        # Per week: sessions, calls, contact clicks.
        week_sessions = _weekly(conn, "SELECT (first_ts - :since) / 604800000 AS w, COUNT(*) FROM sessions "
                                      "WHERE first_ts >= :since AND first_ts < :until GROUP BY 1", p)
        week_clicks = _weekly(conn, "SELECT (ts - :since) / 604800000 AS w, COUNT(*) FROM events "
                                    "WHERE name = 'contact_click' AND ts >= :since AND ts < :until GROUP BY 1", p)
        topic_week: dict[str, list[int]] = {}
        for topic, w, n in conn.execute(sa.text(
                "SELECT topic, (ts - :since) / 604800000 AS w, COUNT(*) FROM calls "
                "WHERE ts >= :since AND ts < :until GROUP BY topic, (ts - :since) / 604800000"), p):
            topic_week.setdefault(topic, [0] * n_weeks)[int(w)] += int(n)
        week_calls = [sum(v[i] for v in topic_week.values()) for i in range(n_weeks)]
        have_calls = sum(week_calls) > 0
        for i in range(n_weeks):
            s, c, k = week_sessions.get(i, 0), week_calls[i], week_clicks.get(i, 0)
            contacts = c if have_calls else k
            report.weeks.append(WeekStats(i, iso_day(since + i * WEEK), s, c, k, contacts,
                                          round(s / contacts, 2) if contacts else None))
        report.topic_weeks = dict(sorted(topic_week.items()))

        # Views, feedback, outcomes.
        items: dict[tuple[str, str], ItemStats] = {}

        def item(kind: str, key: str) -> ItemStats:
            if (kind, key) not in items:
                m = meta.get((kind, key))
                items[(kind, key)] = ItemStats(
                    kind, key, m.title if m else key, (m.lang if m else _lang_of(key)),
                    m.contact_topic if m else "", m.published if m else None)
            return items[(kind, key)]

        for page, n, yes in conn.execute(sa.text(
                "SELECT page, COUNT(*), SUM(helpful) FROM events WHERE name = 'feedback' "
                "AND ts >= :since AND ts < :until GROUP BY page"), p):
            it = item("article", page)
            it.feedback, it.helpful = int(n), int(yes or 0)
        for video, n, yes in conn.execute(sa.text(
                "SELECT v.video, COUNT(*), SUM(f.helpful) FROM (SELECT DISTINCT session, video, page "
                "FROM events WHERE name = 'video_play' AND ts >= :since AND ts < :until) v "
                "JOIN events f ON f.session = v.session AND f.name = 'feedback' AND f.page = v.page "
                "GROUP BY v.video"), p):
            it = item("video", video)
            it.feedback, it.helpful = int(n), int(yes or 0)
        for kind, view, key in (("article", "page_view", "page"), ("video", "video_play", "video")):
            for key_value, views, sessions, contacted, confirmed in conn.execute(
                    sa.text(_OUTCOMES.format(key=key)), {**p, "view": view, "kind": kind}):
                it = item(kind, key_value)
                it.views, it.sessions, it.contacted = int(views), int(sessions), int(contacted or 0)
                it.potential_deflections = it.sessions - it.contacted
                it.confirmed_deflections = int(confirmed or 0)
        # Items known from content metadata but never seen still get a row.
        for kind, key in meta:
            item(kind, key)
        unknown = any(m.published is None for m in meta.values()) or any(k not in meta for k in items)
        first_seen = _first_seen(conn, p) if unknown else {}

    for it in items.values():
        if it.feedback:
            it.helpful_pct = round(100 * it.helpful / it.feedback, 1)
        published = it.published
        if published is None:
            seen = first_seen.get((it.kind, it.key))
            # Seen from the first week of data on: it predates tracking, its date is unknown.
            if seen is not None and rng is not None and seen >= rng[0] + WEEK:
                published = seen
        it.published = published
        if published is None or not it.contact_topic:
            continue
        ba = before_after(report, it.contact_topic, published, before_after_weeks)
        if ba:
            it.rate_before, it.rate_after, it.change_pct, it.est_calls_deflected = ba
        if since <= published < until and (it.kind == "video" or meta.get((it.kind, it.key))):
            report.publications.append({"kind": it.kind, "key": it.key, "title": it.title,
                                        "topic": it.contact_topic, "published": published,
                                        "week": (published - since) / WEEK})
    report.items = sorted(items.values(), key=lambda i: (-i.sessions, i.kind, i.key))
    # A video's page is also an article row: count the deflection estimate once per publication.
    seen_pub: set[tuple[str, int]] = set()
    est = 0.0
    for it in sorted(report.items, key=lambda i: i.kind != "video"):
        if it.est_calls_deflected and it.published is not None and (it.contact_topic, it.published) not in seen_pub:
            seen_pub.add((it.contact_topic, it.published))
            est += max(0.0, it.est_calls_deflected)
    total_sessions = sum(w.sessions for w in report.weeks)
    total_contacts = sum(w.contacts for w in report.weeks)
    report.kpis = {
        "ba_weeks": before_after_weeks,
        "sessions": total_sessions,
        "contacts": total_contacts,
        "calls": sum(w.calls for w in report.weeks),
        "self_service_score": round(total_sessions / total_contacts, 2) if total_contacts else None,
        "est_calls_deflected": round(est),
        "confirmed_deflections": sum(i.confirmed_deflections for i in report.items if i.kind == "article"),
        "weeks": n_weeks,
    }
    if gap_future is not None and pool is not None:
        report.gaps = gap_future.result()
        pool.shutdown()
    return report


def before_after(report: DeflectionReport, topic: str, published: int,
                 weeks: int) -> tuple[float, float, float | None, float] | None:
    """Calls on `topic` per 1,000 sessions in the `weeks` whole weeks before and after."""
    per_week = report.topic_weeks.get(topic)
    if per_week is None:
        return None
    pub_week = (published - report.since) // WEEK
    first_after = pub_week if (published - report.since) % WEEK == 0 else pub_week + 1
    before = [w for w in range(pub_week - weeks, pub_week) if 0 <= w < len(report.weeks)]
    after = [w for w in range(first_after, first_after + weeks) if 0 <= w < len(report.weeks)]
    if not before or not after:
        return None
    s_before = sum(report.weeks[w].sessions for w in before)
    s_after = sum(report.weeks[w].sessions for w in after)
    if not s_before or not s_after:
        return None
    rb = 1000 * sum(per_week[w] for w in before) / s_before
    ra = 1000 * sum(per_week[w] for w in after) / s_after
    change = round(100 * (ra - rb) / rb, 1) if rb else None
    return round(rb, 2), round(ra, 2), change, round((rb - ra) / 1000 * s_after, 1)


def _weekly(conn: sa.Connection, sql: str, p: dict[str, Any]) -> dict[int, int]:
    return {int(w): int(n) for w, n in conn.execute(sa.text(sql), p)}


def _first_seen(conn: sa.Connection, p: dict[str, Any]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for page, ts in conn.execute(sa.text(
            "SELECT page, MIN(ts) FROM events WHERE name = 'page_view' GROUP BY page")):
        out[("article", page)] = int(ts)
    for video, ts in conn.execute(sa.text(
            "SELECT video, MIN(ts) FROM events WHERE name = 'video_play' AND video IS NOT NULL GROUP BY video")):
        out[("video", video)] = int(ts)
    return out


def _lang_of(key: str) -> str:
    parts = key.strip("/").split("/")
    return parts[0] if parts and parts[0] in ("bn", "gu", "hi") else "en"

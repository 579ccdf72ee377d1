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
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from kb_tools.analytics.searches import SearchTables, feedback_table, search_kpis, search_tables
from kb_tools.analytics.store import EARLIEST_MS, EventStore, latest_ms
from kb_tools.content.languages import INDIC_LANGUAGES, path_language

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
    change_pct: float | None = None  # against the other topics (effects.did_effect)
    change_low: float | None = None  # its 95 % interval
    change_high: float | None = None
    verdict: str | None = None
    plain_change_pct: float | None = None  # the plain before/after of calls per 1,000 sessions
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
    topic_days: dict[str, list[int]] = field(default_factory=dict)  # topic -> calls per day
    publications: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    languages: list[dict[str, Any]] = field(default_factory=list)  # searches.language_table
    top_searches: list[dict[str, Any]] = field(default_factory=list)
    failing_searches: list[dict[str, Any]] = field(default_factory=list)  # most often without an answer
    feedback: list[dict[str, Any]] = field(default_factory=list)  # searches.feedback_table
    stale: list[dict[str, Any]] = field(default_factory=list)  # past review_by, with their traffic
    # Per week, for the dashboard's date filter (all the data is in the page): "kind:key" ->
    # [week, views, sessions, contacted, confirmed, feedback answers, yes] (viewings by the week
    # of the first view); language -> searches.LANG_WEEK_FIELDS rows; the most frequent queries'
    # weekly searches (searches.QUERY_WEEK_FIELDS rows).
    item_weeks: dict[str, list[list[int]]] = field(default_factory=dict)
    lang_weeks: dict[str, list[list[int]]] = field(default_factory=dict)
    query_weeks: list[dict[str, Any]] = field(default_factory=list)

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
    """First and last time in the store, ignoring times no real event or call has (a row an
    older version imported with a year-9999 typo must not stretch the report to that year)."""
    sane = {"lo": EARLIEST_MS, "hi": latest_ms()}
    with store.connect() as conn:
        ends = [v for sql in ("SELECT MIN(ts) FROM {t} WHERE ts BETWEEN :lo AND :hi",
                              "SELECT MAX(ts) FROM {t} WHERE ts BETWEEN :lo AND :hi")
                for t in ("events", "calls")
                if (v := conn.execute(sa.text(sql.format(t=t)), sane).scalar()) is not None]
    if not ends:
        return None
    return int(min(ends)), int(max(ends))


# Outcome of each (session, item) viewing, per item and week of the first view; {key} is
# `page` for articles, `video` for videos.
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
  SELECT vt.item, (vt.t0 - :since) / 604800000 AS w, vt.n, vt.t0,
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
SELECT item, w, SUM(n) AS views, COUNT(*) AS sessions, SUM(contacted) AS contacted,
       SUM(CASE WHEN contacted = 0 AND helped = 1 THEN 1 ELSE 0 END) AS confirmed, MIN(t0) AS first
FROM o GROUP BY item, w
"""


@dataclass(frozen=True)
class Period:
    """What a report covers: [since, until) in ms, since on a Monday 00:00 UTC, and the window
    (ms) after a first view in which a contact still counts against the item."""

    since: int
    until: int
    window: int

    @classmethod
    def of(cls, data: tuple[int, int] | None, since: int | None, until: int | None,
           window_hours: float) -> Period:
        """By default from the Monday of the first data to just after the last (this week when
        the store is empty)."""
        if data is None:
            first = last = week_floor(int(datetime.now(UTC).timestamp() * 1000))
        else:
            first, last = data
        return cls(week_floor(since if since is not None else first),
                   until if until is not None else last + 1, int(window_hours * HOUR))

    @property
    def weeks(self) -> int:
        return max(1, math.ceil((self.until - self.since) / WEEK))

    @property
    def params(self) -> dict[str, int]:
        return {"since": self.since, "until": self.until, "window": self.window}


def build_report(store: EventStore, *, since: int | None = None, until: int | None = None,
                 window_hours: float = 24.0, before_after_weeks: int = 4,
                 gaps: bool = True, embed: Any = None,
                 content: list[dict[str, Any]] | None = None,
                 languages: Sequence[str] = ("en", *INDIC_LANGUAGES), index_dir: Any = None) -> DeflectionReport:
    """Compute every table of the dashboard for [since, until) (ms; default: all data).
    `content`: article/video metadata read from the project (see `project.read_content`); the
    store's own content table (written by demo traffic) wins where both know an item.
    `languages`: the site's languages, the default first (`Project.languages`): the language of
    a page the metadata does not know is its URL's language folder.
    `index_dir`: the search index, to match content gaps against what the site already says."""
    data = data_range(store)
    period = Period.of(data, since, until, window_hours)
    report = DeflectionReport(period.since, period.until, window_hours,
                              datetime.now(UTC).isoformat(timespec="seconds"))
    # The search tables and the content gaps (clustering, embedding never-seen queries) run on
    # a second thread, and the articles' viewing outcomes (the longest query) on a third, beside
    # the other per-item queries: SQLite and numpy release the GIL, and a server has more than
    # one core.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kb-report") as pool:
        pending = pool.submit(_searches_and_gaps, store, period, gaps, embed, index_dir)
        articles = pool.submit(_outcome_rows, store, period, "article")
        with store.connect() as conn:
            meta = item_metadata(conn, content)
            report.topic_weeks = topic_weeks(conn, period)
            report.topic_days = topic_days(conn, period)
            report.weeks = week_table(conn, period, report.topic_weeks)
            first_views: dict[tuple[str, str], int] = {}
            items = item_table(conn, period, meta, languages, report.item_weeks, first_views, articles.result)
            if _undated(meta, items) and data is not None and not (period.since <= data[0] and data[1] < period.until):
                first_views = first_view_times(conn)  # some item may have been seen before the period
        report.feedback = feedback_table(
            store, period.params, {k: m.title for (kind, k), m in meta.items() if kind == "article"},
            {it.key: (it.helpful, it.feedback - it.helpful) for it in items.values() if it.kind == "article" and it.feedback})
        for it in items.values():
            it.published = publication_time(it, first_views, data)
        add_before_after(report, items.values(), before_after_weeks)
        report.publications = publication_table(report, items.values(), meta)
        report.items = sorted(items.values(), key=lambda i: (-i.sessions, i.kind, i.key))
        report.stale = stale_table(report.items, content, period.until)
        searches, report.gaps = pending.result()
    report.languages, report.top_searches, report.failing_searches = searches.languages, searches.top, searches.failing
    report.lang_weeks, report.query_weeks = searches.lang_weeks, searches.query_weeks
    report.kpis = {**kpi_table(report, before_after_weeks), **search_kpis(report.languages)}
    _gap_failure_rates(report)
    return report


def stale_table(items: Iterable[ItemStats], content: list[dict[str, Any]] | None,
                until: int) -> list[dict[str, Any]]:
    """Articles whose `review_by` date (front matter) has passed, busiest first."""
    by_key = {(i.kind, i.key): i for i in items}
    out = []
    for c in content or []:
        review_by = c.get("review_by")
        if not review_by:
            continue
        try:
            due = int(datetime.fromisoformat(str(review_by)).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            continue  # `kb check` reports a bad date
        if due <= until:
            it = by_key.get((c["kind"], c["key"]))
            out.append({"kind": c["kind"], "key": c["key"], "title": c.get("title") or c["key"],
                        "review_by": str(review_by), "days_overdue": (until - due) // DAY,
                        "views": it.views if it else 0, "sessions": it.sessions if it else 0})
    return sorted(out, key=lambda r: (-r["views"], r["key"]))


def _searches_and_gaps(store: EventStore, period: Period, gaps: bool, embed: Any,
                       index_dir: Any) -> tuple[SearchTables, list[dict[str, Any]]]:
    """The search tables, and the content gaps from their failing queries (none if not `gaps`)."""
    from kb_tools.analytics.gaps import Coverage, content_gaps

    with store.connect() as conn:
        searches = search_tables(conn, period.params)
    if not gaps:
        return searches, []
    coverage = Coverage(index_dir) if index_dir is not None else None
    return searches, content_gaps(store, since=period.since, until=period.until, window=period.window, embed=embed,
                                  coverage=coverage, failures=searches.failures)


def _gap_failure_rates(report: DeflectionReport) -> None:
    """A covering article's own failure rate: its viewing sessions that contacted support, and
    the share of "No" among its feedback answers."""
    articles = {it.key: it for it in report.items if it.kind == "article"}
    for g in report.gaps:
        page = (g.get("article") or {}).get("page")
        it = articles.get(page) if page else None
        if it is not None and it.sessions:
            g["failure_pct"] = round(100 * it.contacted / it.sessions, 1)
            g["not_helpful_pct"] = round(100 - it.helpful_pct, 1) if it.helpful_pct is not None else None


def item_metadata(conn: sa.Connection, content: list[dict[str, Any]] | None) -> dict[tuple[str, str], Any]:
    """(kind, key) -> title, contact topic, language, publication time: the project's content,
    overridden by the store's content table."""
    names = {f.name for f in fields(_Meta)}
    meta: dict[tuple[str, str], Any] = {(c["kind"], c["key"]): _Meta(**{k: v for k, v in c.items() if k in names})
                                        for c in content or []}
    meta.update({(r.kind, r.key): r for r in conn.execute(sa.text(
        "SELECT kind, key, title, contact_topic, lang, url, published FROM content"))})
    return meta


def topic_weeks(conn: sa.Connection, period: Period) -> dict[str, list[int]]:
    """Logged calls and tickets per contact topic and week, topics in alphabetical order."""
    per_topic: dict[str, list[int]] = {}
    for topic, w, n in conn.execute(sa.text(
            "SELECT topic, (ts - :since) / 604800000 AS w, COUNT(*) FROM calls "
            "WHERE ts >= :since AND ts < :until GROUP BY topic, (ts - :since) / 604800000"), period.params):
        per_topic.setdefault(topic, [0] * period.weeks)[int(w)] += int(n)
    return dict(sorted(per_topic.items()))


def topic_days(conn: sa.Connection, period: Period) -> dict[str, list[int]]:
    """Logged calls and tickets per contact topic and day of the period."""
    days = period.weeks * 7
    per_topic: dict[str, list[int]] = {}
    for topic, d, n in conn.execute(sa.text(
            "SELECT topic, (ts - :since) / 86400000 AS d, COUNT(*) FROM calls "
            "WHERE ts >= :since AND ts < :until GROUP BY topic, (ts - :since) / 86400000"), period.params):
        if 0 <= int(d) < days:
            per_topic.setdefault(topic, [0] * days)[int(d)] += int(n)
    return dict(sorted(per_topic.items()))


def week_table(conn: sa.Connection, period: Period, topic_weeks: dict[str, list[int]]) -> list[WeekStats]:
    """Sessions, calls, contact clicks and the self-service score of each week. Contacts are the
    logged calls, or the contact clicks when no call log was imported."""
    p = period.params
    sessions = _weekly(conn, "SELECT (first_ts - :since) / 604800000 AS w, COUNT(*) FROM sessions "
                             "WHERE first_ts >= :since AND first_ts < :until GROUP BY 1", p)
    clicks = _weekly(conn, "SELECT (ts - :since) / 604800000 AS w, COUNT(*) FROM events "
                           "WHERE name = 'contact_click' AND ts >= :since AND ts < :until GROUP BY 1", p)
    calls = [sum(per_week[i] for per_week in topic_weeks.values()) for i in range(period.weeks)]
    have_calls = sum(calls) > 0
    weeks = []
    for i in range(period.weeks):
        s, c, k = sessions.get(i, 0), calls[i], clicks.get(i, 0)
        contacts = c if have_calls else k
        weeks.append(WeekStats(i, iso_day(period.since + i * WEEK), s, c, k, contacts,
                               round(s / contacts, 2) if contacts else None))
    return weeks


def item_table(conn: sa.Connection, period: Period, meta: dict[tuple[str, str], Any],
               languages: Sequence[str] = ("en", *INDIC_LANGUAGES),
               weekly: dict[str, list[list[int]]] | None = None,
               first_views: dict[tuple[str, str], int] | None = None,
               article_rows: Callable[[], list[OutcomeRow]] | None = None) -> dict[tuple[str, str], ItemStats]:
    """One row per article and video: feedback, views, viewing sessions and their outcomes.
    Items known from the content metadata but never seen get a row too. `weekly` receives the
    same figures per week (see DeflectionReport.item_weeks); `first_views` each item's first
    view in the period; `article_rows` gives the articles' `_outcome_rows` when another thread
    computes them."""
    items: dict[tuple[str, str], ItemStats] = {}
    per_week: dict[tuple[str, str, int], list[int]] = {}

    def row(kind: str, key: str) -> ItemStats:
        if (kind, key) not in items:
            items[(kind, key)] = _new_item(kind, key, meta.get((kind, key)), languages)
        return items[(kind, key)]

    def week(kind: str, key: str, w: int) -> list[int]:
        return per_week.setdefault((kind, key, w), [w, 0, 0, 0, 0, 0, 0])

    for kind, key, w, answers, yes in feedback_counts(conn, period):
        it = row(kind, key)
        it.feedback += answers
        it.helpful += yes
        week(kind, key, w)[5:7] = [answers, yes]
    for kind, key, w, views, sessions, contacted, confirmed in viewing_outcomes(conn, period, first_views, article_rows):
        it = row(kind, key)
        it.views += views
        it.sessions += sessions
        it.contacted += contacted
        it.confirmed_deflections += confirmed
        week(kind, key, w)[1:5] = [views, sessions, contacted, confirmed]
    for it in items.values():
        it.potential_deflections = it.sessions - it.contacted
        it.helpful_pct = round(100 * it.helpful / it.feedback, 1) if it.feedback else None
    for kind, key in meta:
        row(kind, key)
    if weekly is not None:
        for (kind, key, _), counts in sorted(per_week.items()):
            weekly.setdefault(f"{kind}:{key}", []).append(counts)
    return items


def _new_item(kind: str, key: str, meta: Any, languages: Sequence[str]) -> ItemStats:
    if meta is None:  # a page's key is its URL; a video's is its id, in no language folder
        lang = (path_language(key, languages) if kind == "article" else None) or languages[0]
        return ItemStats(kind, key, key, lang, "", None)
    return ItemStats(kind, key, meta.title, meta.lang, meta.contact_topic, meta.published)


def feedback_counts(conn: sa.Connection, period: Period) -> Iterator[tuple[str, str, int, int, int]]:
    """(kind, key, week, answers, "yes" answers) to "Was this page helpful?": per article, and
    per video from the sessions that played it, on the page where they played it."""
    queries = (
        ("article", "SELECT page, (ts - :since) / 604800000 AS w, COUNT(*), SUM(helpful) FROM events "
                    "WHERE name = 'feedback' AND ts >= :since AND ts < :until GROUP BY page, w"),
        ("video", "SELECT v.video, (f.ts - :since) / 604800000 AS w, COUNT(*), SUM(f.helpful) FROM "
                  "(SELECT DISTINCT session, video, page FROM events WHERE name = 'video_play' AND ts >= :since "
                  "AND ts < :until) v JOIN events f ON f.session = v.session AND f.name = 'feedback' "
                  "AND f.page = v.page GROUP BY v.video, w"),
    )
    for kind, sql in queries:
        for key, w, answers, yes in conn.execute(sa.text(sql), period.params):
            yield kind, key, int(w), int(answers), int(yes or 0)


OutcomeRow = tuple[str, int, int, int, int, int, int]  # key, week, views, sessions, contacted, confirmed, first
_VIEW_EVENTS = {"article": ("page_view", "page"), "video": ("video_play", "video")}


def _outcome_rows(source: EventStore | sa.Connection, period: Period, kind: str) -> list[OutcomeRow]:
    """`_OUTCOMES` of one kind (from a store: on a connection of its own)."""
    if isinstance(source, EventStore):
        with source.connect() as conn:
            return _outcome_rows(conn, period, kind)
    view, column = _VIEW_EVENTS[kind]
    return [(key, int(w), int(views), int(sessions), int(contacted or 0), int(confirmed or 0), int(first))
            for key, w, views, sessions, contacted, confirmed, first in source.execute(
                sa.text(_OUTCOMES.format(key=column)), {**period.params, "view": view, "kind": kind})]


def viewing_outcomes(conn: sa.Connection, period: Period, first_views: dict[tuple[str, str], int] | None = None,
                     article_rows: Callable[[], list[OutcomeRow]] | None = None,
                     ) -> Iterator[tuple[str, str, int, int, int, int, int]]:
    """(kind, key, week of the first view, views, viewing sessions, contacted sessions,
    confirmed deflections) per article (page_view) and video (video_play). `first_views`
    receives each item's first view in the period; `article_rows`: see `item_table`."""
    videos = _outcome_rows(conn, period, "video")  # while another thread may still count the articles
    articles = article_rows() if article_rows is not None else _outcome_rows(conn, period, "article")
    for kind, rows in (("article", articles), ("video", videos)):
        for key, w, views, sessions, contacted, confirmed, first in rows:
            if first_views is not None and first < first_views.get((kind, key), first + 1):
                first_views[(kind, key)] = first
            yield kind, key, w, views, sessions, contacted, confirmed


def _undated(meta: dict[tuple[str, str], Any], items: dict[tuple[str, str], ItemStats]) -> bool:
    """Whether some item has no recorded publication time (so first views are needed)."""
    return any(m.published is None for m in meta.values()) or any(k not in meta for k in items)


def publication_time(item: ItemStats, first_views: dict[tuple[str, str], int],
                     data: tuple[int, int] | None) -> int | None:
    """The recorded publication time; else the item's first view, unless that came in the first
    week of data (then the item predates tracking and its date is unknown)."""
    if item.published is not None:
        return item.published
    seen = first_views.get((item.kind, item.key))
    if seen is not None and data is not None and seen >= data[0] + WEEK:
        return seen
    return None


def add_before_after(report: DeflectionReport, items: Iterable[ItemStats], weeks: int) -> None:
    """Per dated item with a topic: calls per 1,000 sessions before and after its publication
    (the plain change), and the change against the other topics with its interval and verdict
    (`effects.did_effect`), from which the estimated calls deflected come."""
    from kb_tools.analytics.effects import did_effect

    items = list(items)
    published = {(it.contact_topic, it.published) for it in items if it.published is not None and it.contact_topic}
    for it in items:
        if it.published is None or not it.contact_topic:
            continue
        ba = before_after(report, it.contact_topic, it.published, weeks)
        if ba:
            it.rate_before, it.rate_after, it.plain_change_pct, _ = ba
        span = _before_after_weeks(report, it.published, weeks)
        if span is None or it.contact_topic not in report.topic_days:
            continue
        before, after = span
        lo, hi = report.since + before[0] * WEEK, report.since + (after[-1] + 1) * WEEK
        # Topics with a publication of their own in these weeks would carry its effect into the
        # comparison group.
        busy = {topic for topic, when in published if topic != it.contact_topic and lo <= when < hi}
        others = [days for topic, days in report.topic_days.items() if topic != it.contact_topic and topic not in busy]
        if not others:
            continue
        control = [sum(day) for day in zip(*others, strict=True)]
        effect = did_effect(report.topic_days[it.contact_topic], control,
                            slice(before[0] * 7, (before[-1] + 1) * 7), slice(after[0] * 7, (after[-1] + 1) * 7),
                            control_topics=len(others))
        it.change_pct, it.change_low, it.change_high = effect.change_pct, effect.low_pct, effect.high_pct
        it.verdict = effect.verdict
        it.est_calls_deflected = effect.calls_avoided


def _before_after_weeks(report: DeflectionReport, published: int, weeks: int) -> tuple[list[int], list[int]] | None:
    """The whole weeks before the week of publication and from the first whole week after it
    (a publication exactly at a week start splits there), inside the period."""
    pub_week = (published - report.since) // WEEK
    first_after = pub_week if (published - report.since) % WEEK == 0 else pub_week + 1
    before = [w for w in range(pub_week - weeks, pub_week) if 0 <= w < len(report.weeks)]
    after = [w for w in range(first_after, first_after + weeks) if 0 <= w < len(report.weeks)]
    return (before, after) if before and after else None


def publication_table(report: DeflectionReport, items: Iterable[ItemStats],
                      meta: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """Publications inside the period of items with a contact topic: videos, and articles the
    content metadata knows (a page merely first seen is not announced as published)."""
    return [{"kind": it.kind, "key": it.key, "title": it.title, "topic": it.contact_topic,
             "published": it.published, "week": (it.published - report.since) / WEEK}
            for it in items
            if it.published is not None and it.contact_topic and report.since <= it.published < report.until
            and (it.kind == "video" or (it.kind, it.key) in meta)]


def kpi_table(report: DeflectionReport, before_after_weeks: int) -> dict[str, Any]:
    """The headline figures over the whole period, from the week and item tables."""
    total_sessions = sum(w.sessions for w in report.weeks)
    total_contacts = sum(w.contacts for w in report.weeks)
    return {
        "ba_weeks": before_after_weeks,
        "sessions": total_sessions,
        "contacts": total_contacts,
        "calls": sum(w.calls for w in report.weeks),
        "self_service_score": round(total_sessions / total_contacts, 2) if total_contacts else None,
        "est_calls_deflected": round(estimated_calls_deflected(report.items)),
        "confirmed_deflections": sum(i.confirmed_deflections for i in report.items if i.kind == "article"),
        "weeks": len(report.weeks),
    }


def estimated_calls_deflected(items: Iterable[ItemStats]) -> float:
    """The positive estimates, counted once per publication (`deflecting_publications`)."""
    return sum(est for _, est in deflecting_publications(items))


def deflecting_publications(items: Iterable[ItemStats]) -> list[tuple[int, float]]:
    """(publication time, estimated calls deflected >= 0) once per publication: a video's page
    is also an article row with the same topic and publication time (the video's row counts)."""
    seen: set[tuple[str, int]] = set()
    out = []
    for it in sorted(items, key=lambda i: i.kind != "video"):
        if it.est_calls_deflected and it.published is not None and (it.contact_topic, it.published) not in seen:
            seen.add((it.contact_topic, it.published))
            out.append((it.published, max(0.0, it.est_calls_deflected)))
    return out


def before_after(report: DeflectionReport, topic: str, published: int,
                 weeks: int) -> tuple[float, float, float | None, float] | None:
    """The plain before/after: calls on `topic` per 1,000 sessions in the `weeks` whole weeks
    before and after (rate before, rate after, change %, calls deflected by that reading)."""
    per_week = report.topic_weeks.get(topic)
    span = _before_after_weeks(report, published, weeks)
    if per_week is None or span is None:
        return None
    before, after = span
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


def first_view_times(conn: sa.Connection) -> dict[tuple[str, str], int]:
    """(kind, key) -> time of the first page_view (article) or video_play (video) ever stored."""
    out: dict[tuple[str, str], int] = {}
    for page, ts in conn.execute(sa.text(
            "SELECT page, MIN(ts) FROM events WHERE name = 'page_view' GROUP BY page")):
        out[("article", page)] = int(ts)
    for video, ts in conn.execute(sa.text(
            "SELECT video, MIN(ts) FROM events WHERE name = 'video_play' AND video IS NOT NULL GROUP BY video")):
        out[("video", video)] = int(ts)
    return out


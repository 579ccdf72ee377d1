"""What shoppers searched, per language, and what they said about the pages.

- *No-answer rate*: settled searches that search answered with `answered: false`, among those
  whose outcome is known (events from older clients carry no `answered`; they count as
  searches but not in the rate).
- *Click-through rate*: result clicks per search (Zendesk Guide's and Algolia's reading).
- *Feedback*: per page, the "Was this page helpful?" answers and the comments; the comments left
  with "No" are grouped by what they say, so a writer sees the reasons, not a list.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kb_tools.analytics.store import EventStore

TOP_SEARCHES = 20
MAX_COMMENTS = 30  # per page, newest first

CLICK_WINDOW = 30 * 60_000  # an old client's search counts as opened when a result click follows within it
# Per (language, query, week): one pass over the settled searches, read from the
# ix_events_search index (no table lookups); the language table, both top lists, the weekly
# figures of the date filter and the content gaps' failing queries are summed from these rows.
# The new props say what happened (answered, next); older clients' events are judged by what
# followed them in the session. Searches followed by a contact are found from the contacts
# (few), each looking up its own session's searches (CROSS JOIN: SQLite keeps that order),
# rather than by probing the session of every search. On SQLite, {by_session} names the index
# that lookup must use: without statistics, SQLite's planner picks by the order the indexes were
# created in, and on a store created at version 6 or later it scanned every search of the day
# before each contact in ix_events_search (13 of a 101,442-event demo store's 15 CPU s).
_BY_QUERY = """
WITH k AS MATERIALIZED (
  SELECT session, ts FROM events WHERE name = 'contact_click' AND ts >= :since AND ts < :until + :window
  UNION ALL
  SELECT session, ts FROM calls WHERE session IS NOT NULL AND ts >= :since AND ts < :until + :window
), hit AS MATERIALIZED (
  SELECT DISTINCT h.id FROM k CROSS JOIN events h {by_session}
  WHERE h.session = k.session AND h.name = 'search' AND h.ts <= k.ts AND h.ts > k.ts - :window
    AND h.ts >= :since AND h.ts < :until
)
SELECT s.lang, s.query, (s.ts - :since) / 604800000 AS w, COUNT(*) AS n,
  SUM(CASE WHEN s.answered IS NOT NULL THEN 1 ELSE 0 END) AS known,
  SUM(CASE WHEN s.answered = 0 THEN 1 ELSE 0 END) AS no_answer,
  SUM(CASE WHEN s.outcome = 'open' THEN 1 ELSE 0 END) AS opened,
  SUM(CASE WHEN s.outcome IS NOT NULL THEN 1 ELSE 0 END) AS outcome_known,
  SUM(CASE WHEN s.answered = 0 OR (s.answered IS NULL AND s.results = 0) THEN 1 ELSE 0 END) AS failed,
  SUM(CASE WHEN s.outcome = 'open' THEN 0
      WHEN s.outcome IS NOT NULL THEN CASE WHEN s.answered = 0 THEN 0 ELSE 1 END
      WHEN s.results > 0 AND NOT EXISTS (
        SELECT 1 FROM events r WHERE r.session = s.session AND r.name = 'result_click'
        AND r.ts >= s.ts AND r.ts < s.ts + :click_window) THEN 1 ELSE 0 END) AS no_click,
  SUM(CASE WHEN s.outcome = 'contact' OR s.id IN (SELECT id FROM hit) THEN 1 ELSE 0 END) AS contacted
FROM events s WHERE s.name = 'search' AND s.ts >= :since AND s.ts < :until
GROUP BY s.lang, s.query, (s.ts - :since) / 604800000
"""
# The other events per language and week, from the ix_events_name_lang_ts index.
_BY_LANG = """
SELECT name, lang, (ts - :since) / 604800000 AS w, COUNT(*) FROM events
WHERE name IN ('result_click', 'page_view', 'contact_click') AND ts >= :since AND ts < :until
GROUP BY name, lang, w
"""
LANG_WEEK_FIELDS = ("week", "sessions", "page_views", "searches", "known", "no_answer", "result_clicks",
                    "contact_clicks")
QUERY_WEEK_FIELDS = ("week", "searches", "known", "no_answer", "opened", "outcome_known", "failed")
QUERY_WEEKS_KEPT = 200  # the most frequent queries whose weekly counts the page carries


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class SearchTables:
    languages: list[dict[str, Any]]  # sessions, page views, searches, no-answer %, CTR, contact clicks
    top: list[dict[str, Any]]  # the most frequent queries, with no-answer % and share that opened a result
    failing: list[dict[str, Any]]  # the queries most often without an answer (old clients: no result)
    lang_weeks: dict[str, list[list[int]]]  # lang -> LANG_WEEK_FIELDS rows
    query_weeks: list[dict[str, Any]]  # {lang, query, weeks: QUERY_WEEK_FIELDS rows}, most frequent first
    failures: list[QueryFailures]  # per non-empty query that failed at least once (the content gaps')


@dataclass
class QueryFailures:
    """One query's searches in the period and how they failed (see `gaps`)."""

    lang: str
    query: str
    searches: int
    no_result: int  # search had no answer (old clients: no result)
    no_click: int  # answered, but no result was opened
    contacted: int  # followed by a contact within the window


def search_tables(conn: sa.Connection, params: dict[str, Any], top: int = TOP_SEARCHES,
                  failing: int = 10) -> SearchTables:
    """What shoppers searched, per language and per query, over the period and per week."""
    weeks: dict[tuple[str, int], list[int]] = {}

    def week(lang: str, w: int) -> list[int]:
        return weeks.setdefault((lang or "?", int(w)), [int(w)] + [0] * (len(LANG_WEEK_FIELDS) - 1))

    col = {name: i for i, name in enumerate(LANG_WEEK_FIELDS)}
    for lang, w, n in conn.execute(sa.text(
            "SELECT lang, (first_ts - :since) / 604800000 AS w, COUNT(*) FROM sessions "
            "WHERE first_ts >= :since AND first_ts < :until GROUP BY lang, w"), params):
        week(lang, w)[col["sessions"]] += int(n)
    column = {"result_click": col["result_clicks"], "page_view": col["page_views"],
              "contact_click": col["contact_clicks"]}
    for name, lang, w, n in conn.execute(sa.text(_BY_LANG), params):
        week(lang, w)[column[name]] += int(n)
    queries: dict[tuple[str, str], list[list[int]]] = {}
    failures: dict[tuple[str, str], list[int]] = {}
    by_session = "INDEXED BY ix_events_session_name_ts" if conn.dialect.name == "sqlite" else ""
    for r in conn.execute(sa.text(_BY_QUERY.format(by_session=by_session)), {"click_window": CLICK_WINDOW, **params}):
        counts = [int(r.n), int(r.known or 0), int(r.no_answer or 0), int(r.opened or 0), int(r.outcome_known or 0),
                  int(r.failed or 0)]
        lw = week(r.lang, r.w)
        lw[col["searches"]] += counts[0]
        lw[col["known"]] += counts[1]
        lw[col["no_answer"]] += counts[2]
        if r.query is not None:
            queries.setdefault((r.lang, r.query), []).append([int(r.w), *counts])
        if r.query:
            f = failures.setdefault((r.lang or "?", r.query), [0, 0, 0, 0])
            for i, v in enumerate((counts[0], counts[5], int(r.no_click or 0), int(r.contacted or 0))):
                f[i] += v
    lang_rows: dict[str, dict[str, Any]] = {}
    lang_weeks: dict[str, list[list[int]]] = {}
    for (lang, _), counts in sorted(weeks.items()):
        lang_weeks.setdefault(lang, []).append(counts)
        total = lang_rows.setdefault(lang, {"lang": lang, **{f: 0 for f in LANG_WEEK_FIELDS[1:]}})
        for f, v in zip(LANG_WEEK_FIELDS[1:], counts[1:], strict=True):
            total[f] += v
    for r in lang_rows.values():
        r["no_answer_pct"] = _pct(r["no_answer"], r["known"])
        r["ctr_pct"] = _pct(r["result_clicks"], r["searches"])
    totals = {k: [sum(c) for c in zip(*rows, strict=True)][1:] for k, rows in queries.items()}

    def entry(k: tuple[str, str]) -> dict[str, Any]:
        n, known, no_answer, opened, outcome_known, _ = totals[k]
        return {"lang": k[0], "query": k[1], "searches": n, "no_answer_pct": _pct(no_answer, known),
                "opened_pct": _pct(opened, outcome_known)}

    most = heapq.nsmallest(max(top, QUERY_WEEKS_KEPT), totals, key=lambda k: (-totals[k][0], k[1], k[0]))
    worst = heapq.nsmallest(failing, (k for k in totals if totals[k][5]), key=lambda k: (-totals[k][5], k[1], k[0]))
    return SearchTables(
        languages=sorted(lang_rows.values(), key=lambda r: -r["sessions"]),
        top=[entry(k) for k in most[:top]], failing=[entry(k) for k in worst], lang_weeks=lang_weeks,
        query_weeks=[{"lang": k[0], "query": k[1], "weeks": queries[k]} for k in most],
        failures=[QueryFailures(lang, query, *f) for (lang, query), f in sorted(failures.items()) if any(f[1:])])


def search_kpis(languages: list[dict[str, Any]]) -> dict[str, Any]:
    searches = sum(r["searches"] for r in languages)
    known = sum(r["known"] for r in languages)
    return {"searches": searches,
            "no_answer_pct": _pct(sum(r["no_answer"] for r in languages), known),
            "ctr_pct": _pct(sum(r["result_clicks"] for r in languages), searches)}


def feedback_table(store: EventStore, params: dict[str, Any], titles: dict[str, str],
                   answers: dict[str, tuple[int, int]] | None = None) -> list[dict[str, Any]]:
    """Per page with feedback: yes/no counts, the newest comments, and the "No" comments grouped
    by what they say (largest group first, with its examples). `answers`: page -> (yes, no)
    when the caller has counted them already (the report's article table has)."""
    from kb_tools.analytics.clusters import average_linkage, skeleton_vectors

    pages: dict[str, dict[str, Any]] = {}

    def add(page: str, yes: int, no: int) -> None:
        p = pages.setdefault(page, {"page": page, "title": titles.get(page, page), "yes": 0, "no": 0,
                                    "comments": [], "no_reasons": []})
        p["yes"] += yes
        p["no"] += no

    with store.connect() as conn:
        if answers is None:
            for page, helpful, n in conn.execute(sa.text(
                    "SELECT page, helpful, COUNT(*) FROM events WHERE name = 'feedback' AND ts >= :since "
                    "AND ts < :until GROUP BY page, helpful"), params):
                add(page, int(n) if helpful else 0, 0 if helpful else int(n))
        else:
            for page, (yes, no) in answers.items():
                add(page, yes, no)
        no_comments: dict[str, dict[str, int]] = {}
        for page, helpful, comment, ts in conn.execute(sa.text(
                "SELECT page, helpful, comment, ts FROM events WHERE name = 'feedback' AND comment IS NOT NULL "
                "AND ts >= :since AND ts < :until ORDER BY ts DESC"), params):
            p = pages[page]
            if len(p["comments"]) < MAX_COMMENTS:
                p["comments"].append({"helpful": bool(helpful), "comment": comment, "ts": int(ts)})
            if not helpful:
                text = " ".join(comment.split()).lower()
                counts = no_comments.setdefault(page, {})
                counts[text] = counts.get(text, 0) + 1
    for page, counts in no_comments.items():
        texts = list(counts)
        labels = average_linkage(skeleton_vectors(texts), 0.6) if len(texts) > 1 else [0]
        groups: dict[int, list[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            groups.setdefault(int(label), []).append(text)
        reasons = []
        for members in groups.values():
            members.sort(key=lambda t: -counts[t])
            reasons.append({"reason": members[0], "count": sum(counts[t] for t in members), "examples": members[:5]})
        pages[page]["no_reasons"] = sorted(reasons, key=lambda r: -r["count"])
    for p in pages.values():
        p["helpful_pct"] = _pct(p["yes"], p["yes"] + p["no"])
    return sorted(pages.values(), key=lambda p: -(p["no"]))

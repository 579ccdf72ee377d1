"""What shoppers searched, per language, and what they said about the pages.

- *No-answer rate*: settled searches that search answered with `answered: false`, among those
  whose outcome is known (events from older clients carry no `answered`; they count as
  searches but not in the rate).
- *Click-through rate*: result clicks per search (Zendesk Guide's and Algolia's reading).
- *Feedback*: per page, the "Was this page helpful?" answers and the comments; the comments left
  with "No" are grouped by what they say, so a writer sees the reasons, not a list.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from kb_tools.analytics.store import EventStore

TOP_SEARCHES = 20
MAX_COMMENTS = 30  # per page, newest first

_BY_LANG = """
SELECT lang, name, COUNT(*) AS n,
  SUM(CASE WHEN answered IS NOT NULL THEN 1 ELSE 0 END) AS known,
  SUM(CASE WHEN answered = 0 THEN 1 ELSE 0 END) AS no_answer
FROM events WHERE ts >= :since AND ts < :until
  AND name IN ('search', 'result_click', 'page_view', 'contact_click')
GROUP BY lang, name
"""


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def language_table(conn: sa.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per language: sessions, page views, searches, no-answer %, CTR, contact clicks."""
    rows: dict[str, dict[str, Any]] = {}

    def row(lang: str) -> dict[str, Any]:
        return rows.setdefault(lang or "?", {"lang": lang or "?", "sessions": 0, "page_views": 0, "searches": 0,
                                             "known": 0, "no_answer": 0, "result_clicks": 0, "contact_clicks": 0})

    for lang, n in conn.execute(sa.text(
            "SELECT lang, COUNT(*) FROM sessions WHERE first_ts >= :since AND first_ts < :until GROUP BY lang"), params):
        row(lang)["sessions"] = int(n)
    column = {"search": "searches", "result_click": "result_clicks", "page_view": "page_views",
              "contact_click": "contact_clicks"}
    for lang, name, n, known, no_answer in conn.execute(sa.text(_BY_LANG), params):
        r = row(lang)
        r[column[name]] = int(n)
        if name == "search":
            r["known"], r["no_answer"] = int(known or 0), int(no_answer or 0)
    for r in rows.values():
        r["no_answer_pct"] = _pct(r["no_answer"], r["known"])
        r["ctr_pct"] = _pct(r["result_clicks"], r["searches"])
    return sorted(rows.values(), key=lambda r: -r["sessions"])


def top_searches(conn: sa.Connection, params: dict[str, Any], limit: int = TOP_SEARCHES, *,
                 failing: bool = False) -> list[dict[str, Any]]:
    """The most frequent queries with their no-answer % and the share that opened a result;
    `failing`: the queries most often left without an answer instead (no answer, or for old
    clients' events no result)."""
    order = ("SUM(CASE WHEN answered = 0 OR (answered IS NULL AND results = 0) THEN 1 ELSE 0 END)"
             if failing else "COUNT(*)")
    out = []
    for lang, query, n, known, no_answer, opened, outcome_known in conn.execute(sa.text(
            "SELECT lang, query, COUNT(*), SUM(CASE WHEN answered IS NOT NULL THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN answered = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN outcome = 'open' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN outcome IS NOT NULL THEN 1 ELSE 0 END) "
            "FROM events WHERE name = 'search' AND ts >= :since AND ts < :until AND query IS NOT NULL "
            f"GROUP BY lang, query HAVING {order} > 0 ORDER BY {order} DESC, query LIMIT :limit"),
            {**params, "limit": limit}):
        out.append({"lang": lang, "query": query, "searches": int(n),
                    "no_answer_pct": _pct(int(no_answer or 0), int(known or 0)),
                    "opened_pct": _pct(int(opened or 0), int(outcome_known or 0))})
    return out


def search_kpis(languages: list[dict[str, Any]]) -> dict[str, Any]:
    searches = sum(r["searches"] for r in languages)
    known = sum(r["known"] for r in languages)
    return {"searches": searches,
            "no_answer_pct": _pct(sum(r["no_answer"] for r in languages), known),
            "ctr_pct": _pct(sum(r["result_clicks"] for r in languages), searches)}


def feedback_table(store: EventStore, params: dict[str, Any], titles: dict[str, str]) -> list[dict[str, Any]]:
    """Per page with feedback: yes/no counts, the newest comments, and the "No" comments grouped
    by what they say (largest group first, with its examples)."""
    from kb_tools.analytics.clusters import average_linkage, skeleton_vectors

    pages: dict[str, dict[str, Any]] = {}
    with store.connect() as conn:
        for page, helpful, n in conn.execute(sa.text(
                "SELECT page, helpful, COUNT(*) FROM events WHERE name = 'feedback' AND ts >= :since "
                "AND ts < :until GROUP BY page, helpful"), params):
            p = pages.setdefault(page, {"page": page, "title": titles.get(page, page), "yes": 0, "no": 0,
                                        "comments": [], "no_reasons": []})
            p["yes" if helpful else "no"] += int(n)
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

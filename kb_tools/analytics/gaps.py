"""Content gaps: what shoppers search for and do not find, grouped by meaning, and matched
against what the help center already has.

A search *fails* when search had no answer for it (`answered: false`; for events of older
clients, no result), when no result was opened (or clicked within 30 minutes), or when the
session contacted support within the window after it. Failing queries are grouped per language
(`clusters.cluster_queries`: English by sentence vectors, Bengali/Gujarati by transliterated
skeletons). Each group is then matched against the articles and videos (`Coverage`, the search
index's own encoder) and labelled:

- *missing*: nothing covers it -> write this;
- *not found*: an article covers it, but search did not surface it for these words (search
  said no answer, or the covering page was not opened) -> add these words to that article;
- *failing*: an article covers it and shoppers reached it, but still contacted support or
  said "No" -> improve that article (named, with its failure rate and the shoppers' words).

Rows are ranked by the contacts they caused per week (searches followed by a contact), and a
group needs a minimum number of searches to be shown.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from kb_tools.analytics.clusters import cluster_queries
from kb_tools.analytics.searches import QueryFailures, search_tables
from kb_tools.analytics.store import EventStore, query_vectors
from kb_tools.content.languages import INDIC_LANGUAGES

Embed = Callable[[Sequence[str]], np.ndarray]
MAX_QUERIES = 1500
EMBED_THRESHOLD = 0.6  # the greedy centroid `cluster` (kept for bench_clusters' comparison)
TRIGRAM_THRESHOLD = 0.4

MIN_SEARCHES = 3  # a group with fewer searches in the period is not shown

_model_lock = threading.Lock()
_model: Any = None


# Query grouping is calibrated on all-MiniLM-L6-v2 (bench/bench_clusters.py), whatever model
# the search index uses.
CLUSTER_MODEL = "all-MiniLM-L6-v2"


def model_embed(texts: Sequence[str]) -> np.ndarray:
    """Sentence embeddings from the packaged all-MiniLM-L6-v2 (local files only — never the
    hub), run in numpy (`minilm.NumpyMiniLM`: the same vectors as sentence-transformers without
    importing torch), loaded once per process."""
    from kb_tools.analytics.minilm import NumpyMiniLM

    global _model
    with _model_lock:
        if _model is None:
            from kb_tools.search.embeddings import get_encoder, resolve_model

            folder = resolve_model(CLUSTER_MODEL)  # a packaged sentence-transformers folder
            _model = NumpyMiniLM(folder) if folder is not None else get_encoder(CLUSTER_MODEL)
    if not isinstance(_model, NumpyMiniLM):
        return _model.encode_queries(list(texts))
    return _model.encode(list(texts))


def _model_key() -> str:
    """Names the model in the cache and changes when its files change (the search engine's
    own cache key), so vectors of an older model are never mixed in."""
    from kb_tools.search.embeddings import encoder_name

    return encoder_name(CLUSTER_MODEL)


def cached_model_embed(store: EventStore, texts: Sequence[str]) -> np.ndarray:
    """`model_embed` through the store's query_vectors table: the model is loaded only when a
    query has never been embedded before."""
    found: dict[str, np.ndarray] = {}
    key = _model_key()
    with store.connect() as conn:
        for i in range(0, len(texts), 500):
            chunk = list(texts[i:i + 500])
            for q, blob in conn.execute(sa.select(query_vectors.c.query, query_vectors.c.vector).where(
                    query_vectors.c.model == key, query_vectors.c.query.in_(chunk))):
                found[q] = np.frombuffer(blob, dtype="<f4")
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        vectors = model_embed(missing)
        found.update(zip(missing, vectors, strict=True))
        rows = [{"model": key, "query": q, "vector": v.astype("<f4").tobytes()}
                for q, v in zip(missing, vectors, strict=True)]
        try:
            with store.engine.begin() as conn:
                conn.execute(store._insert_ignore(query_vectors, ["model", "query"]), rows)
        except sa.exc.SQLAlchemyError:
            pass  # a read-only store still gets its report; the cache is an optimisation
    return np.stack([found[t] for t in texts]).astype(np.float32)


def trigram_embed(texts: Sequence[str], dims: int = 2048) -> np.ndarray:
    """Hashed character-trigram vectors (L2-normalised): script-agnostic, no model."""
    out = np.zeros((len(texts), dims), dtype=np.float32)
    for i, text in enumerate(texts):
        padded = f"  {text.lower()}  "
        for j in range(len(padded) - 2):
            h = int.from_bytes(hashlib.blake2b(padded[j:j + 3].encode(), digest_size=4).digest(), "little")
            out[i, h % dims] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def cluster(vectors: np.ndarray, weights: Sequence[int], threshold: float) -> list[list[int]]:
    """Greedy centroid clustering: heaviest query first, joining the closest group whose
    centroid is at least `threshold` similar, else starting a new group."""
    order = sorted(range(len(weights)), key=lambda i: -weights[i])
    groups: list[list[int]] = []
    centroids: list[np.ndarray] = []
    for i in order:
        v = vectors[i]
        if centroids:
            sims = np.stack(centroids) @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                c = vectors[groups[best]].mean(axis=0)
                centroids[best] = c / (np.linalg.norm(c) or 1.0)
                continue
        groups.append([i])
        centroids.append(v)
    return groups


class Coverage:
    """Which article or video answers a group of queries, by search's own answer decision.
    Opened lazily, read-only; without an index (or a model) nothing is judged covered and the
    report says so."""

    def __init__(self, index_dir: Path | str) -> None:
        self.index_dir = Path(index_dir)
        self._searcher: Any = None
        self.error: str | None = None

    def _open(self) -> Any:
        if self._searcher is None and self.error is None:
            try:
                from kb_tools.search.searcher import Searcher

                self._searcher = Searcher(self.index_dir)
                if not self._searcher.has_vectors:
                    self.error = f"the search index in {self.index_dir} has no vectors"
            except Exception as e:  # noqa: BLE001 - the report still shows the gaps, unmatched
                self.error = str(e)
        return None if self.error else self._searcher

    def title(self, page: str) -> str:
        searcher = self._open()
        if searcher is not None:
            for c in searcher.chunks:
                if "/" + c.url.split("#")[0].strip("/") + "/" == page:
                    return c.title
        return page

    def best(self, queries: Sequence[str]) -> dict[str, Any] | None:
        """The page that answers the group: for each query, search's own top hit (hybrid, as a
        shopper would get it) when search says it has an answer (`answered`); the most
        confident such hit over the group wins."""
        searcher = self._open()
        if searcher is None or not queries:
            return None
        best: tuple[float, Any] | None = None
        from kb_tools.search.query import QueryError

        for q in queries:
            try:
                hits = searcher.search(q, k=3)
            except QueryError:  # a stored query search refuses (empty once normalised, too long)
                continue
            if not hits:
                continue
            top = hits[0]
            # Search's own answer decision (issue 10) says whether its top hit answers the
            # query, in every language; its confidence ranks the group's answers.
            ok, score = hits.answered, top.confidence
            if ok and (best is None or score > best[0]):
                best = (score, top)
        if best is None:
            return None
        score, hit = best
        path = "/" + hit.url.split("#")[0].strip("/") + "/"
        return {"url": hit.url, "page": path.replace("//", "/"), "title": hit.title, "section": hit.section,
                "kind": hit.kind, "similarity": round(score, 3)}


def content_gaps(store: EventStore, *, since: int, until: int, window: int,
                 embed: Embed | None = None, limit_per_lang: int = 15, coverage: Coverage | None = None,
                 min_searches: int = MIN_SEARCHES, failures: list[QueryFailures] | None = None) -> list[dict[str, Any]]:
    """The gap table: one row per group of failing queries, labelled missing / not found /
    failing (see the module docstring), busiest in contacts per week first. `failures`: the
    failing queries of the period when the caller has them (`search_tables(...).failures`)."""
    params = {"since": since, "until": until, "window": window}
    weeks = max(1.0, (until - since) / (7 * 86_400_000))
    with store.connect() as conn:
        if failures is None:
            failures = search_tables(conn, params).failures
        rows = list(failures)
        opened: dict[tuple[str, str], dict[str, int]] = {}
        for lang, query, page, n in conn.execute(sa.text(
                "SELECT lang, query, page, COUNT(*) FROM events WHERE name = 'result_click' AND ts >= :since "
                "AND ts < :until AND query IS NOT NULL GROUP BY lang, query, page"), params):
            opened.setdefault((lang or "?", query), {})[page] = int(n)
    rows.sort(key=lambda r: -(r.no_result + r.no_click + r.contacted))
    rows = rows[:MAX_QUERIES]
    by_lang: dict[str, list[Any]] = {}
    for r in rows:
        by_lang.setdefault(r.lang or "?", []).append(r)
    gaps: list[dict[str, Any]] = []
    for lang, lrows in sorted(by_lang.items()):
        texts = [r.query for r in lrows]
        weights = [int(r.no_result + r.no_click + r.contacted) for r in lrows]
        lang_embed = None
        if lang.split("-")[0] not in INDIC_LANGUAGES:
            lang_embed = embed if embed is not None else (lambda t: cached_model_embed(store, t))
        try:
            groups = cluster_queries(texts, lang, lang_embed)
        except Exception:  # noqa: BLE001 - no model: group by skeletons rather than lose the table
            groups = cluster_queries(texts, lang, None)
        lang_gaps = []
        for group in groups:
            members = sorted(group, key=lambda i: (-weights[i], -lrows[i].searches))
            g: dict[str, Any] = {
                "lang": lang,
                "topic": lrows[members[0]].query,
                "searches": sum(int(lrows[i].searches) for i in group),
                "no_result": sum(int(lrows[i].no_result) for i in group),
                "no_click": sum(int(lrows[i].no_click) for i in group),
                "contacted": sum(int(lrows[i].contacted) for i in group),
                "examples": [lrows[i].query for i in members[:6]],
            }
            if g["searches"] < min_searches:
                continue
            g["failures"] = g["no_result"] + g["no_click"] + g["contacted"]
            g["contacts_per_week"] = round(g["contacted"] / weeks, 1)
            reached: dict[str, int] = {}
            for i in group:
                for page, n in opened.get((lang, lrows[i].query), {}).items():
                    reached[page] = reached.get(page, 0) + n
            g.update(_classify(g, reached, coverage))
            lang_gaps.append(g)
        lang_gaps.sort(key=lambda g: (-g["contacts_per_week"], -g["failures"]))
        gaps += lang_gaps[:limit_per_lang]
    gaps.sort(key=lambda g: (-g["contacts_per_week"], -g["failures"]))
    return gaps


def _classify(g: dict[str, Any], reached: dict[str, int], coverage: Coverage | None) -> dict[str, Any]:
    best = coverage.best(g["examples"][:5]) if coverage is not None else None
    if best is None and reached:
        # Shoppers opened a page from these searches: whatever the encoder thinks (an
        # English-only one cannot read Bengali), that page is where they went for it.
        page, n = max(reached.items(), key=lambda kv: kv[1])
        if n * 3 >= g["searches"] - g["no_result"] and n >= 3:
            best = {"url": page.strip("/") + "/", "page": page, "title": coverage.title(page) if coverage else page,
                    "section": "", "kind": "article", "similarity": None}
    if best is None:
        return {"kind": "missing" if coverage is not None and coverage.error is None else "unmatched",
                "article": None, "failure_pct": None}
    reached_it = reached.get(best["page"], 0)
    # Search surfaced the covering page for these words when shoppers opened it from these
    # searches; otherwise the words are what the article is missing.
    if reached_it * 2 < g["searches"] - g["no_result"] or g["no_result"] * 2 >= g["searches"]:
        kind = "not found"
    else:
        kind = "failing"
    return {"kind": kind, "article": best, "failure_pct": None, "reached": reached_it}

"""Content gaps: what shoppers search for and do not find, grouped by meaning.

A search *fails* when it had no result, when no result was clicked within 30 minutes, or when
the session contacted support within the window after it. Failing queries are grouped per
language: English queries by the search engine's sentence embeddings (all-MiniLM-L6-v2,
loaded from the local package, never from the hub), other languages by character trigrams,
because that model is English-only and would put every Bengali query in one group. Each group
becomes a "write this next" topic, labelled by its most failing query.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa

from kb_tools.analytics.store import EventStore, query_vectors

Embed = Callable[[Sequence[str]], np.ndarray]
CLICK_WINDOW = 30 * 60_000
MAX_QUERIES = 1500
EMBED_THRESHOLD = 0.6
TRIGRAM_THRESHOLD = 0.4

_FAILURES = """
SELECT s.lang, s.query, COUNT(*) AS searches,
  SUM(CASE WHEN s.results = 0 THEN 1 ELSE 0 END) AS no_result,
  SUM(CASE WHEN s.results > 0 AND NOT EXISTS (
        SELECT 1 FROM events r WHERE r.session = s.session AND r.name = 'result_click'
        AND r.ts >= s.ts AND r.ts < s.ts + :click_window) THEN 1 ELSE 0 END) AS no_click,
  SUM(CASE WHEN EXISTS (
        SELECT 1 FROM events x WHERE x.session = s.session AND x.name = 'contact_click'
        AND x.ts >= s.ts AND x.ts < s.ts + :window)
      OR EXISTS (
        SELECT 1 FROM calls k WHERE k.session = s.session AND k.ts >= s.ts AND k.ts < s.ts + :window)
      THEN 1 ELSE 0 END) AS contacted
FROM events s
WHERE s.name = 'search' AND s.ts >= :since AND s.ts < :until AND s.query IS NOT NULL AND s.query <> ''
GROUP BY s.lang, s.query
"""

_model_lock = threading.Lock()
_model: Any = None


def model_embed(texts: Sequence[str]) -> np.ndarray:
    """Sentence embeddings from the search engine's default model (the packaged
    all-MiniLM-L6-v2, local files only — never the hub), through the search engine's own
    encoder, so queries and pages live in the same space."""
    global _model
    with _model_lock:
        if _model is None:
            from kb_tools.search.embeddings import DEFAULT_MODEL, Encoder, resolve_model

            _model = Encoder(resolve_model(DEFAULT_MODEL))
    return _model.encode(list(texts))


def _model_key() -> str:
    """Names the model in the cache and changes when its files change (the search engine's
    own cache key), so vectors of an older model are never mixed in."""
    from kb_tools.search.embeddings import DEFAULT_MODEL, model_key, resolve_model

    return model_key(resolve_model(DEFAULT_MODEL))


def cached_model_embed(store: EventStore, texts: Sequence[str]) -> np.ndarray:
    """`model_embed` through the store's query_vectors table: the model (and torch, seconds
    to import) is loaded only when a query has never been embedded before."""
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


def content_gaps(store: EventStore, *, since: int, until: int, window: int,
                 embed: Embed | None = None, limit_per_lang: int = 15) -> list[dict[str, Any]]:
    """The "write this next" table: one row per group of failing queries."""
    params = {"since": since, "until": until, "window": window, "click_window": CLICK_WINDOW}
    with store.connect() as conn:
        rows = [r for r in conn.execute(sa.text(_FAILURES), params)
                if (r.no_result or 0) + (r.no_click or 0) + (r.contacted or 0) > 0]
    rows.sort(key=lambda r: -(r.no_result + r.no_click + r.contacted))
    rows = rows[:MAX_QUERIES]
    by_lang: dict[str, list[Any]] = {}
    for r in rows:
        by_lang.setdefault(r.lang or "?", []).append(r)
    gaps: list[dict[str, Any]] = []
    for lang, lrows in sorted(by_lang.items()):
        texts = [r.query for r in lrows]
        weights = [int(r.no_result + r.no_click + r.contacted) for r in lrows]
        if lang == "en":
            try:
                vectors = embed(texts) if embed is not None else cached_model_embed(store, texts)
                threshold = EMBED_THRESHOLD
            except Exception:  # noqa: BLE001 - no model: fall back rather than lose the table
                vectors, threshold = trigram_embed(texts), TRIGRAM_THRESHOLD
        else:
            vectors, threshold = trigram_embed(texts), TRIGRAM_THRESHOLD
        lang_gaps = []
        for group in cluster(vectors, weights, threshold):
            # Named after the query that fails most: a group of "track order" (answered) and
            # "change my order" (no result) asks for the change-an-order article.
            members = sorted(group, key=lambda i: (-weights[i], -lrows[i].searches))
            g = {
                "lang": lang,
                "topic": lrows[members[0]].query,
                "searches": sum(int(lrows[i].searches) for i in group),
                "no_result": sum(int(lrows[i].no_result) for i in group),
                "no_click": sum(int(lrows[i].no_click) for i in group),
                "contacted": sum(int(lrows[i].contacted) for i in group),
                "examples": [lrows[i].query for i in members[:6]],
            }
            g["failures"] = g["no_result"] + g["no_click"] + g["contacted"]
            lang_gaps.append(g)
        lang_gaps.sort(key=lambda g: -g["failures"])
        gaps += lang_gaps[:limit_per_lang]
    return gaps

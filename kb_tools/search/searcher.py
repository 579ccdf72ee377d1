"""``Searcher``: the read-only, thread-safe query side of a built index."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kb_tools.errors import SearchIndexError
from kb_tools.search.analyzer import detect_script
from kb_tools.search.build import CHUNKS, MANIFEST, SCHEMA_VERSION, VECTORS
from kb_tools.search.chunking import Chunk
from kb_tools.search.query import Context, QueryError, SearchQuery, SearchResults
from kb_tools.search.ranking import (
    DEFAULT_FUSION,
    Candidates,
    FusionSettings,
    boost,
    fuse,
    group_by_page,
    preferred_language,
    snippet,
)

CANDIDATES = 50
REBUILD = "run `mkdocs build` (or `KB_SEARCH=true mkdocs build`) to rebuild it"


def index_signature(index_dir: Path) -> tuple[int, int, int] | None:
    """The identity of the index now in ``index_dir`` (None when there is none): a build swaps
    a new folder in, so this changes exactly when there is a new index to load."""
    try:
        st = (Path(index_dir) / MANIFEST).stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Hit:
    url: str  # site-relative: "returns/start-a-return/#step-2"
    title: str
    section: str
    snippet: str  # HTML-escaped, matched words in <mark>
    score: float
    lang: str
    kind: str  # "article" | "video"
    start: float | None = None  # seconds, for video hits

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Searcher:
    """Open the index in ``index_dir`` (raises SearchIndexError when missing or stale).

    The embedding model loads on the first semantic or hybrid query, or on ``warm_up()``.
    """

    def __init__(self, index_dir: str | Path, *, fusion: FusionSettings = DEFAULT_FUSION) -> None:
        import numpy as np

        from kb_tools.search.lexical import LexicalIndex

        self.index_dir = Path(index_dir)
        self.fusion = fusion
        mpath = self.index_dir / MANIFEST
        if not mpath.exists():
            raise SearchIndexError(f"no search index in {self.index_dir}: {REBUILD}")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except ValueError as e:
            raise SearchIndexError(f"{mpath} is unreadable ({e}): {REBUILD}") from e
        if manifest.get("schema") != SCHEMA_VERSION:
            raise SearchIndexError(
                f"the search index in {self.index_dir} has schema {manifest.get('schema')!r}, "
                f"this version reads schema {SCHEMA_VERSION}: {REBUILD}"
            )
        self.manifest: dict[str, Any] = manifest
        try:
            raw = json.loads((self.index_dir / CHUNKS).read_text(encoding="utf-8"))
            self.chunks = [Chunk.from_json(d) for d in raw]
            self.vectors = np.load(self.index_dir / VECTORS)
            self.lexical = LexicalIndex(self.index_dir)
        except Exception as e:
            raise SearchIndexError(f"the search index in {self.index_dir} is broken ({e}): {REBUILD}") from e
        self._page_of = [c.page_url for c in self.chunks]
        self._url_of = [c.url for c in self.chunks]
        self._latin_lang = "en" if "en" in (manifest.get("counts", {}).get("lang") or {}) else None
        self.has_vectors = bool(self.manifest.get("dimension")) and self.vectors.shape[0] == len(self.chunks)
        self._lock = threading.Lock()
        self._tensor: Any = None
        self._encoder: Any = None
        # Filter masks for the values the index holds (a product=/category= value nobody wrote
        # gets the empty mask, uncached): bounded by the index, not by what clients send.
        self._masks: dict[tuple[str, str], Any] = {}
        self._values: dict[str, frozenset[str]] = {}

    # -- model ---------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load the model and run one query, so the first user query is fast."""
        self.lexical.prepare()
        if not self.has_vectors:
            return
        self._semantic_scores("warm up", None)

    def _ensure_model(self) -> None:
        if self._encoder is not None:
            return
        with self._lock:
            if self._encoder is not None:
                return
            import torch

            from kb_tools.search.embeddings import get_encoder, resolve_model

            folder = Path(self.manifest.get("model_path") or "")
            if not folder.is_dir():
                folder = resolve_model(self.manifest.get("model", ""))
            self._tensor = torch.from_numpy(self.vectors)
            self._encoder = get_encoder(folder)

    def _field_mask(self, field: str, value: str) -> Any:
        import numpy as np

        key = (field, value)
        mask = self._masks.get(key)
        if mask is not None:
            return mask
        known = self._values.get(field)
        if known is None:
            if field == "products":
                known = frozenset(p for c in self.chunks for p in c.products)
            else:
                known = frozenset(str(getattr(c, field)) for c in self.chunks)
            self._values[field] = known
        if value not in known:  # matches nothing; not kept, so crafted values cost no memory
            return np.zeros(len(self.chunks), dtype=bool)
        if field == "products":
            vals = [value in c.products for c in self.chunks]
        else:
            vals = [getattr(c, field) == value for c in self.chunks]
        mask = self._masks[key] = np.asarray(vals, dtype=bool)
        return mask

    def _np_mask(self, filters: dict[str, str] | None) -> Any:
        """Chunks that pass every filter (numpy bool array), or None without filters."""
        if not filters:
            return None
        mask = None
        for field, value in filters.items():
            m = self._field_mask(field, value)
            mask = m if mask is None else mask & m
        return mask

    def _semantic_scores(self, text: str, filters: dict[str, str] | None, n: int = CANDIDATES,
                         query_vector: Any = None) -> dict[int, float]:
        """Top ``n`` (chunk id -> cosine), top-k in torch (numpy's BLAS threads fight torch's)."""
        self._ensure_model()
        import torch

        if not self.chunks:
            return {}
        if query_vector is not None:
            q = query_vector
        else:
            q = self._encoder.encode_query_tensor(self.manifest.get("query_prefix", "") + text)
        with torch.inference_mode():
            scores = torch.mv(self._tensor, q)
            mask = self._np_mask(filters)
            if mask is not None:
                scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
            vals, idx = torch.topk(scores, min(n, scores.shape[0]))
        return {int(i): float(v) for v, i in zip(vals.tolist(), idx.tolist(), strict=True) if v != float("-inf")}

    # -- search ----------------------------------------------------------------------------
    @property
    def languages(self) -> list[str]:
        """Languages that have chunks in this index (en, bn, gu, ...), sorted."""
        counts = self.manifest.get("counts")
        langs = counts.get("lang") if isinstance(counts, dict) else None
        return sorted(langs) if isinstance(langs, dict) else []

    def search(self, query: SearchQuery | str, **options: Any) -> SearchResults:
        """The best hits for ``query``: a SearchQuery, or the text plus SearchQuery.parse's
        keyword arguments (``search("refund", k=5, lang="bn")``). Raises QueryError when the
        query is outside the limits or asks for a language the index does not have."""
        if isinstance(query, SearchQuery) and options:
            raise TypeError("pass either a SearchQuery or the text with options, not both")
        q = query if isinstance(query, SearchQuery) else SearchQuery.parse(query, **options)
        langs = self.languages
        if q.lang and langs and q.lang not in langs:
            raise QueryError("unknown_language", f"No pages in language '{q.lang}'. Available: {', '.join(langs)}.")
        mode = q.mode if self.has_vectors else "lexical"
        cands = self.candidates(q.text, mode, q.filters)
        return SearchResults(tuple(self.rank(cands, mode, q.k, q.context)), mode=mode)

    def candidates(self, text: str, mode: str, filters: dict[str, str] | None = None,
                   query_vector: Any = None) -> Candidates:
        """The lexical and semantic candidate lists of one (already cleaned) query."""
        lq = self.lexical.build_query(text)
        lexical: list[tuple[int, float]] = []
        if mode != "semantic" and lq.query is not None:
            lexical = self.lexical.search(lq.query, limit=CANDIDATES, mask=self._np_mask(filters))
        semantic: dict[int, float] = {}
        if mode != "lexical" and self.has_vectors:
            # The model sees the spell-corrected query ("cancle order" -> "cancel order").
            semantic = self._semantic_scores(lq.corrected, filters, query_vector=query_vector)
        return Candidates(lexical, semantic, lq.terms, lq.prefixes, detect_script(text))

    def rank(self, cands: Candidates, mode: str, k: int, context: Context | None = None,
             fusion: FusionSettings | None = None, snippets: bool = True) -> list[Hit]:
        """Fuse, boost and group candidates into hits (ranking.py holds the rules)."""
        f = fusion or self.fusion
        context = context or Context()
        scores = fuse(cands, mode, f)
        lang = preferred_language(cands.script, context, self._latin_lang)
        for cid in scores:
            scores[cid] *= boost(self.chunks[cid], lang, context, f)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        grouped = group_by_page(ranked, self._page_of, self._url_of, k, f.second_section_ratio)
        return [self._hit(cid, score, cands.terms, cands.prefixes, snippets) for cid, score in grouped]

    def _hit(self, cid: int, score: float, terms: set[str], prefixes: set[str], snippets: bool = True) -> Hit:
        c = self.chunks[cid]
        body = c.text or c.summary or c.title
        return Hit(
            url=c.url, title=c.title, section=c.section,
            snippet=snippet(body, terms, prefixes) if snippets else "",
            score=round(float(score), 6), lang=c.lang, kind=c.kind, start=c.start,
        )

    def close(self) -> None:
        self.lexical.close()

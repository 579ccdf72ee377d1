"""From candidates to ranked chunks: fusing the lexical and semantic lists, the language and
context boosts, grouping by page; and snippets."""

from __future__ import annotations

import html
from dataclasses import dataclass

from kb_tools.search.analyzer import normalize_text, words
from kb_tools.search.chunking import Chunk
from kb_tools.search.query import Context


@dataclass(frozen=True)
class FusionSettings:
    """Weights tuned on bench/queries.yaml (see bench/bench_relevance.py)."""

    method: str = "weighted"  # "weighted" | "rrf"
    semantic_weight: float = 0.7  # weighted: share of the semantic score
    semantic_weight_indic: float = 0.0  # same, for Bengali/Gujarati/Hindi queries
    semantic_norm: str = "minmax"  # weighted: "minmax" over the candidates, or "raw" cosine
    rrf_k: float = 5.0
    rrf_lexical: float = 1.0
    rrf_semantic: float = 1.5
    rrf_semantic_indic: float = 0.0
    same_lang_boost: float = 0.25  # a bn/gu query prefers pages in its language
    context_boost: float = 0.3  # context="product:x" boosts chunks about x
    second_section_ratio: float = 0.95  # a page's 2nd section shows if it scores this close


DEFAULT_FUSION = FusionSettings()


@dataclass
class Candidates:
    """What the lexical and semantic sides found for one query, before ranking."""

    lexical: list[tuple[int, float]]  # (chunk id, BM25F) best first
    semantic: dict[int, float]  # chunk id -> cosine, top candidates only
    terms: set[str]  # query terms to highlight
    prefixes: set[str]
    script: str | None  # "bn" / "gu" / "hi" when the query is written in that script


def fuse(cands: Candidates, mode: str, f: FusionSettings) -> dict[int, float]:
    """One score per candidate chunk: the lexical or semantic list alone, or both fused."""
    lexical, semantic = cands.lexical, cands.semantic
    indic = cands.script is not None
    if mode == "lexical":
        top = max((s for _, s in lexical), default=1.0) or 1.0
        return {c: s / top for c, s in lexical}
    if mode == "semantic":
        return dict(semantic)
    if f.method == "rrf":
        sem_ranked = sorted(semantic, key=lambda c: -semantic[c])
        return rrf_fusion([c for c, _ in lexical], sem_ranked, f.rrf_k, f.rrf_lexical,
                          f.rrf_semantic_indic if indic else f.rrf_semantic)
    return weighted_fusion(lexical, semantic, f.semantic_weight_indic if indic else f.semantic_weight,
                           f.semantic_norm)


def preferred_language(script: str | None, context: Context, latin_lang: str | None) -> str | None:
    """Bengali/Gujarati script -> that language; otherwise the context's, else the index's
    Latin-script language (a query in Latin letters is English far more often than
    transliterated Bengali)."""
    return script or context.lang or latin_lang


def boost(chunk: Chunk, lang: str | None, context: Context, f: FusionSettings) -> float:
    """The factor a chunk's fused score is multiplied by: its language is the preferred one,
    it is about the product or in the category the shopper is looking at."""
    factor = 1.0
    if lang and chunk.lang == lang:
        factor += f.same_lang_boost
    if context.product and context.product in chunk.products:
        factor += f.context_boost
    if context.category and chunk.category == context.category:
        factor += f.context_boost
    return factor


def weighted_fusion(
    lexical: list[tuple[int, float]], semantic: dict[int, float], w_sem: float, norm: str = "minmax"
) -> dict[int, float]:
    """Score = w·cosine' + (1-w)·bm25/max(bm25); cosine' rescales the candidates' cosines to
    [0, 1] so neither side dominates by its units."""
    cands = {cid for cid, _ in lexical} | set(semantic)
    if not cands:
        return {}
    top_lex = max((s for _, s in lexical), default=0.0) or 1.0
    lex = {cid: s / top_lex for cid, s in lexical}
    sems = [semantic.get(c, 0.0) for c in cands]
    lo, hi = min(sems), max(sems)
    span = (hi - lo) or 1.0
    if norm == "raw":
        lo, span = 0.0, 1.0
    # A sliver of the semantic score always counts, to order what the words do not decide
    # (with w_sem = 0 for Bengali/Gujarati queries, English pages still come in model order).
    w_sem = max(w_sem, 1e-3)
    return {
        c: w_sem * ((semantic.get(c, lo) - lo) / span) + (1 - w_sem) * lex.get(c, 0.0)
        for c in cands
    }


def rrf_fusion(
    lexical: list[int], semantic: list[int], k: float, w_lex: float, w_sem: float
) -> dict[int, float]:
    """Reciprocal rank fusion: sum of w / (k + rank) over the lists a chunk appears in."""
    out: dict[int, float] = {}
    for w, ranked in ((w_lex, lexical), (w_sem, semantic)):
        for rank, cid in enumerate(ranked, 1):
            out[cid] = out.get(cid, 0.0) + w / (k + rank)
    return out


def group_by_page(
    ranked: list[tuple[int, float]], page_of: list[str], url_of: list[str], k: int, ratio: float
) -> list[tuple[int, float]]:
    """Pages in the order of their best chunk; each page's best section first, then at most
    one more of its sections when that one scores within ``ratio`` of the best."""
    pages: dict[str, list[tuple[int, float]]] = {}
    seen: set[str] = set()
    for cid, score in ranked:
        if url_of[cid] in seen:  # two chunks of one long section: show it once
            continue
        seen.add(url_of[cid])
        pages.setdefault(page_of[cid], []).append((cid, score))
    out: list[tuple[int, float]] = []
    for items in pages.values():
        best = items[0]
        out.append(best)
        if len(items) > 1 and best[1] > 0 and items[1][1] >= ratio * best[1]:
            out.append(items[1])
        if len(out) >= k:
            break
    return out[:k]


def snippet(text: str, match_terms: set[str], prefixes: set[str], width: int = 200) -> str:
    """About ``width`` characters of ``text`` around the best cluster of matched words,
    HTML-escaped, matched words wrapped in <mark>."""
    if not text:
        return ""
    ws = words(text)
    hits = [w for w in ws if w.term in match_terms or any(w.term.startswith(p) for p in prefixes)]
    if hits:
        # Window starting at the hit that has the most other hits within ``width`` chars.
        best_i, best_n = 0, -1
        for i, h in enumerate(hits):
            n = sum(1 for o in hits[i:] if o.end - h.start <= width)
            if n > best_n:
                best_i, best_n = i, n
        start = max(0, hits[best_i].start - 40)
    else:
        start = 0
    text = normalize_text(text)
    end = min(len(text), start + width)
    # Do not cut words in half.
    if start > 0:
        sp = text.rfind(" ", 0, start)
        start = sp + 1 if sp != -1 else 0
    if end < len(text):
        sp = text.find(" ", end)
        end = sp if sp != -1 and sp - end < 30 else end
    out: list[str] = ["…" if start > 0 else ""]
    pos = start
    for h in hits:
        if h.start < start or h.end > end:
            continue
        out.append(html.escape(text[pos : h.start]))
        out.append("<mark>" + html.escape(text[h.start : h.end]) + "</mark>")
        pos = h.end
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)

"""From candidates to ranked chunks: fusing the lexical and semantic lists, the language and
context boosts, grouping by page; and snippets."""

from __future__ import annotations

import html
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from kb_tools.search.analyzer import normalize_text, spans
from kb_tools.search.chunking import Chunk
from kb_tools.search.query import Context


@dataclass(frozen=True)
class FusionSettings:
    """Weights tuned on the tune split of bench/queries.yaml (bench/bench_relevance.py --tune)."""

    method: str = "weighted"  # "weighted" | "rrf"
    semantic_weight: float = 0.7  # weighted: share of the semantic score (Latin-script queries)
    semantic_weight_indic: float = 0.8  # same, for queries in Bengali/Gujarati/Devanagari script
    semantic_weight_romanized: float = 0.6  # same, for Bengali/Gujarati/Hindi in Latin letters
    # An Indic-script question whose words a chunk has nearly all of (the best lexical chunk's
    # coverage, at least this share) is asked in the pages' own words: the words are the
    # surer signal there (tune: native Bengali lexical 0.956 against 0.899 hybrid), and it takes
    # only semantic_weight_indic_worded from the encoder. A question answered only on an English
    # page rarely covers a page of its own language that well, and keeps the encoder's share.
    # At most: with an English-only encoder (ENGLISH_ONLY_FUSION) these queries stay lexical.
    worded_coverage: float = 0.75
    semantic_weight_indic_worded: float = 0.6
    semantic_norm: str = "minmax"  # weighted: "minmax" over the candidates, or "raw" cosine
    lexical_norm: str = "max"  # "max": bm25 / the best bm25; "coverage": share of the query's words matched
    lexical_norm_indic: str = "max"  # the same, for Indic-script and romanized queries
    rrf_k: float = 5.0
    rrf_lexical: float = 1.0
    rrf_semantic: float = 1.5
    rrf_semantic_indic: float = 1.0
    same_lang_boost: float = 0.0  # a query prefers chunks in its language (translations are folded anyway)
    # A romanized query's English loanwords ("refund kyare malse") match the English pages
    # word for word; its own language's pages get this much more (tune split: romanized MRR
    # up, while a boost for native-script queries costs cross-lingual ones their English answer).
    same_lang_boost_romanized: float = 0.1
    # context="product:x" (the page the shopper searches from): hits whose confidence is within
    # this share of the best hit's answer the question about as well; among those, the ones
    # about x (or in the context's category) come first. The context breaks ties between
    # answers, it never outranks the question (context_order).
    context_tie: float = 0.85
    video_factor: float = 0.9  # a video transcript's score is multiplied by this (articles first when close)
    # An overview page (a section's index: the home page, a category's page, the videos
    # gallery) lists the titles and summaries of the pages under it, so it matches nearly any
    # question about them; the page it points to is the answer. Tune split: see the README.
    overview_factor: float = 0.7
    second_section_ratio: float = 0.95  # a page's 2nd section shows if it scores this close
    # A translated section's semantic score takes this share from its original page's best
    # section (Translations.agree_with_originals; tune split, see the README).
    original_share: float = 0.5


DEFAULT_FUSION = FusionSettings()
# An English-only encoder (all-MiniLM-L6-v2) reads Bengali, Gujarati and romanized queries as
# noise: their ranking is lexical, and a query prefers pages in its own language (as before
# issue 10, when that model was the default).
ENGLISH_ONLY_FUSION = FusionSettings(semantic_weight_indic=0.0, semantic_weight_romanized=0.0, same_lang_boost=0.25,
                                     same_lang_boost_romanized=0.25)
ENGLISH_ONLY_MODELS = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


@dataclass
class Candidates:
    """What the lexical and semantic sides found for one query, before ranking."""

    lexical: list[tuple[int, float]]  # (chunk id, BM25F) best first
    semantic: dict[int, float]  # chunk id -> semantic ranking score (a cosine, or a centred one)
    terms: set[str]  # query terms to highlight
    prefixes: set[str]
    script: str | None  # "bn" / "gu" / "hi" when the query is written in that script
    query_lang: str | None = None  # "en", "bn", "bn-Latn", ... (romanized.detect_language)
    coverage: dict[int, float] = field(default_factory=dict)  # chunk id -> share of the query's words matched
    cosine: dict[int, float] = field(default_factory=dict)  # chunk id -> plain cosine
    centred: dict[int, float] = field(default_factory=dict)  # chunk id -> cosine minus the query's mean cosine to its language
    known: float = 0.0  # share of the query's words found in the pages
    words: int = 0  # words typed
    best_centered: float = 0.0  # the best centred cosine of any chunk
    semantic_pages: list[tuple[str, float]] = field(default_factory=list)  # translation groups by best centred cosine
    known_weighted: float = 0.0  # ``known`` with each word weighted by how rare it is in the pages
    offtopic: float = 0.0  # best centred cosine to the off-topic bank minus best_centered (answer.py)
    shop: float = 0.0  # best cosine to the shop bank, centred on the off-topic bank's script means (answer.py)
    other_language: float = 0.0  # best centred cosine of a chunk in another language than the question's (answer.py)
    vector: Any = None  # the query's vector (None without the semantic side): the decision compares it with headings

    @property
    def romanized(self) -> bool:
        return bool(self.query_lang and self.query_lang.endswith("-Latn"))


def fuse(cands: Candidates, mode: str, f: FusionSettings) -> dict[int, float]:
    """One score per candidate chunk: the lexical or semantic list alone, or both fused."""
    lexical, semantic = cands.lexical, cands.semantic
    if mode == "lexical":
        top = max((s for _, s in lexical), default=1.0) or 1.0
        return {c: s / top for c, s in lexical}
    if mode == "semantic":
        return dict(semantic)
    indic = cands.script is not None
    if f.method == "rrf":
        sem_ranked = sorted(semantic, key=lambda c: -semantic[c])
        return rrf_fusion([c for c, _ in lexical], sem_ranked, f.rrf_k, f.rrf_lexical,
                          f.rrf_semantic_indic if indic or cands.romanized else f.rrf_semantic)
    w = f.semantic_weight_romanized if cands.romanized else f.semantic_weight_indic if indic else f.semantic_weight
    if indic and not cands.romanized and lexical and cands.coverage.get(lexical[0][0], 0.0) >= f.worded_coverage:
        w = min(w, f.semantic_weight_indic_worded)  # never more: an English-only encoder's is 0
    norm = f.lexical_norm_indic if indic or cands.romanized else f.lexical_norm
    if norm == "coverage" and cands.coverage:
        lexical = [(c, cands.coverage.get(c, 0.0)) for c, _ in lexical]
        return weighted_fusion(lexical, semantic, w, f.semantic_norm, lexical_scale=1.0)
    return weighted_fusion(lexical, semantic, w, f.semantic_norm)


def preferred_language(query_lang: str | None, context: Context, latin_lang: str | None) -> str | None:
    """The language of the query (Bengali typed in Latin letters is Bengali); for an English
    query the context's, else the index's Latin-script language."""
    base = query_lang.split("-")[0] if query_lang else None
    if base and base != (latin_lang or "en"):
        return base
    return context.lang or latin_lang


def boost(chunk: Chunk, lang: str | None, f: FusionSettings, romanized: bool = False, overview: bool = False) -> float:
    """The factor a chunk's fused score is multiplied by: its language is the preferred one;
    a video transcript yields to an article that scores about as well, an ``overview`` page
    (one with pages under it) to the pages it lists. (The shopper's context is applied after,
    by :func:`context_order`.)"""
    factor = 1.0
    if lang and chunk.lang == lang:
        factor += f.same_lang_boost_romanized if romanized else f.same_lang_boost
    if overview:
        factor *= f.overview_factor
    return factor * f.video_factor if chunk.kind == "video" else factor


def about_context(chunk: Chunk, context: Context) -> bool:
    """The chunk is about the product, or in the category, the shopper is looking at."""
    return bool((context.product and context.product in chunk.products)
                or (context.category and chunk.category == context.category))


def context_order(grouped: list[tuple[int, float]], confidence: list[float], chunks: list[Chunk],
                  context: Context, f: FusionSettings) -> list[int]:
    """The order to show ``grouped`` hits in on the page the shopper searches from: the hits
    that answer the question about as well as the best one (a confidence within
    ``f.context_tie`` of the best; the score where there is no answer model) and are about
    the shopper's product or category come first, in their own order; then the rest as ranked.
    The context breaks ties between answers; it never lifts a page that does not answer."""
    order = list(range(len(grouped)))
    if not grouped or not (context.product or context.category):
        return order
    level = confidence if any(c > 0 for c in confidence) else [score for _, score in grouped]
    band = f.context_tie * max(level)
    front = [i for i in order if level[i] > 0 and level[i] >= band and about_context(chunks[grouped[i][0]], context)]
    return front + [i for i in order if i not in front]


def overview_pages(page_urls: list[str]) -> frozenset[str]:
    """Pages whose URL is the folder of other pages (``returns/`` of ``returns/exchanges/``,
    the home page ``""`` of every page in its language): section indexes, whatever the site."""
    pages = set(page_urls)
    parents: set[str] = set()
    for url in pages:
        path = url.strip("/")
        while path:
            path = path.rpartition("/")[0]
            parents.add(path + "/" if path else "")
    return frozenset(p for p in pages if p in parents)


def weighted_fusion(
    lexical: list[tuple[int, float]], semantic: dict[int, float], w_sem: float, norm: str = "minmax",
    lexical_scale: float | None = None,
) -> dict[int, float]:
    """Score = w·cosine' + (1-w)·lexical'; cosine' rescales the candidates' cosines to [0, 1]
    so neither side dominates by its units; lexical' is bm25/max(bm25), or the lexical scores
    divided by ``lexical_scale`` when they are already on an absolute scale (coverage)."""
    cands = {cid for cid, _ in lexical} | set(semantic)
    if not cands:
        return {}
    top_lex = lexical_scale or max((s for _, s in lexical), default=0.0) or 1.0
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
    ranked: list[tuple[int, float]], page_of: list[str], url_of: list[str], k: int, ratio: float,
    translations: Translations | None = None, lang: str | None = None,
) -> list[tuple[int, float]]:
    """Pages in the order of their best chunk; each page's best section first, then at most
    one more of its sections when that one scores within ``ratio`` of the best.

    With ``translations``, a page and its translations are one result: it ranks by the best
    chunk of any of them and shows the page in ``lang`` when there is one (else the site's
    default language, else the page that matched) — a Bengali question answered by the
    English text of a translated page gets the Bengali page."""
    pages: dict[str, list[tuple[int, float]]] = {}
    seen: set[str] = set()
    for cid, score in ranked:
        if url_of[cid] in seen:  # two chunks of one long section: show it once
            continue
        seen.add(url_of[cid])
        pages.setdefault(page_of[cid], []).append((cid, score))
    folded = translations.folded(pages, lang) if translations is not None else iter(pages.values())
    out: list[tuple[int, float]] = []
    for items in folded:  # folded as far as the k results need, no further
        best = items[0]
        out.append(best)
        if len(items) > 1 and best[1] > 0 and items[1][1] >= ratio * best[1]:
            out.append(items[1])
        if len(out) >= k:
            break
    return out[:k]


class Translations:
    """Which pages are translations of each other. A page in ``docs/bn/x.md`` translates
    ``docs/x.md`` (CONTRIBUTING.md: the language folders mirror the English paths), so the
    page URLs ``bn/x/`` and ``x/`` are one group."""

    def __init__(self, chunks: list[Chunk], default_lang: str | None) -> None:
        self.default_lang = default_lang
        self.group: dict[str, str] = {}  # page url -> group
        self.members: dict[str, dict[str, str]] = {}  # group -> lang -> page url
        self.first_chunk: dict[str, int] = {}  # page url -> its first chunk
        self._page_urls = [c.page_url for c in chunks]
        for cid, c in enumerate(chunks):
            if c.page_url in self.group:
                continue
            key = translation_key(c.page_url, c.lang, default_lang)
            self.group[c.page_url] = key
            self.members.setdefault(key, {}).setdefault(c.lang, c.page_url)
            self.first_chunk[c.page_url] = cid

    @cached_property
    def _originals(self) -> tuple[Any, Any]:
        """Each chunk's page as a number, and the number of the page it translates (the
        default language's page of its group; -1 for an original or a page with none)."""
        import numpy as np

        number = {url: i for i, url in enumerate(self.first_chunk)}
        original = {url: self.members[self.group[url]].get(self.default_lang or "", url) for url in number}
        page = np.asarray([number[u] for u in self._page_urls], dtype=np.int64)
        of = np.asarray([number[original[u]] if original[u] != u else -1 for u in self._page_urls], dtype=np.int64)
        return page, of

    @cached_property
    def _agreement(self) -> tuple[Any, Any, Any, Any]:
        """What :meth:`agree_with_originals` reads, worked out once per index: the translated
        chunks (``translated``), the chunks of the pages they translate grouped page by page
        (``rows``, each page's run starting at ``starts``), and for each translated chunk the
        run of its original page (``run``)."""
        import numpy as np

        page, original = self._originals
        translated = np.flatnonzero(original >= 0)
        needed = np.unique(original[translated])  # the original pages, ascending
        rows = np.flatnonzero(np.isin(page, needed))
        rows = rows[np.argsort(page[rows], kind="stable")]  # a page's chunks need not be adjacent
        starts = np.flatnonzero(np.r_[True, page[rows][1:] != page[rows][:-1]])
        run = np.searchsorted(needed, original[translated])
        return translated, rows, starts, run

    def agree_with_originals(self, scores: Any, share: float) -> Any:
        """``scores`` (one per chunk, a numpy array) with each translated section's taking
        ``share`` of its original page's best section score. A question meets a page of its
        own language nearer than any page of another language by language alone, however the
        scores are centred; its original page's sections say what the page is about on the
        other language's scale. A page of the shopper's language about another topic then no
        longer outranks the English-only answer, and a translated answer keeps its place
        because its original agrees (questions of the default language never come here)."""
        translated, rows, starts, run = self._agreement
        if share <= 0 or not translated.size:
            return scores
        import numpy as np

        # Each original page's best score: one max over each page's run of chunks (the same
        # maxima as ``np.maximum.at`` over every chunk, a fifth of its time at 10k chunks).
        best = np.maximum.reduceat(np.asarray(scores)[rows], starts).astype(float)
        out = np.array(scores, dtype=float)
        out[translated] = (1 - share) * out[translated] + share * best[run]
        return out

    def shown(self, group: str, lang: str | None, matched: str) -> str:
        members = self.members.get(group, {})
        for want in (lang, self.default_lang):
            if want and want in members:
                return members[want]
        return matched

    def folded(self, pages: dict[str, list[tuple[int, float]]], lang: str | None) -> Iterator[list[tuple[int, float]]]:
        """``pages`` (page url -> its chunks, best first, pages in rank order) with the
        translations of one page merged under the page to show: each shown page's chunks, in
        rank order, worked out when asked for (a caller that needs ten results folds no
        further; a page is placed once, by the best-ranked member of its group)."""
        placed: set[str] = set()
        for page, items in pages.items():
            group = self.group.get(page, page)
            shown = self.shown(group, lang, page)
            if shown in placed:
                continue  # a better-ranked translation already placed this group
            placed.add(shown)
            own = pages.get(shown)
            if own:
                yield own if own[0][1] >= items[0][1] else [(own[0][0], items[0][1]), *own[1:]]
            else:  # the shown page has no matching section: its first one, at the group's score
                yield [(self.first_chunk.get(shown, items[0][0]), items[0][1])]


def translation_key(page_url: str, lang: str, default_lang: str | None) -> str:
    """The URL a page and its translations share: ``bn/returns/policy/`` -> ``returns/policy/``."""
    prefix = f"{lang}/"
    if lang != default_lang and page_url.startswith(prefix):
        return page_url[len(prefix):]
    return page_url


@lru_cache(maxsize=4096)
def _analysed(text: str) -> tuple[tuple[str, ...], array[int], array[int], str]:
    """A chunk's terms, their start and end offsets, and its normalised text: the same for
    every query, so analysed once (tokenising ten hits' texts was a third of a hybrid search's
    own time at 10k chunks). Kept as a tuple of strings and two integer arrays, not as
    ``Word`` objects: the garbage collector never looks inside those, while thousands of
    cached chunks' ``Word`` objects (about 200 a chunk) made every full collection visit them
    all (the slowest searches of ``bench_speed --tail``)."""
    ws = spans(text)
    terms, starts, ends = zip(*ws, strict=True) if ws else ((), (), ())
    return terms, array("l", starts), array("l", ends), normalize_text(text)


def snippet(text: str, match_terms: set[str], prefixes: set[str], width: int = 200) -> str:
    """About ``width`` characters of ``text`` around the best cluster of matched words,
    HTML-escaped, matched words wrapped in <mark>."""
    if not text:
        return ""
    terms, starts, ends, text = _analysed(text)
    if prefixes:
        begins = tuple(prefixes)
        hits = [i for i, t in enumerate(terms) if t in match_terms or t.startswith(begins)]
    else:
        hits = [i for i, t in enumerate(terms) if t in match_terms]
    if hits:
        # Window starting at the hit that has the most other hits within ``width`` chars
        # (words come in text order, so the hits' ends ascend: a bisection counts them).
        hit_ends = [ends[i] for i in hits]
        best_i, best_n = 0, -1
        for j, i in enumerate(hits):
            n = bisect_right(hit_ends, starts[i] + width, j) - j
            if n > best_n:
                best_i, best_n = j, n
        start = max(0, starts[hits[best_i]] - 40)
    else:
        start = 0
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
    for i in hits:
        if starts[i] < start or ends[i] > end:
            continue
        out.append(html.escape(text[pos : starts[i]]))
        out.append("<mark>" + html.escape(text[starts[i] : ends[i]]) + "</mark>")
        pos = ends[i]
    out.append(html.escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return "".join(out)

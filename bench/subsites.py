"""A shop's help center with some of its pages removed: questions it does not cover, and small sites.

A labelled answerable question whose pages are gone from the index is a question *that* help
center does not cover: on topic for the shop ("delivery charge outside dhaka" at a shop whose
delivery pages are gone), the kind of no-answer question a shop's own shoppers ask and a fixed
list of off-topic questions never holds. Removing pages also makes small sites (a shop with 8
pages) out of the shops we have. bench_shops --subsites measures the answer decision on both.

A sub-site's index is the full index's chunks, vectors, heading vectors and site words, less the removed pages,
with its lexical index written anew from the chunks left (``build._write``, as a build of those
pages writes it): every signal of the decision (word statistics, per-language means, overview
pages) is computed as on a real index of those pages, without a model run.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_relevance import Run, rank_all

SIZES = (4, 8, 0)  # translation groups kept; 0: half of the site's
SEEDS = 3  # random sub-sites per size


@dataclass
class SubSite:
    """One sub-site's queries, searched: ``origin`` says what each question is there."""

    name: str
    groups: int  # translation groups of answer pages kept
    pages: int  # pages in its index (overviews and translations included)
    searcher: Any
    runs: list[Run]


def subset_index(full: Path, keep: set[str], out: Path) -> Path:
    """The index of the pages ``keep`` of the built index ``full``, written to ``out``."""
    import numpy as np

    from kb_tools.search.build import (
        CHUNKS,
        HEADINGS,
        MANIFEST,
        SITE_FRAMES,
        SITE_GLOSSARY,
        SITE_SYNONYMS,
        VECTORS,
        SiteWords,
        _write,
    )
    from kb_tools.search.chunking import Chunk

    chunks = [Chunk.from_json(d) for d in json.loads((full / CHUNKS).read_text(encoding="utf-8"))]
    rows = [i for i, c in enumerate(chunks) if c.page_url in keep]
    manifest = json.loads((full / MANIFEST).read_text(encoding="utf-8"))
    manifest = {k: v for k, v in manifest.items() if k not in ("chunks", "pages", "counts", "built_at", "build_seconds")}
    words = SiteWords.read(*(p if p.exists() else None for p in (full / SITE_GLOSSARY, full / SITE_SYNONYMS,
                                                                  full / SITE_FRAMES)))
    _write(out, [chunks[i] for i in rows], np.load(full / VECTORS)[rows], manifest, time.perf_counter(), words,
           np.load(full / HEADINGS)[rows])
    return out


def answer_groups(searcher: Any) -> dict[str, list[str]]:
    """Translation group -> its pages, overview pages (home, section indexes) left out: a
    sub-site keeps or drops a page with all its translations."""
    from kb_tools.search.ranking import overview_pages

    overviews = overview_pages(searcher._page_of)
    out: dict[str, list[str]] = {}
    for page in dict.fromkeys(searcher._page_of):
        if page not in overviews:
            out.setdefault(searcher.translations.group[page], []).append(page)
    return out


def with_live_overviews(pages: set[str], overviews: set[str], homes: set[str]) -> set[str]:
    """``pages``, the ``homes`` (the site's and each language's home page) and the other
    overview pages that still have a page under them."""
    kept = set(pages) | (overviews & homes)
    for o in overviews - homes:
        if any(p.startswith(o) for p in pages):
            kept.add(o)
    return kept


def relabel(queries: list[dict[str, Any]], kept: set[str]) -> list[dict[str, Any]]:
    """The queries with their expected pages cut to those kept; ``origin``: ``none`` (no answer
    on the whole site), ``kept`` (an answer page remains), ``uncovered`` (all are gone)."""
    out = []
    for q in queries:
        expect = [e for e in q["expect"] if e.strip("/") + "/" in kept or e.strip("/") in kept]
        origin = "none" if not q["expect"] else ("kept" if expect else "uncovered")
        out.append({**q, "expect": expect, "origin": origin})
    return out


class VectorCache:
    """Query vectors by the text the encoder reads: a sub-site changes that text only where its
    words do (a romanized reading, a spelling fix), so most questions are encoded once."""

    def __init__(self) -> None:
        self.vectors: dict[str, Any] = {}

    def searched(self, index_dir: Path, queries: list[dict[str, Any]]) -> tuple[Any, list[Run]]:
        from kb_tools.search import Searcher

        s = Searcher(index_dir)
        s.warm_up()
        texts = []
        for q in queries:
            lang = s.query_language(q["q"])
            texts.append(s.encoder_text(q["q"], lang, s.lexical.build_query(q["q"], lang)))
        todo = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        for i in range(0, len(todo), 64):
            self.vectors.update(zip(todo[i:i + 64], s.encoder.encode_queries(todo[i:i + 64]), strict=True))
        runs = [Run(q, s.candidates(q["q"], "hybrid", query_vector=self.vectors[t]))
                for q, t in zip(queries, texts, strict=True)]
        rank_all(s, runs, modes=("hybrid",))
        return s, runs


def subsites(name: str, full: Path, queries: list[dict[str, Any]], work: Path, cache: VectorCache,
             sizes: tuple[int, ...] = SIZES, seeds: int = SEEDS) -> list[SubSite]:
    """``seeds`` random sub-sites of the built index ``full`` per size (translation groups of
    answer pages kept; 0: half), each searched with ``queries`` relabelled."""
    from kb_tools.search import Searcher
    from kb_tools.search.ranking import overview_pages

    whole = Searcher(full)
    groups = answer_groups(whole)
    keys = sorted(groups)
    overviews = set(overview_pages(whole._page_of))
    homes = {o for o in overviews if o.strip("/") in {"", *whole._lang_of}}
    out = []
    for size in sizes:
        k = min(size or len(keys) // 2, len(keys))
        for seed in range(seeds):
            chosen = random.Random(f"{name}-{k}-{seed}").sample(keys, k)
            kept = with_live_overviews({p for g in chosen for p in groups[g]}, overviews, homes)
            index = subset_index(full, kept, work / "subsites" / f"{name}-{k}-{seed}")
            searcher, runs = cache.searched(index, relabel(queries, kept))
            out.append(SubSite(name, k, len(kept), searcher, runs))
    return out

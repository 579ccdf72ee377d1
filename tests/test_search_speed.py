"""Speed work that must not change a result: each faster path gives exactly what the plain
one gave (the same numbers, bit for bit), on the shapes real indexes have."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kb_tools.search.chunking import Chunk
from kb_tools.search.ranking import Translations


def site_chunks(n: int, seed: int) -> list[Chunk]:
    """``n`` chunks of English pages, some translated into Bengali and Gujarati, each page of
    1-6 sections, in shuffled order (a page's chunks need not be adjacent)."""
    rng = random.Random(seed)
    out: list[Chunk] = []
    topic = 0
    while len(out) < n:
        topic += 1
        for lang in ("en", "bn", "gu"):
            if lang != "en" and rng.random() < 0.4:
                continue
            page = f"t{topic}/" if lang == "en" else f"{lang}/t{topic}/"
            out += [Chunk(url=f"{page}#s{s}", page_url=page, title=f"T{topic}", section=f"S{s}", heading_path=(),
                          text="x", lang=lang, kind="article") for s in range(rng.randint(1, 6))]
    rng.shuffle(out)
    return out[:n]


def agree_plainly(t: Translations, scores: np.ndarray, share: float) -> np.ndarray:
    """Translations.agree_with_originals as round 11 wrote it: every chunk's score folded into
    its page's best with ``np.maximum.at``."""
    page, original = t._originals
    translated = original >= 0
    best = np.full(int(page.max()) + 1, -np.inf)
    np.maximum.at(best, page, scores)
    out = np.array(scores, dtype=float)
    out[translated] = (1 - share) * out[translated] + share * best[original[translated]]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_translated_sections_agree_with_their_originals_as_before(seed: int, dtype: type) -> None:
    chunks = site_chunks(3000, seed)
    t = Translations(chunks, "en")
    scores = np.random.default_rng(seed).standard_normal(len(chunks)).astype(dtype)
    for share in (0.5, 0.25, 1.0):
        fast, plain = t.agree_with_originals(scores, share), agree_plainly(t, scores, share)
        assert fast.dtype == plain.dtype and fast.tobytes() == plain.tobytes()
    assert t.agree_with_originals(scores, 0.0) is scores  # no share: the scores themselves


def test_a_site_without_translations_keeps_its_scores() -> None:
    chunks = [c for c in site_chunks(500, 4) if c.lang == "en"]
    scores = np.arange(len(chunks), dtype=np.float32)
    assert Translations(chunks, "en").agree_with_originals(scores, 0.5) is scores


def fold_plainly(t: Translations, pages: dict[str, list[tuple[int, float]]], lang: str | None) -> list[list[tuple[int, float]]]:
    """Round 11's Translations.fold: every page folded, then read in order."""
    out: dict[str, list[tuple[int, float]]] = {}
    for page, items in pages.items():
        shown = t.shown(t.group.get(page, page), lang, page)
        if shown in out:
            continue
        own = pages.get(shown)
        if own:
            out[shown] = own if own[0][1] >= items[0][1] else [(own[0][0], items[0][1]), *own[1:]]
        else:
            out[shown] = [(t.first_chunk.get(shown, items[0][0]), items[0][1])]
    return list(out.values())


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_results_fold_translations_as_before(seed: int) -> None:
    """group_by_page folds translations only as far as the k results need: the same results
    as folding every page first, for each language asked and each k."""
    from kb_tools.search.ranking import group_by_page

    chunks = site_chunks(2000, seed)
    t = Translations(chunks, "en")
    rng = random.Random(seed)
    ranked = sorted(((cid, rng.random()) for cid in rng.sample(range(len(chunks)), 120)), key=lambda kv: -kv[1])
    page_of, url_of = [c.page_url for c in chunks], [c.url for c in chunks]
    for lang in ("en", "bn", "gu", None):
        for k in (1, 5, 10, 40):
            pages: dict[str, list[tuple[int, float]]] = {}
            seen: set[str] = set()
            for cid, score in ranked:
                if url_of[cid] not in seen:
                    seen.add(url_of[cid])
                    pages.setdefault(page_of[cid], []).append((cid, score))
            plain: list[tuple[int, float]] = []
            for items in fold_plainly(t, pages, lang):
                plain.append(items[0])
                if len(items) > 1 and items[0][1] > 0 and items[1][1] >= 0.95 * items[0][1]:
                    plain.append(items[1])
                if len(plain) >= k:
                    break
            assert group_by_page(ranked, page_of, url_of, k, 0.95, t, lang) == plain[:k]

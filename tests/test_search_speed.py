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


def test_a_hits_dict_is_what_dataclasses_asdict_gave() -> None:
    """Hit.to_dict writes the fields itself (asdict deep-copied each value): the same keys in
    the same order (the API's JSON) and the same values, for an article and a video hit."""
    from dataclasses import asdict

    from kb_tools.search import Hit

    hits = [Hit(url="returns/x/#s", title="Return", section="Step 1", snippet="a <mark>b</mark>", score=0.123456,
                lang="bn", kind="article", confidence=0.5),
            Hit(url="videos/v/", title="V", section="", snippet="", score=1.0, lang="en", kind="video", start=12.5)]
    for hit in hits:
        assert list(hit.to_dict().items()) == list(asdict(hit).items())


def test_a_term_a_field_does_not_hold_stays_absent_and_the_rest_reads_as_before(tmp_path) -> None:
    """PostingLists remembers the terms a field does not hold (a search asks ~10 a time): asked
    again they are still empty, a term the field holds reads as before, and the memory is
    bounded (the oldest forgotten first)."""
    from kb_tools.records import PageRecord
    from kb_tools.search import Searcher
    from kb_tools.search.build import build_lexical_index
    from kb_tools.search.lexical import PostingLists

    pages = [PageRecord(url=f"p{i}/", title=f"Refund {i}", html=f"<p>refund money item{i}</p>", lang="en")
             for i in range(20)]
    build_lexical_index(pages, [], tmp_path / "idx")
    lexical = Searcher(tmp_path / "idx").lexical
    postings = PostingLists(lexical.ix)
    postings.ABSENT_KEPT = 3
    fresh = PostingLists(lexical.ix)
    for _ in range(2):
        for term in ("nosuch", "refund", "other", "item7", "third", "fourth"):
            ids, tfs = postings.read("body", term)
            want_ids, want_tfs = fresh.read("body", term)
            assert ids.tolist() == want_ids.tolist() and tfs.tolist() == want_tfs.tolist()
            assert ids.dtype == want_ids.dtype and tfs.dtype == want_tfs.dtype
    assert postings.read("body", "refund")[0].size == 20
    assert list(postings._absent) == [("body", "other"), ("body", "third"), ("body", "fourth")]
    postings.close()
    fresh.close()


@pytest.mark.parametrize("seed", [8, 9, 10])
def test_hit_features_read_the_best_of_every_candidate_of_a_hits_group(seed: int) -> None:
    """answer.hit_features works the best coverage and cosines out for the hits' groups only:
    each is still the best over every candidate of that group (round 14 worked them out for
    every group the candidates had)."""
    from kb_tools.search.answer import hit_features
    from kb_tools.search.ranking import Candidates

    rng = random.Random(seed)
    group_of = [f"g{rng.randrange(40)}" for _ in range(400)]
    lexical = [(c, rng.random() * 9) for c in rng.sample(range(400), 50)]
    semantic = rng.sample(range(400), 60) + [c for c, _ in lexical[:10]]
    cands = Candidates(lexical, {c: rng.random() for c in semantic}, set(), set(), None, query_lang="en",
                       coverage={c: rng.random() for c, _ in lexical if rng.random() < 0.8},
                       cosine={c: rng.uniform(-0.2, 0.9) for c in semantic if rng.random() < 0.9},
                       centred={c: rng.uniform(-1.5, 0.3) for c in semantic},
                       semantic_pages=[(f"g{i}", 0.5 - i / 100) for i in range(20)], words=3)
    grouped = [(c, s) for c, s in rng.sample([*lexical, *((c, 0.1) for c in semantic)], 10)]
    for mode in ("hybrid", "lexical"):
        feats = hit_features(cands, grouped, group_of, mode, ["en"] * 10)
        for f, (cid, _) in zip(feats, grouped, strict=True):
            g = group_of[cid]
            lex = [cands.coverage.get(c, 0.0) for c, _ in lexical if group_of[c] == g]
            sem = [c for c in cands.centred if group_of[c] == g]
            assert f["coverage"] == (max([0.0, *lex]) if lex else 0.0)
            if mode == "lexical":
                assert f["cosine"] == f["cosine_centered"] == 0.0
                continue
            assert f["cosine_centered"] == (max([-1.0, *(cands.centred[c] for c in sem)]) if sem else 0.0)
            assert f["cosine"] == (max([-1.0, *(cands.cosine.get(c, 0.0) for c in sem)]) if sem else 0.0)

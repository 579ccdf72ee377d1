"""Grouping shoppers' queries by what they want (intent), per language.

Measured by `bench/bench_clusters.py` against labelled intents (the Bitext set in English, our
own Bengali and Gujarati questions in native script and Latin letters):

- Queries written in English: all-MiniLM-L6-v2 sentence vectors with the mean vector of the
  set removed (the direction every support query shares), clustered by HDBSCAN with a minimum
  cluster size of 5; queries HDBSCAN calls noise stay on their own. On Bitext (40 queries per
  intent): purity 0.87, adjusted Rand index 0.57, where today's greedy centroid reached
  0.76 / 0.63 only at a purity below the floor and 0.85 / 0.54 at it.
- Bengali and Gujarati, native or romanized: no sentence encoder we can ship separates their
  intents (multilingual-e5-small puts "how do I track my order" next to "how do I cancel my
  order" in Bengali: ARI 0.15). What does: each word in Latin letters, reduced to its consonant
  skeleton ("refund", "রিফান্ড" -> rfnd; "ferot", "ফেরত" -> frt), character n-grams weighted by
  TF-IDF over the set, average linkage at cosine distance 0.54 (purity 0.93 / 0.96, ARI 0.33 /
  0.36 on our bn / gu sets).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from kb_tools.content.languages import INDIC_LANGUAGES

Embed = Callable[[Sequence[str]], np.ndarray]
MIN_CLUSTER_SIZE = 5  # HDBSCAN, sentence vectors
# HDBSCAN needs density: below this many distinct queries it lumps unrelated ones together, so
# small sets use average linkage on the centred vectors (0.6: the demo's ~30 English queries
# split into their topics; on Bitext this setting gives purity 0.83, ARI 0.57).
HDBSCAN_FROM = 200
SMALL_SET_DISTANCE = 0.6
SKELETON_DISTANCE = 0.54  # average linkage, skeleton TF-IDF vectors
_BENGALI = re.compile(r"[\u0980-\u09FF]")
_GUJARATI = re.compile(r"[\u0A80-\u0AFF]")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_NATIVE = re.compile(r"[\u0900-\u0AFF]")
# Sounds that romanized typing spells several ways: bh/b, ph/f, v/w/b, z/j, sh/s ...
_FOLD = (("ph", "f"), ("bh", "b"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("ch", "c"),
         ("jh", "j"), ("sh", "s"), ("v", "b"), ("w", "b"), ("z", "j"), ("q", "k"), ("x", "ks"))


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """`রিফান্ড` -> `rfnd`, `refund` -> `rfnd`: the word in Latin letters, sound-alike spellings
    folded, vowels after the first letter dropped."""
    if _NATIVE.search(word):
        from indic_transliteration import sanscript

        script = (sanscript.BENGALI if _BENGALI.search(word) else sanscript.GUJARATI if _GUJARATI.search(word)
                  else sanscript.DEVANAGARI)
        word = sanscript.transliterate(word, script, sanscript.IAST)
    w = unicodedata.normalize("NFKD", word.lower())
    w = "".join(c for c in w if c.isascii() and c.isalnum())
    for a, b in _FOLD:
        w = w.replace(a, b)
    return w[:1] + re.sub(r"[aeiouy]", "", w[1:]) if w else ""


def skeleton_vectors(texts: Sequence[str]) -> np.ndarray:
    """Character 2-4-grams of the skeletons (each word padded with spaces), sublinear TF times
    smoothed IDF over `texts`, L2-normalised: scikit-learn's TfidfVectorizer(analyzer="char_wb",
    ngram_range=(2, 4), sublinear_tf=True) in numpy, because importing scikit-learn costs a
    report seconds."""
    from collections import Counter

    vocab: dict[str, int] = {}
    counts: list[Counter[int]] = []
    for text in texts:
        grams: Counter[int] = Counter()
        for word in (skeleton(w) for w in text.split()):
            padded = f" {word} "
            for n in (2, 3, 4):
                for i in range(len(padded) - n + 1):
                    grams[vocab.setdefault(padded[i:i + n], len(vocab))] += 1
        counts.append(grams)
    x = np.zeros((len(texts), max(1, len(vocab))), dtype=np.float32)
    for row, grams in enumerate(counts):
        for col, c in grams.items():
            x[row, col] = 1.0 + np.log(c)
    df = (x > 0).sum(axis=0)
    x *= (np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def is_indic(texts: Sequence[str], lang: str) -> bool:
    """Bengali/Gujarati/Hindi pages, or mostly native-script queries: use the skeletons."""
    if lang.split("-")[0] in INDIC_LANGUAGES:
        return True
    native = sum(1 for t in texts if _NATIVE.search(t))
    return native * 2 > len(texts)


def centered(v: np.ndarray) -> np.ndarray:
    c = v - v.mean(axis=0, keepdims=True)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9)


def _singletons(labels: np.ndarray) -> np.ndarray:
    labels = labels.copy()
    nxt = labels.max() + 1 if len(labels) else 0
    for i in np.flatnonzero(labels < 0):
        labels[i] = nxt
        nxt += 1
    return labels


def average_linkage(v: np.ndarray, distance: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    if len(v) < 2:
        return np.zeros(len(v), dtype=int)
    return fcluster(linkage(np.clip(pdist(v, "cosine"), 0, 2), method="average"), t=distance,
                    criterion="distance") - 1


def hdbscan(v: np.ndarray, min_cluster_size: int = MIN_CLUSTER_SIZE) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    if len(v) < min_cluster_size:
        return np.arange(len(v))
    return _singletons(HDBSCAN(min_cluster_size=min_cluster_size, min_samples=1, copy=True).fit_predict(v))


def cluster_queries(texts: Sequence[str], lang: str, embed: Embed | None) -> list[list[int]]:
    """Groups of indices into `texts` (distinct queries of one language), largest first.
    `embed`: sentence vectors for English-like sets (None: skeletons for every set)."""
    if not texts:
        return []
    if embed is None or is_indic(texts, lang):
        labels = average_linkage(skeleton_vectors(texts), SKELETON_DISTANCE)
    else:
        vectors = centered(np.asarray(embed(texts), dtype=np.float32))
        labels = hdbscan(vectors) if len(texts) >= HDBSCAN_FROM else average_linkage(vectors, SMALL_SET_DISTANCE)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels.tolist()):
        groups.setdefault(int(label), []).append(i)
    return sorted(groups.values(), key=len, reverse=True)

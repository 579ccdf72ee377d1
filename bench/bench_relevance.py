"""Search relevance: recall@1, recall@5 and MRR@10 of lexical, semantic and hybrid search
(weighted fusion and RRF) on the labelled set (bench/queries.yaml, by language) and on the
Bitext customer-support sample (../shared/eval/bitext/, intents mapped by
bench/bitext_intents.yaml).

    .venv/bin/python -m bench.bench_relevance [--tune] [--bitext-limit N]

--tune grid-searches the fusion weights on the labelled set only (the Bitext set stays a
held-out check) and prints the best settings. Ranks count hits as the user sees them
(grouped, up to two sections per page); a hit is relevant when its page is expected.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from bench.search_common import ROOT, project_copy, sample_index, table

BITEXT = ROOT.parent / "shared" / "eval" / "bitext" / "customer_support_queries.csv"
HERE = Path(__file__).resolve().parent


def labelled() -> list[dict[str, Any]]:
    data = yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8")) or []
    return [{"q": d["q"], "lang": d.get("lang", "en"), "expect": list(d["expect"])} for d in data if d.get("expect")]


def bitext(limit: int | None) -> list[dict[str, Any]] | None:
    if not BITEXT.exists():
        return None
    intents = yaml.safe_load((HERE / "bitext_intents.yaml").read_text(encoding="utf-8")) or {}
    out = []
    with BITEXT.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            expect = intents.get(row["intent"]) or []
            if expect:
                out.append({"q": row["instruction"], "lang": "en", "expect": list(expect), "intent": row["intent"]})
    if limit:
        out = out[::max(1, len(out) // limit)][:limit]
    return out


def candidates(searcher: Any, queries: list[dict[str, Any]]) -> list[Any]:
    """Candidate lists of every query, query vectors encoded in one batch."""
    import torch

    searcher.warm_up()
    texts = [q["q"] for q in queries]
    prefix = searcher.manifest.get("query_prefix", "")
    with torch.inference_mode():
        vecs = searcher._encoder.model.encode([prefix + searcher.lexical.build_query(t).corrected for t in texts], batch_size=64, convert_to_tensor=True,
                                              normalize_embeddings=True, show_progress_bar=False)
    return [searcher.candidates(t, "hybrid", None, query_vector=v.float()) for t, v in zip(texts, vecs, strict=True)]


def rank_of(hits: list[Any], expect: list[str]) -> int | None:
    exp = {e.strip("/") for e in expect}
    for i, h in enumerate(hits, 1):
        if h.url.split("#", 1)[0].strip("/") in exp:
            return i
    return None


def scores(searcher: Any, queries: list[dict[str, Any]], cands: list[Any], mode: str, fusion: Any) -> dict[str, float]:
    r1 = r5 = mrr = 0.0
    for q, c in zip(queries, cands, strict=True):
        r = rank_of(searcher.rank(c, mode, 10, fusion=fusion, snippets=False), q["expect"])
        if r:
            r1 += r == 1
            r5 += r <= 5
            mrr += 1.0 / r
    n = max(1, len(queries))
    return {"r1": r1 / n, "r5": r5 / n, "mrr": mrr / n}


def rows_for(searcher: Any, name: str, queries: list[dict[str, Any]], cands: list[Any], fusion: Any) -> list[list[object]]:
    rrf = replace(fusion, method="rrf")
    weighted = replace(fusion, method="weighted")
    out = []
    for label, mode, fu in (("lexical", "lexical", fusion), ("semantic", "semantic", fusion),
                            ("hybrid (weighted)", "hybrid", weighted), ("hybrid (RRF)", "hybrid", rrf)):
        s = scores(searcher, queries, cands, mode, fu)
        out.append([name, len(queries), label, round(s["r1"], 3), round(s["r5"], 3), round(s["mrr"], 3)])
    return out


def tune(searcher: Any, queries: list[dict[str, Any]], cands: list[Any], base: Any) -> tuple[Any, Any]:
    """Best weighted and best RRF settings on the labelled set (by mean MRR@10 of the
    languages, so the smaller bn/gu sets weigh as much as English)."""
    langs = sorted({q["lang"] for q in queries})
    by_lang = {lang: [i for i, q in enumerate(queries) if q["lang"] == lang] for lang in langs}

    def objective(fu: Any) -> float:
        total = 0.0
        for idx in by_lang.values():
            total += scores(searcher, [queries[i] for i in idx], [cands[i] for i in idx], "hybrid", fu)["mrr"]
        return total / len(by_lang)

    best_w, best_w_score = base, -1.0
    for w, wi, lb, ratio, norm in itertools.product((0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.1, 0.2), (0.1, 0.25, 0.5),
                                                    (0.6, 0.8, 0.95), ("minmax", "raw")):
        fu = replace(base, method="weighted", semantic_weight=w, semantic_weight_indic=wi, same_lang_boost=lb,
                     second_section_ratio=ratio, semantic_norm=norm)
        sc = objective(fu)
        if sc > best_w_score:
            best_w, best_w_score = fu, sc
    best_r, best_r_score = base, -1.0
    for k, ws, wsi, lb, ratio in itertools.product((5, 20, 60), (0.5, 1.0, 1.5), (0.0, 0.3), (0.1, 0.25, 0.5), (0.6, 0.8, 0.95)):
        fu = replace(base, method="rrf", rrf_k=k, rrf_semantic=ws, rrf_semantic_indic=wsi, same_lang_boost=lb,
                     second_section_ratio=ratio)
        sc = objective(fu)
        if sc > best_r_score:
            best_r, best_r_score = fu, sc
    print(f"best weighted (mean MRR@10 over languages {best_w_score:.3f}): {best_w}", file=sys.stderr)
    print(f"best RRF      (mean MRR@10 over languages {best_r_score:.3f}): {best_r}", file=sys.stderr)
    return best_w, best_r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--bitext-limit", type=int, default=0, help="evaluate an evenly spread sample of N Bitext queries")
    ap.add_argument("--index", type=Path, default=None, help="use this built index instead of building the sample's")
    args = ap.parse_args()

    from kb_tools.search import Searcher

    index_dir = args.index or sample_index(project_copy("site"))
    searcher = Searcher(index_dir)
    fusion = searcher.fusion
    lab = labelled()
    t = time.perf_counter()
    lab_c = candidates(searcher, lab)
    print(f"labelled set: {len(lab)} queries, candidates in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    if args.tune:
        best_w, best_r = tune(searcher, lab, lab_c, fusion)
        print("## Tuned on the labelled set\n")
        for name, fu in (("weighted", best_w), ("RRF", best_r)):
            print(f"- {name}: `{fu}`")
        print()

    print(f"## Labelled set (bench/queries.yaml), default fusion `{fusion.method}`\n")
    rows = rows_for(searcher, "all", lab, lab_c, fusion)
    for lang in sorted({q["lang"] for q in lab}):
        idx = [i for i, q in enumerate(lab) if q["lang"] == lang]
        rows += rows_for(searcher, lang, [lab[i] for i in idx], [lab_c[i] for i in idx], fusion)
    print(table(["queries", "n", "mode", "recall@1", "recall@5", "MRR@10"], rows))
    misses = [(q["q"], q["expect"][0]) for q, c in zip(lab, lab_c, strict=True)
              if (rank_of(searcher.rank(c, "hybrid", 10), q["expect"]) or 99) > 5]
    if misses:
        print(f"\nHybrid misses (not in top 5): {len(misses)}", file=sys.stderr)
        for q, e in misses:
            print(f"  {q!r} -> {e}", file=sys.stderr)

    bt = bitext(args.bitext_limit or None)
    print("\n## Bitext customer-support sample (fusion weights not tuned on it; the refund synonyms were added after reading its misses)\n")
    if bt is None:
        print(f"skipped: {BITEXT} is absent (see ../shared/eval/bitext/README.md)")
        return
    t = time.perf_counter()
    bt_c = candidates(searcher, bt)
    print(f"bitext: {len(bt)} queries, candidates in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    print(table(["queries", "n", "mode", "recall@1", "recall@5", "MRR@10"], rows_for(searcher, "Bitext", bt, bt_c, fusion)))
    per_intent = []
    for intent in sorted({q["intent"] for q in bt}):
        idx = [i for i, q in enumerate(bt) if q["intent"] == intent]
        s = scores(searcher, [bt[i] for i in idx], [bt_c[i] for i in idx], "hybrid", fusion)
        per_intent.append([intent, len(idx), round(s["r1"], 3), round(s["r5"], 3), round(s["mrr"], 3)])
    print("\nHybrid by intent:\n")
    print(table(["intent", "n", "recall@1", "recall@5", "MRR@10"], per_intent))


if __name__ == "__main__":
    main()

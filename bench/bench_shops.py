"""The answer decision fitted on more than one shop, and measured on a shop it never saw.

    .venv/bin/python -m bench.bench_shops [--fit tulip,bazaar,ghor] [--report medico] [--subsites] [--calibrate]
                                          [--without SIGNAL[,SIGNAL]]

The answer model (kb_tools/search/data/answer_model.json) decides whether a help center answers
a question from a few signals of its best hit. Fitted on one shop's questions (the sample's tune
split), it learns how *that* shop's writers and the engineers who labelled it word things: on
help centers written blind later (bench/sites/bazaar, bench/sites/medico) shoppers describe a
situation ("tomatoes were rotten half of them") more than they name a topic, and the decision
answered far fewer of their answerable questions than on the sample.

This bench fits the model on the sample's tune split *and* the labelled queries of the shops in
``--fit`` and reports:

- leave one shop out: for each of those shops, the model fitted on all the others, measured on
  it (what a shop none of them is should expect), beside the model fitted on the sample alone;
- the sample's held-out split and every shop in ``--report`` (never fitted on, by any model
  here): the model fitted on all the ``--fit`` shops beside the sample-only one;
- with ``--subsites``, each shop left out again with most of its pages removed (bench/subsites.py):
  how many of the questions it no longer covers are declined, and whether a small site's
  answerable questions are still answered.

``--without`` repeats the leave-one-shop-out tables with the query model fitted without those
signals (of answer.QUERY_FEATURES), on the same searched questions: what a signal adds.

``--calibrate`` writes the model fitted on all of them (the encoder's entry only; the
lexical-mode model is kept). The shops in ``--report`` must never be passed to ``--fit`` while
they are the unseen shop the README reports.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.bench_relevance import (
    Run,
    calibrate,
    decision,
    fit_answer_model,
    labelled,
    model_key,
    roc_auc,
)
from bench.bench_transfer import E5, SITES, build_site, searched, site_queries
from bench.search_common import WORK, project_copy, sample_index, table
from bench.subsites import SubSite, VectorCache, subsites

SAMPLE = "sample (tune)"
# The shops whose labelled queries the shipped answer model is fitted on beside the sample's tune
# split (bench_relevance --calibrate reads them too); medico stays the shop no model saw.
FIT_SHOPS = ("tulip", "bazaar", "ghor")


def as_tune(runs: list[Run]) -> list[Run]:
    """``runs`` as fitting data: fit_answer_model fits on the tune split only."""
    return [replace(r, q={**r.q, "split": "tune"}) for r in runs]


def shop_runs(names: list[str], work: Path) -> dict[str, tuple[Any, list[Run]]]:
    """Each site of bench/sites built as a writer builds it and its labelled queries searched."""
    out = {}
    for name in names:
        site = SITES / name
        index_dir, _ = build_site(site, work / "transfer")
        out[name] = searched(index_dir, site_queries(site))
    return out


def decided(searcher: Any, runs: list[Run], model: Any) -> dict[str, float]:
    """bench_relevance.decision of ``runs`` decided by ``model`` (the searcher's own model
    swapped out for the call: the rules around it, such as a query without a letter, stay)."""
    kept = searcher.answer_model
    searcher.answer_model = model
    try:
        return decision(searcher, runs)
    finally:
        searcher.answer_model = kept


def rates(searcher: Any, runs: list[Run], model: Any) -> list[str]:
    """Declined, answered and ROC AUC of ``runs`` decided by ``model``."""
    d = decided(searcher, runs, model)
    return [f"{d['declined']:.3f} ({d['n_none']})", f"{d['answered']:.3f} ({d['n_ans']})", f"{d['auc']:.3f}"]


def subsite_rows(name: str, sites: list[SubSite], model: Any) -> list[list[str]]:
    """One row per size of ``sites`` (a shop's sub-sites), decided by ``model``: questions whose
    pages were removed declined, those whose page remains answered, the shop's no-answer
    questions declined, and the AUC of all three (answerable against the other two)."""
    rows = []
    for groups in dict.fromkeys(s.groups for s in sites):
        same = [s for s in sites if s.groups == groups]
        counts: dict[str, list[float]] = {"uncovered": [0, 0], "kept": [0, 0], "none": [0, 0]}
        pos: list[float] = []
        neg: list[float] = []
        for site in same:
            for origin, count in counts.items():
                part = [r for r in site.runs if r.q["origin"] == origin]
                d = decided(site.searcher, part, model)
                count[0] += d["answered"] * d["n_ans"] if origin == "kept" else d["declined"] * d["n_none"]
                count[1] += d["n_ans"] if origin == "kept" else d["n_none"]
            for r in site.runs:
                if r.features and any(ch.isalnum() for ch in r.q["q"]):
                    (pos if r.q["expect"] else neg).append(model.answerable(r.features[0]))
        pages = "/".join(str(s.pages) for s in same)
        rows.append([name, f"{groups} ({pages})",
                     *(f"{c[0] / max(1, c[1]):.3f} ({c[1]})" for c in counts.values()), f"{roc_auc(pos, neg):.3f}"])
    return rows


def leave_one_out(fitted: dict[str, tuple[Any, list[Run]]], key: str, alone: Any, subsites_of: dict[str, list[SubSite]],
                  query_features: tuple[str, ...] | None = None) -> None:
    """Print each fitted shop left out (and its sub-sites, when ``subsites_of`` has them), the
    query model fitted on the others with ``query_features`` (None: answer.QUERY_FEATURES)."""
    rows, sub_rows = [], []
    for name, (searcher, runs) in fitted.items():
        others = [r for other, (_, rs) in fitted.items() if other != name for r in as_tune(rs)]
        model = fit_answer_model(others, key, query_features=query_features)[0]
        solo = alone if name != SAMPLE else None
        rows.append([name, *rates(searcher, runs, model), f"{model.threshold:.3f}",
                     *(rates(searcher, runs, solo) if solo is not None else ["(fitted on it)"] * 3)])
        if name in subsites_of:
            sub_rows += subsite_rows(name, subsites_of[name], model)
    print(table(["left out", "declined", "answered", "AUC", "cut", "sample only: declined", "answered", "AUC"], rows))
    if subsites_of:
        print("\n## Leave one shop out, pages removed\n")
        print("Each shop left out as above, its answer pages cut to a few translation groups (random, 3 per size; "
              "bench/subsites.py). uncovered: answerable questions whose pages were all removed (the shop no longer "
              "covers them), declined; kept: questions whose page remains, answered; no-answer: the shop's own, "
              "declined; AUC: kept against the other two.\n")
        print(table(["left out", "groups kept (pages)", "uncovered declined", "kept answered", "no-answer declined",
                     "AUC"], sub_rows))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit", default=",".join(FIT_SHOPS), help="comma-separated sites of bench/sites/ fitted beside the sample")
    ap.add_argument("--report", default="medico", help="comma-separated sites measured only (never fitted on)")
    ap.add_argument("--calibrate", action="store_true", help="write the model fitted on the sample's tune split and --fit")
    ap.add_argument("--subsites", action="store_true",
                    help="also each shop left out with pages removed (bench/subsites.py): questions it no longer covers, small sites")
    ap.add_argument("--without", default="", help="comma-separated signals of the query model: the leave-one-out "
                    "tables again, fitted without them")
    ap.add_argument("--work", type=Path, default=WORK)
    args = ap.parse_args(argv)
    fit_names = [s for s in args.fit.split(",") if s]
    report_names = [s for s in args.report.split(",") if s]
    if set(fit_names) & set(report_names):
        sys.exit("--fit and --report name the same site: a reported shop must be one no model here was fitted on")

    load, t = os.getloadavg(), time.perf_counter()
    sample, sample_runs = searched(sample_index(project_copy("site-e5"), model=E5), labelled())
    key = model_key(sample)
    tune = [r for r in sample_runs if r.q["split"] == "tune"]
    heldout = [r for r in sample_runs if r.q["split"] == "heldout"]
    shops = shop_runs(fit_names + report_names, args.work)
    fitted = {SAMPLE: (sample, tune), **{n: shops[n] for n in fit_names}}

    alone = fit_answer_model(tune, key)[0]
    everything = [r for _, (_, runs) in fitted.items() for r in as_tune(runs)]
    together = fit_answer_model(everything, key)[0]

    print(f"# The answer decision fitted on {len(fitted)} shops\n")
    print(f"Load average before the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}. Each cell: no-answer "
          "queries declined (n), answerable answered (n), ROC AUC of the query model's probability.\n")
    cache = VectorCache()
    subsites_of = {name: subsites(name, searcher.index_dir, [r.q for r in runs], args.work, cache)
                   for name, (searcher, runs) in fitted.items()} if args.subsites else {}
    print("## Leave one shop out\n")
    leave_one_out(fitted, key, alone, subsites_of)
    without = {w.strip() for w in args.without.split(",") if w.strip()}
    if without:
        from kb_tools.search import answer

        unknown = without - set(answer.QUERY_FEATURES)
        if unknown:
            sys.exit(f"--without {args.without}: the query model has no signal {', '.join(sorted(unknown))}")
        print(f"\n## Leave one shop out, the query model without {', '.join(sorted(without))}\n")
        leave_one_out(fitted, key, alone, subsites_of, tuple(f for f in answer.QUERY_FEATURES if f not in without))
    print("\n## Never fitted on\n")
    rows = []
    for name, (searcher, runs) in [("sample (held-out)", (sample, heldout)), *((n, shops[n]) for n in report_names)]:
        rows.append([name, *rates(searcher, runs, together), *rates(searcher, runs, alone)])
    print(table(["shop", f"all {len(fitted)}: declined", "answered", "AUC", "sample only: declined", "answered", "AUC"],
                rows))
    print(f"\ncuts: all {len(fitted)} shops {together.threshold:.3f}, sample only {alone.threshold:.3f}; "
          f"{time.perf_counter() - t:.0f} s")
    if args.calibrate:
        calibrate(sample, everything, key)


if __name__ == "__main__":
    main()

"""How search and the answer decision transfer to a help center they were never tuned on.

    .venv/bin/python -m bench.bench_transfer [--site tulip] [--no-sample] [--limit N] [--misses]
        [--queries bench/sites/tulip/tune.yaml]

Every relevance and decision figure of bench_relevance is measured on the sample shop (home
appliances), and the answer model (kb_tools/search/data/answer_model.json) was fitted on its
tune split and the shops in bench_shops.FIT_SHOPS. Here a help center written for this purpose
(bench/sites/<site>/: another kind of shop, its own pages, nav, languages and policy facts;
`tulip` sells clothing and cosmetics, `bazaar` groceries and phone accessories, `ghor`
furniture — those three are in the answer model's fit — `medico` medicines, baby care and
health devices, `boipara` books and stationery, `phool` flowers, cakes and gifts, and `chaka`
bicycles and sports gear, all four written blind and never fitted; phool, measured blind twice
in round 12, is tuned on from round 13: its queries are `split: tune`; chaka, written blind in
round 13, takes its place as fresh unseen data) is built exactly as a writer builds it —
`mkdocs build` with the kb plugin, the encoder the site's mkdocs.yml names (the default,
multilingual-e5-small) — and its labelled queries (bench/sites/<site>/queries.yaml,
written and committed before search was ever run on it; all held out) are searched with the
shipped fusion settings and answer model unchanged. The tables are bench_relevance's (MRR@10
per kind and language, recall@5, the answer decision, confidence calibration) with the
sample's tune and held-out figures of the same run beside them.

--no-sample skips the sample (its index takes minutes the first time); --limit N keeps the
first N queries of each kind (a quick check, not a figure); --misses prints the site's ranking
misses and decision failures (its queries are held out from tuning, not from reading: the
point of the site is to find what does not transfer); --queries searches another file of the
site's questions instead (a fit shop's tune.yaml: questions that may be tuned on, kept apart).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.bench_relevance import (
    KINDS,
    MODES,
    Run,
    calibration_table,
    candidates,
    decision,
    detail_table,
    groups,
    in_group,
    labelled,
    metrics,
    rank_all,
)
from bench.search_common import ROOT, WORK, project_copy, sample_index, table
from kb_tools.search.encoders import DEFAULT_MODEL

SITES = ROOT / "bench" / "sites"
E5 = DEFAULT_MODEL  # the sample beside a site: the encoder its mkdocs build gets


def site_queries(site: Path, limit: int = 0, path: Path | None = None) -> list[dict[str, Any]]:
    """The site's labelled queries (bench/queries.yaml's format; ``path``: another file of
    them); with ``limit``, the first ``limit`` of each kind."""
    out, seen = [], dict.fromkeys(KINDS, 0)
    for q in labelled(path or site / "queries.yaml"):
        if limit and seen[q["kind"]] >= limit:
            continue
        seen[q["kind"]] += 1
        out.append(q)
    return out


def build_site(site: Path, work: Path) -> tuple[Path, float]:
    """A copy of ``site`` under ``work`` (the embedding cache kept between runs) built by
    `mkdocs build` as a writer runs it; returns the index folder and the build's wall seconds.
    A failed build stops the benchmark with MkDocs' own output: a site that does not build is
    a finding, never worked around."""
    dest = work / site.name
    dest.mkdir(parents=True, exist_ok=True)
    for item in site.iterdir():
        if item.name in ("queries.yaml", "tune.yaml", "site", "search_index") or item.name.startswith("."):
            continue
        target = dest / item.name
        if item.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)
    env = {**os.environ, "KB_SEARCH": "true", "KB_PROGRESS": "0"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=dest, env=env,
                       capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"mkdocs build --strict failed in {dest} (exit {r.returncode}):\n{r.stderr[-4000:]}")
    return dest / "search_index", seconds


def searched(index_dir: Path, queries: list[dict[str, Any]]) -> tuple[Any, list[Run]]:
    from kb_tools.search import Searcher

    s = Searcher(index_dir)
    runs = candidates(s, queries)
    rank_all(s, runs)
    return s, runs


def _mrr(runs: list[Run], kind: str, lang: str, mode: str = "hybrid") -> str:
    part = [r for r in runs if in_group(r, kind, lang)]
    return f"{metrics(part, mode)['mrr']:.3f} ({len(part)})" if part else "–"


def relevance_table(runs: list[Run], sample: dict[str, list[Run]]) -> str:
    """MRR@10 per kind and language on the site (lexical, semantic, hybrid), with the sample's
    hybrid MRR@10 on its tune and held-out splits for the same group."""
    rows = []
    for kind, lang, part in groups(runs):
        row: list[object] = [kind, lang, len(part)] + [round(metrics(part, m)["mrr"], 3) for m in MODES]
        row += [_mrr(sample[split], kind, lang) for split in sample]
        rows.append(row)
    headers = ["kind", "lang", "n", "lexical", "semantic", "**hybrid**"] + [f"sample {s} hybrid (n)" for s in sample]
    return table(headers, rows)


def recall_table(runs: list[Run], sample: dict[str, list[Run]]) -> str:
    """Cross-lingual recall@5 (hybrid) per question language, the site next to the sample."""
    rows = []
    for lang in ("bn", "gu", "hi", "all"):
        def r5(rs: list[Run], lang: str = lang) -> str:
            part = [r for r in rs if in_group(r, "cross-lingual", lang)]
            return f"{metrics(part, 'hybrid')['r5']:.3f} ({len(part)})" if part else "–"
        rows.append([lang, r5(runs)] + [r5(sample[s]) for s in sample])
    return table(["question language", "site recall@5 (n)"] + [f"sample {s} (n)" for s in sample], rows)


def _decision_row(name: str, searcher: Any, runs: list[Run], mode: str = "hybrid") -> list[object]:
    d = decision(searcher, runs, mode)
    return [name, f"{d['declined']:.3f} ({d['n_none']})" if d["n_none"] else "–",
            f"{d['answered']:.3f} ({d['n_ans']})" if d["n_ans"] else "–", f"{d['answered_right']:.3f}", f"{d['auc']:.3f}"]


def decision_table(searcher: Any, runs: list[Run], samples: dict[str, tuple[Any, list[Run]]]) -> str:
    """The shipped answer decision on the site — overall, per kind (answered), per way of
    writing (declined and answered), lexical mode — under the sample's rows of the same run."""
    rows = [_decision_row(f"sample {split}", s, rs) for split, (s, rs) in samples.items()]
    rows.append(_decision_row("**site, all**", searcher, runs))
    none = [r for r in runs if not r.q["expect"]]
    for kind in KINDS[:-1]:
        sub = [r for r in runs if r.q["kind"] == kind]
        if sub:
            row = _decision_row(f"site: {kind}", searcher, sub + none)
            rows.append([row[0], "", *row[2:]])  # the no-answer queries are the same in every row
    for name, written in (("English", ("en",)), ("bn/gu/hi script", ("bn", "gu", "hi")),
                          ("Latin bn/gu/hi", ("bn-Latn", "gu-Latn", "hi-Latn"))):
        sub = [r for r in runs if r.q["lang"] in written]
        if sub:
            rows.append(_decision_row(f"site: written {name}", searcher, sub))
    for split, (s, rs) in samples.items():
        rows.append(_decision_row(f"sample {split}, lexical mode", s, rs, "lexical"))
    rows.append(_decision_row("site, lexical mode", searcher, runs, "lexical"))
    return table(["queries", "no-answer declined", "answerable answered", "top hit right when answered",
                  "ROC AUC (answerable vs not)"], rows)


def misses(searcher: Any, runs: list[Run]) -> None:
    """The site's ranking misses and decision failures, to read: bench_relevance's listing,
    which reads the tune split, given every query of the site (held out from tuning, not from
    reading)."""
    from bench import bench_relevance

    bench_relevance.misses(searcher, [replace(r, q={**r.q, "split": "tune"}) for r in runs])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", default="tulip", help="a folder of bench/sites/ (or a path) with mkdocs.yml and queries.yaml")
    ap.add_argument("--no-sample", action="store_true", help="do not index and search the sample shop beside it")
    ap.add_argument("--limit", type=int, default=0, help="the first N queries of each kind only (a quick check, not a figure)")
    ap.add_argument("--misses", action="store_true", help="print the site's ranking misses and decision failures")
    ap.add_argument("--work", type=Path, default=WORK, help="where the site's copy and its caches live")
    ap.add_argument("--queries", type=Path, help="another file of the site's questions (e.g. its tune.yaml)")
    args = ap.parse_args(argv)

    site = Path(args.site) if "/" in args.site else SITES / args.site
    if not (site / "mkdocs.yml").is_file() or not (site / "queries.yaml").is_file():
        sys.exit(f"{site}: needs mkdocs.yml and queries.yaml (see bench/sites/)")
    queries = site_queries(site, args.limit, args.queries)
    load = os.getloadavg()
    cpu, t = time.process_time(), time.perf_counter()
    index_dir, build_s = build_site(site, args.work / "transfer")
    searcher, runs = searched(index_dir, queries)
    manifest = searcher.manifest
    print(f"{site.name}: built in {build_s:.1f} s ({manifest.get('model')}, {manifest.get('chunks')} chunks), "
          f"{len(queries)} queries searched", file=sys.stderr)

    samples: dict[str, tuple[Any, list[Run]]] = {}
    if not args.no_sample:
        lab = labelled()
        s, sample_runs = searched(sample_index(project_copy("site-e5"), model=E5), lab)
        samples = {split: (s, [r for r in sample_runs if r.q["split"] == split]) for split in ("tune", "heldout")}
    sample = {split: rs for split, (_, rs) in samples.items()}

    splits = {q["split"] for q in queries}
    split = splits.pop() if len(splits) == 1 else "heldout"  # phool: a development shop, all tune
    which = f"from {args.queries}" if args.queries is not None else "all held out" if split == "heldout" else f"all {split}"
    print(f"# Transfer: {site.name} ({len(queries)} labelled queries, {which}) next to the sample\n")
    print(f"Encoder {manifest.get('model')}; {manifest.get('chunks')} chunks; load average before the run "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; {time.perf_counter() - t:.0f} s wall, "
          f"{time.process_time() - cpu:.0f} s CPU in this process (mkdocs build is a subprocess).\n")
    print("## MRR@10 by kind and language\n")
    print(relevance_table(runs, sample))
    print("\n## Hybrid in detail (the site)\n")
    print(detail_table(runs, split))
    print("\n## Cross-lingual recall@5 (hybrid)\n")
    print(recall_table(runs, sample))
    print("\n## The answer decision (the shipped model, unchanged)\n")
    print(decision_table(searcher, runs, samples))
    print("\n## Confidence on the site (hybrid hits; the sample's is in bench_relevance)\n")
    print(calibration_table(runs))
    if args.misses:
        misses(searcher, runs)


if __name__ == "__main__":
    main()

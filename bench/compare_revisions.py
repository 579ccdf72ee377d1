"""Before and after: the relevance, speed, load and analytics benchmarks of two git revisions,
run in one session and printed side by side with the ratio.

    .venv/bin/python -m bench.compare_revisions 930830d main
    .venv/bin/python -m bench.compare_revisions 930830d main --rounds 3 --only speed,load

Each revision is checked out into a temporary worktree (`git worktree add --detach`), beside a
link to the shared folder (`../shared`, where the Bitext sample lives), and each benchmark runs
there as `python -m bench.<name>` with this virtualenv's Python and PYTHONPATH pointing at that
worktree: a revision's benchmark measures that revision's code. Rounds alternate the order
(base then head, head then base, ...) so the load of a busy machine hits both alike; the
relevance benchmark is deterministic and runs once per revision. Sizes and durations are the
benchmarks' smaller ones, so a comparison takes minutes, not hours; options that a revision's
benchmark does not list in its --help are left out for both revisions.

Cells read `base → head (head/base)`; a figure is the median over the rounds. Every run's own
output is kept under bench/results/compare-<time>/.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bench:
    module: str
    options: tuple[tuple[str, ...], ...]  # each: a flag and its value, if any
    repeat: bool = True  # False: deterministic figures, one run per revision is enough
    # (from, to) folders of the worktree: caches an earlier benchmark of the same revision left,
    # copied before the first run. The caches are content-addressed (embeddings by text hash,
    # videos by source hash), so this saves time and changes no figure.
    seed: tuple[str, str] | None = None


BENCHES = {
    "relevance": Bench("bench_relevance", (("--bitext-limit", "500"),), repeat=False),
    "speed": Bench("bench_speed", (("--sizes", "1000,10000"), ("--rounds", "1"), ("--skip-build",))),
    # 10,000 chunks: the synthetic index bench_speed made is reused. The load bench builds the
    # sample again in its own copy: it starts from the relevance bench's embeddings and videos.
    "load": Bench("bench_load", (("--chunks", "10000"), ("--duration", "10"), ("--clients", "4")),
                  seed=("bench/results/search/site/.kb_cache", "bench/results/search/load-site/.kb_cache")),
    "analytics": Bench("bench_analytics", (("--requests", "400"), ("--events", "100000"))),
}


@dataclass
class Revision:
    label: str  # base | head
    rev: str
    sha: str
    subject: str
    tree: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(self.tree), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "TOKENIZERS_PARALLELISM": "false", "NO_MKDOCS_2_WARNING": "1", "KB_PROGRESS": "0"}


@dataclass
class Run:
    stdout: str
    seconds: float
    failed: str = ""


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def shared_folder() -> Path | None:
    """`../shared` beside the main checkout (the one holding .git), as CI lays it out."""
    main_checkout = Path(git("rev-parse", "--path-format=absolute", "--git-common-dir")).parent
    for candidate in (main_checkout.parent / "shared", ROOT.parent / "shared"):
        if candidate.is_dir():
            return candidate
    return None


@contextmanager
def worktrees(revs: list[tuple[str, str]]) -> Iterator[list[Revision]]:
    """Detached worktrees of `revs` ((label, rev) pairs) in one temporary folder, removed after."""
    folder = Path(tempfile.mkdtemp(prefix="kb-compare-"))
    made: list[Revision] = []
    try:
        shared = shared_folder()
        if shared is not None:
            (folder / "shared").symlink_to(shared)
        for label, rev in revs:
            sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
            tree = folder / label
            git("worktree", "add", "--detach", str(tree), sha)
            (tree / ".venv").symlink_to(Path(sys.prefix))
            made.append(Revision(label, rev, sha[:7], git("log", "-1", "--format=%s", sha), tree))
        yield made
    finally:
        for r in made:
            subprocess.run(["git", "worktree", "remove", "--force", str(r.tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def accepted_options(bench: Bench, revisions: list[Revision]) -> list[str] | None:
    """The bench's options that every revision's --help lists; None when a revision lacks it."""
    helps = []
    for r in revisions:
        if not (r.tree / "bench" / f"{bench.module}.py").exists():
            return None
        out = subprocess.run([sys.executable, "-m", f"bench.{bench.module}", "--help"], cwd=r.tree, env=r.env(),
                             capture_output=True, text=True, timeout=300)
        helps.append(out.stdout)
    args: list[str] = []
    for option in bench.options:
        if all(re.search(rf"(^|[\s,\[]){re.escape(option[0])}\b", h) for h in helps):
            args += option
    return args


def run_bench(bench: Bench, args: list[str], r: Revision, out_dir: Path, round_no: int, timeout: float) -> Run:
    if bench.seed and (r.tree / bench.seed[0]).is_dir() and not (r.tree / bench.seed[1]).exists():
        shutil.copytree(r.tree / bench.seed[0], r.tree / bench.seed[1])
    cmd = [sys.executable, "-m", f"bench.{bench.module}", *args]
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=r.tree, env=r.env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return Run(stdout, time.perf_counter() - started, f"timed out after {timeout:.0f} s")
    seconds = time.perf_counter() - started
    stem = out_dir / f"{bench.module}-{r.label}-round{round_no}"
    stem.with_suffix(".md").write_text(proc.stdout, encoding="utf-8")
    stem.with_suffix(".log").write_text(proc.stderr, encoding="utf-8")
    failed = "" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}"
    return Run(proc.stdout, seconds, failed)


# -- reading and merging the Markdown tables -------------------------------------------------

NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def tables(markdown: str) -> list[Table]:
    """Every Markdown table of a benchmark's output, titled by the line above it."""
    out: list[Table] = []
    title = ""
    current: Table | None = None
    for line in markdown.splitlines():
        text = line.strip()
        if text.startswith("|") and text.endswith("|"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            if current is None:
                current = Table(title, cells)
                out.append(current)
            elif not all(set(c) <= set("-: ") for c in cells):
                current.rows.append(cells)
            continue
        current = None
        if text:
            title = text.lstrip("#").strip()
    return out


def row_keys(table: Table) -> list[tuple[str, ...]]:
    """A row is known by its first cell and its other cells without figures (a mode, a store)."""
    keys, seen = [], defaultdict(int)
    for row in table.rows:
        key = (row[0], *(c for c in row[1:] if not NUMBER.search(c)))
        seen[key] += 1
        keys.append((*key, str(seen[key])))
    return keys


def median_cell(cells: list[str]) -> str:
    """The median of each figure of a cell over rounds, written as the first round wrote it."""
    template = NUMBER.sub("\0", cells[0])
    if len(cells) == 1 or any(NUMBER.sub("\0", c) != template for c in cells):
        return cells[0]
    columns = list(zip(*(NUMBER.findall(c) for c in cells), strict=True))
    parts = template.split("\0")
    out = parts[0]
    for values, rest in zip(columns, parts[1:], strict=True):
        out += _format_like(statistics.median(_value(v) for v in values), values[0]) + rest
    return out


def _value(token: str) -> float:
    return float(token.replace(",", ""))


def _format_like(value: float, example: str) -> str:
    decimals = len(example.split(".")[1]) if "." in example else 0
    text = f"{value:,.{decimals}f}" if "," in example else f"{value:.{decimals}f}"
    return ("+" + text) if example.startswith("+") and value >= 0 else text


def side_by_side(base: str | None, head: str | None) -> str:
    if base is None or head is None:
        return f"{head} (head only)" if base is None else f"{base} (base only)"
    if base == head:
        return f"{base} (=)" if NUMBER.search(base) else base
    b, h = NUMBER.findall(base), NUMBER.findall(head)
    if not b or not h or NUMBER.sub("\0", base) != NUMBER.sub("\0", head):
        return f"{base} / {head}"
    ratio = f"{_value(h[0]) / _value(b[0]):.2f}×" if _value(b[0]) else "—"
    return f"{base} → {head} ({ratio})"


def merge(runs: dict[str, list[Run]]) -> list[Table]:
    """One table per table of the head revision's output: every cell side by side."""
    per_rev: dict[str, list[dict[tuple[str, ...], dict[str, list[str]]]]] = {}
    shapes: dict[str, list[Table]] = {}
    for label, rev_runs in runs.items():
        merged: list[dict[tuple[str, ...], dict[str, list[str]]]] = []
        for run in rev_runs:
            for t, table in enumerate(tables(run.stdout)):
                while len(merged) <= t:
                    merged.append(defaultdict(lambda: defaultdict(list)))
                for key, row in zip(row_keys(table), table.rows, strict=True):
                    for header, cell in zip(table.headers, row, strict=False):
                        merged[t][key][header].append(cell)
                if len(shapes.setdefault(label, [])) <= t:
                    shapes[label].append(table)
        per_rev[label] = merged
    out = []
    shape = shapes.get("head") or shapes.get("base") or []
    for t, table in enumerate(shape):
        base_rows = per_rev.get("base", [])[t] if t < len(per_rev.get("base", [])) else {}
        head_rows = per_rev.get("head", [])[t] if t < len(per_rev.get("head", [])) else {}
        keys = list(head_rows) + [k for k in base_rows if k not in head_rows]
        merged_table = Table(table.title, table.headers)
        for key in keys:
            b, h = base_rows.get(key), head_rows.get(key)
            cells = [side_by_side(median_cell(b[c]) if b and c in b else None,
                                  median_cell(h[c]) if h and c in h else None) for c in table.headers[1:]]
            merged_table.rows.append([key[0], *cells])  # the row's label as it is
        out.append(merged_table)
    return out


def markdown(table: Table) -> str:
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "|".join("---" for _ in table.headers) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in table.rows])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base", help="the revision before (e.g. 930830d)")
    ap.add_argument("head", nargs="?", default="HEAD", help="the revision after (default HEAD)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of the timed benchmarks")
    ap.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated subset of {', '.join(BENCHES)}")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one benchmark run may take")
    args = ap.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(BENCHES)}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = ROOT / "bench" / "results" / f"compare-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    started, load_start = time.perf_counter(), os.getloadavg()
    with worktrees([("base", args.base), ("head", args.head)]) as revisions:
        print(f"# Benchmarks, {revisions[0].rev} → {revisions[1].rev}\n")
        for r in revisions:
            print(f"- {r.label}: `{r.sha}` ({r.rev}) {r.subject}")
        print(f"- {os.cpu_count()} CPU cores, load average {load_start[0]:.1f} at the start; "
              f"{args.rounds} alternating round(s); each cell is `base → head (head/base)`, "
              f"the median over rounds; raw outputs in {out_dir.relative_to(ROOT)}/\n", flush=True)
        plan = []
        for name in chosen:
            options = accepted_options(BENCHES[name], revisions)
            if options is None:
                print(f"{name}: skipped, a revision has no bench/{BENCHES[name].module}.py\n")
                continue
            plan.append((name, BENCHES[name], options))
        runs: dict[str, dict[str, list[Run]]] = {name: {r.label: [] for r in revisions} for name, _, _ in plan}
        for round_no in range(1, args.rounds + 1):
            order = revisions if round_no % 2 else revisions[::-1]
            for name, bench, options in plan:
                if not bench.repeat and round_no > 1:
                    continue
                for r in order:
                    run = run_bench(bench, options, r, out_dir, round_no, args.timeout)
                    runs[name][r.label].append(run)
                    status = f"FAILED ({run.failed})" if run.failed else "ok"
                    print(f"round {round_no}: {name} {r.label} ({r.sha}) {run.seconds:.0f} s {status}",
                          file=sys.stderr, flush=True)
        for name, bench, options in plan:
            print(f"## {name}: `python -m bench.{bench.module} {' '.join(options)}`\n")
            for label, rev_runs in runs[name].items():
                for run in rev_runs:
                    if run.failed:
                        print(f"- {label} run failed: {run.failed}\n")
            good = {label: [run for run in rev_runs if not run.failed] for label, rev_runs in runs[name].items()}
            for table in merge(good):
                print(f"{table.title}\n" if table.title else "", end="")
                print("\n" + markdown(table) + "\n")
        print("## Wall time of each benchmark run (median over rounds)\n")
        wall = Table("", ["benchmark", "seconds"])
        for name, _, _ in plan:
            b = [r.seconds for r in runs[name]["base"]]
            h = [r.seconds for r in runs[name]["head"]]
            if b and h:
                wall.rows.append([name, side_by_side(f"{statistics.median(b):.0f}", f"{statistics.median(h):.0f}")])
        print(markdown(wall))
    print(f"\nWhole comparison: {(time.perf_counter() - started) / 60:.0f} min, "
          f"load average {load_start[0]:.1f} at the start and {os.getloadavg()[0]:.1f} at the end.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

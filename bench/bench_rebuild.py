"""How long a writer waits to see an edit: the sample rebuilt with kb next to a plain
mkdocs-material rebuild of the same pages, in one run, both with `mkdocs build` and inside a
running `mkdocs serve`.

    .venv/bin/python -m bench.bench_rebuild [--rounds 3] [--skip-serve] [--work DIR]

Rows (medians of alternating rounds, so a load spike hits every row alike):
- plain Material rebuild: the same docs and theme, `kb` removed from `plugins`;
- kb warm rebuild, no change: every cache warm, nothing to embed;
- kb warm rebuild with KB_TEMPLATE_CACHE=0: the theme's templates compiled again, as plain
  Material compiles them on every build (kb keeps them compiled in .kb_cache): what kb's own
  work adds to a rebuild, without what its template cache saves MkDocs;
- kb rebuild after editing one article: one new sentence in one article, so its chunks are
  embedded again (a new process each time for `mkdocs build`; for `mkdocs serve` the server
  stays up, and the first edit after start is shown on its own because it may pay start-up).

The floors of issue 13: edit rebuild <= 1.5 x plain + 0.5 s; warm rebuild <= plain + 15 %.
Machines are shared: compare the rows of one run, never absolute seconds across runs. The CPU
columns (user + system seconds of the `mkdocs build` process and its children) move much less
with the machine's load than wall time does: they show what a rebuild costs, wall time what a
writer waits (work kb runs beside MkDocs' rendering costs CPU, not wall time).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITED = "docs/returns/start-a-return.md"
EDITED_URL = "returns/start-a-return/"
# Python caches compiled modules as a writer's machine does (a shell that sets
# PYTHONDONTWRITEBYTECODE would make kb compile its own modules again on every build, a cost
# plain Material, installed with its bytecode, never pays).
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "KB_PROGRESS": "0",
    "KB_SEARCH": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "NO_MKDOCS_2_WARNING": "1",
}


def copy_sample(work: Path) -> Path:
    """The sample's content and config in `work/site` (caches under it are kept between runs)."""
    project = work / "site"
    project.mkdir(parents=True, exist_ok=True)
    for folder in ("docs", "videos"):
        shutil.rmtree(project / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, project / folder)
    for name in ("mkdocs.yml", "policy.yml"):
        shutil.copy2(ROOT / name, project / name)
    return project


def without_kb(config_text: str) -> str:
    """mkdocs.yml with the `- kb` entry (and its indented settings) removed from `plugins`."""
    out: list[str] = []
    skipping: int | None = None
    for line in config_text.splitlines():
        indent = len(line) - len(line.lstrip())
        if skipping is not None:
            if line.strip() and indent <= skipping:
                skipping = None
            else:
                continue
        if re.match(r"^\s*-\s*kb\s*(:.*)?$", line):
            skipping = indent
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def write_plain_config(project: Path) -> Path:
    plain = project / "mkdocs.plain.yml"
    plain.write_text(without_kb((project / "mkdocs.yml").read_text()) + "site_dir: site-plain\n")
    return plain


RUN = f"{os.getpid():x}{time.time_ns() % 1_000_000:x}"  # new in each run: see edit_article


def edit_article(project: Path, n: int) -> str:
    """Append one new sentence to the edited article; returns the sentence. The sentence names
    this run, so its chunk is never in the embedding cache a run with the same --work left."""
    sentence = f"Edited for the rebuild benchmark, run {RUN} round {n}: keep the original box for {n + 2} days."
    path = project / EDITED
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{sentence}\n", encoding="utf-8")
    return sentence


CPU: dict[str, list[float]] = {}  # CPU seconds of each build, by row


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_build(project: Path, config: str = "mkdocs.yml", row: str = "", env: dict[str, str] | None = None) -> float:
    cpu = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", config],
        cwd=project, env={**ENV, **(env or {})}, capture_output=True, text=True, timeout=1800,
    )
    elapsed = time.perf_counter() - started
    CPU.setdefault(row, []).append(children_cpu() - cpu)
    if result.returncode:
        raise SystemExit(f"mkdocs build -f {config} failed:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """`mkdocs serve` on a free port, its log read line by line in a thread."""

    def __init__(self, project: Path, config: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-f", config, "-a", f"127.0.0.1:{self.port}"],
            cwd=project, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            self.lines.put(line)
        self.lines.put("")  # the process ended

    def wait_for(self, pattern: str, timeout: float = 1800) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line == "" or line is None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"mkdocs serve never logged {pattern!r}:\n{''.join(self.log[-40:])}")
            if pattern in line:
                return

    def page(self, url: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{url}", timeout=60) as r:
            return r.read().decode("utf-8")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def serve_edits(project: Path, config: str, rounds: int, start: int) -> list[float]:
    """Seconds from saving an edit to the rebuilt page being served, for `rounds` edits."""
    server = Serve(project, config)
    times = []
    try:
        server.wait_for("Serving on")
        for n in range(start, start + rounds):
            while not server.lines.empty():  # forget what was logged before the edit
                server.lines.get_nowait()
            started = time.perf_counter()
            sentence = edit_article(project, n)
            server.wait_for("Reloading browsers")
            elapsed = time.perf_counter() - started
            if sentence not in server.page(EDITED_URL):
                raise SystemExit(f"mkdocs serve reloaded without the edit of round {n}")
            times.append(elapsed)
    finally:
        server.stop()
    return times


def row(name: str, plain: float, kb: float, floor: float | None = None, cpu: tuple[str, str] | None = None) -> str:
    verdict = ""
    if floor is not None:
        verdict = f"{floor:.2f} s: {'met' if kb <= floor else '**missed**'}"
    if cpu is None:
        cpu_cells = "– | –"
    else:
        p, k = (statistics.median(CPU[key]) for key in cpu)
        cpu_cells = f"{p:.2f} | {k:.2f}"
    return f"| {name} | {plain:.2f} | {kb:.2f} | {kb / plain:.2f}× | {cpu_cells} | {verdict} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--work", type=Path, default=Path("/tmp/kb-bench-rebuild"))
    args = ap.parse_args()

    project = copy_sample(args.work)
    plain_config = write_plain_config(project).name
    load_before = os.getloadavg()[0]
    print("Preparing: one kb build to warm the video and embedding caches...", file=sys.stderr, flush=True)
    cold = timed_build(project)
    timed_build(project, plain_config)

    plain, warm, edited, uncached = [], [], [], []
    for n in range(args.rounds):
        print(f"round {n + 1} of {args.rounds} (mkdocs build)", file=sys.stderr, flush=True)
        steps = [("plain", lambda: timed_build(project, plain_config, "plain")),
                 ("warm", lambda: timed_build(project, row="warm")),
                 ("edit", lambda n=n: (edit_article(project, n), timed_build(project, row="edit"))[1]),
                 ("uncached", lambda: timed_build(project, row="uncached", env={"KB_TEMPLATE_CACHE": "0"}))]
        for name, step in steps[n % 4:] + steps[: n % 4]:  # rotate the order between rounds
            {"plain": plain, "warm": warm, "edit": edited, "uncached": uncached}[name].append(step())

    p, w, e, u = (statistics.median(x) for x in (plain, warm, edited, uncached))
    lines = [
        f"Sample help center, {args.rounds} rounds, medians; load average {load_before:.1f} before the run, "
        f"{os.getloadavg()[0]:.1f} after the builds; first (cold) kb build {cold:.1f} s.",
        "",
        "| rebuild | plain Material s | kb s | kb ÷ plain | plain CPU s | kb CPU s | floor (wall) |",
        "|---|---:|---:|---:|---:|---:|---|",
        row("`mkdocs build`, no change", p, w, 1.15 * p, ("plain", "warm")),
        row("`mkdocs build` after editing one article", p, e, 1.5 * p + 0.5, ("plain", "edit")),
        row("`mkdocs build`, no change, templates compiled as plain Material does (KB_TEMPLATE_CACHE=0)",
            p, u, None, ("plain", "uncached")),
    ]
    if not args.skip_serve:
        print("mkdocs serve: plain Material", file=sys.stderr, flush=True)
        plain_serve = serve_edits(project, plain_config, args.rounds, 100)
        print("mkdocs serve: kb", file=sys.stderr, flush=True)
        kb_serve = serve_edits(project, "mkdocs.yml", args.rounds + 1, 200)
        ps = statistics.median(plain_serve)
        lines += [
            row("`mkdocs serve`, first edit after start", ps, kb_serve[0], 1.5 * ps + 0.5),
            row("`mkdocs serve`, later edits", ps, statistics.median(kb_serve[1:]), 1.5 * ps + 0.5),
        ]
        lines.append("")
        lines.append("`mkdocs serve` times run from saving the file to the server's \"Reloading browsers\" "
                     "(its 0.25 s wait for more changes included in both columns); each edited page was "
                     "fetched and checked to contain the new sentence.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

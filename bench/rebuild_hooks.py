"""Where a kb rebuild's time goes: one `mkdocs build` in this process, each `kb` hook timed.

    .venv/bin/python -m bench.rebuild_hooks [--work DIR] [--edit] [--builds 3]

Uses the project `bench.bench_rebuild` leaves in DIR/site (run it once first: its caches are
warm). Each build is a warm rebuild, with `--edit` after appending one new sentence to the
edited article. Prints, per hook, the median over the builds of its wall time and of the CPU
time of the thread that ran it (work kb runs in its own threads, e.g. the embedding prefetch
or the whoosh writer, shows as wall time of the hook that waits for it), then the whole
build's wall and process CPU time. The numbers are the main thread's: compare hooks of one
run, and runs on the same machine only.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_rebuild import edit_article

Timings = dict[str, list[float]]


def timed(name: str, fn: Callable[..., Any], into: Timings) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            into[name + " wall"].append(time.perf_counter() - wall)
            into[name + " cpu"].append(time.thread_time() - cpu)

    for attr in ("mkdocs_priority",):  # @event_priority
        if hasattr(fn, attr):
            setattr(wrapper, attr, getattr(fn, attr))
    return wrapper


def instrument(into: Timings) -> None:
    from kb_tools import plugin

    for name in [n for n in vars(plugin.KbPlugin) if n.startswith("on_") or n in ("_guard", "_build_index")]:
        setattr(plugin.KbPlugin, name, timed(name, getattr(plugin.KbPlugin, name), into))
    plugin.publish_together = timed("publish", plugin.publish_together, into)


def build_once(project: Path) -> tuple[float, float]:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    wall, cpu = time.perf_counter(), time.process_time()
    config = load_config(str(project / "mkdocs.yml"))
    config.plugins.on_startup(command="build", dirty=False)
    build(config)
    config.plugins.on_shutdown()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/kb-bench-rebuild"))
    ap.add_argument("--edit", action="store_true")
    ap.add_argument("--builds", type=int, default=3)
    args = ap.parse_args()
    project = (args.work / "site").resolve()
    if not (project / "mkdocs.yml").is_file():
        raise SystemExit(f"{project}/mkdocs.yml is missing: run bench.bench_rebuild --work {args.work} first")
    os.environ.update({"KB_PROGRESS": "0", "KB_SEARCH": "true"})
    os.chdir(project)
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    import kb_tools

    print(f"kb_tools from {Path(kb_tools.__file__).parent}", file=sys.stderr)
    hooks: Timings = defaultdict(list)
    instrument(hooks)
    build_once(project)  # warm: imports, caches, a published index of these files
    hooks.clear()
    totals = []
    for n in range(args.builds):
        if args.edit:
            edit_article(project, 1000 + n)
        totals.append(build_once(project))
    names = sorted({k.rsplit(" ", 1)[0] for k in hooks}, key=lambda k: -statistics.median(hooks[k + " wall"]))
    print(f"`{'edit' if args.edit else 'no change'}`, {args.builds} in-process builds, medians, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("\n| kb hook | wall s | CPU s (its thread) |\n|---|---:|---:|")
    for name in names:
        # a hook called once per page: the sum over the pages of one build
        per_build = len(hooks[name + " wall"]) // args.builds or 1
        wall = sum(hooks[name + " wall"]) / args.builds if per_build > 1 else statistics.median(hooks[name + " wall"])
        cpu = sum(hooks[name + " cpu"]) / args.builds if per_build > 1 else statistics.median(hooks[name + " cpu"])
        print(f"| {name}{' (all pages)' if per_build > 1 else ''} | {wall:.3f} | {cpu:.3f} |")
    print(f"| whole build | {statistics.median(t[0] for t in totals):.2f} | "
          f"{statistics.median(t[1] for t in totals):.2f} (process) |")  # fmt: skip


if __name__ == "__main__":
    main()

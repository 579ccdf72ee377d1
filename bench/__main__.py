"""`make bench` (python -m bench): every benchmark in turn, each printing its Markdown tables.

Run one alone with `.venv/bin/python -m bench.bench_<name> --help`. Machines are shared and
noisy: compare the ratios printed in one run, not absolute numbers across runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["bench_relevance", "bench_speed", "bench_build", "bench_video", "bench_load", "bench_analytics"]


def main() -> int:
    names = sys.argv[1:] or ORDER
    failed = []
    for name in names:
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent).returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Search index build speed only: cold build throughput next to raw model.encode, and the
warm rebuild next to a plain mkdocs-material build (the same tables as bench_speed).

    .venv/bin/python -m bench.bench_build
"""

from __future__ import annotations

import os

from bench.bench_speed import build_speed, rebuild_speed
from bench.search_common import project_copy


def main() -> None:
    os.environ["KB_SEARCH"] = "true"
    project = project_copy("site")
    print("## Cold build throughput\n")
    print(build_speed(project))
    print("\n## Warm rebuild\n")
    print(rebuild_speed(project))


if __name__ == "__main__":
    main()

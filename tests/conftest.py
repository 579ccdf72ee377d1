"""Fixtures shared by several test modules. Plain helpers live in modules of their own, which
test modules import directly (a test module never imports another test module):
`tests/projects.py` (the sample project, `mkdocs build`), `tests/servers.py` (uvicorn and static
servers on a free port), `tests/pg_server.py` (a throw-away PostgreSQL server),
`tests/service_site.py` (a small index and site for `kb serve`) and `tests/video_project.py`
(clips made with ffmpeg, video sidecars, `VideoLibrary`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.projects import SampleBuild, copy_project, mkdocs_build

# Debian's Chromium, started the way this machine's closed network needs (no background
# connections, no component updates); Playwright never downloads a browser of its own.
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """The sample help center built with `mkdocs build --strict` (site, videos and index)."""
    project = copy_project(tmp_path_factory.mktemp("sample"))
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    return SampleBuild(project, project / "site", project / "search_index", result.stderr)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, one per test module (tests open their own
    contexts and pages in it)."""
    if not os.path.exists(CHROMIUM_PATH):
        pytest.fail(f"{CHROMIUM_PATH} is missing: the browser tests need Debian's chromium "
                    "(make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

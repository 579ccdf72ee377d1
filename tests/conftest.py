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

from kb_tools.analytics.store import EventStore
from tests.pg_server import TemporaryPostgres, find_bin_dir
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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TemporaryPostgres | str]:
    """A throw-away PostgreSQL server for the session (or KB_TEST_DATABASE_URL's)."""
    url = os.environ.get("KB_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if os.geteuid() != 0:
        pytest.skip("PostgreSQL store tests need root (initdb runs as the postgres user) or "
                    "KB_TEST_DATABASE_URL=postgresql+psycopg://user@host/db")
    if find_bin_dir() is None:
        pytest.fail("PostgreSQL server binaries (pg_ctl) are missing: apt-get install postgresql "
                    "(make system-deps installs it)")
    pg = TemporaryPostgres()
    pg.start()
    yield pg
    pg.stop()


def _fresh_url(kind: str, tmp_path, request) -> str:  # noqa: ANN001
    """An empty store of `kind` ("sqlite" or "postgresql": a new database on the session's server)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'analytics.db'}"
    server = request.getfixturevalue("pg_server")
    if isinstance(server, str):
        store = EventStore(server)
        store.clear()
        store.close()
        return server
    return server.create_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:  # noqa: ANN001
    """Each test that takes it runs twice: on an empty SQLite store and on an empty PostgreSQL one."""
    return _fresh_url(request.param, tmp_path, request)

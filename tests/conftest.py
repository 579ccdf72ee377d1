"""Shared fixtures: the sample help center built once per test session, in a temporary copy of
the project, exactly as a writer builds it (`mkdocs build`)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output readable
        pass


@contextmanager
def serve_folder(folder: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler) -> Iterator[str]:
    """`folder` as plain static files on 127.0.0.1 (a free port), as a CDN would host the site;
    yields the base URL and stops the server afterwards."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class SampleBuild:
    project_dir: Path
    site_dir: Path
    index_dir: Path
    log: str


def copy_project(dest: Path) -> Path:
    """A copy of the sample project (content and config, no build outputs) in `dest`."""
    for name in ("docs", "videos"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name)
    for name in ("mkdocs.yml", "policy.yml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    return dest


def mkdocs_build(project_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", *args],
        cwd=project_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "KB_PROGRESS": "0", **(env or {})},
        timeout=1200,
    )


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> SampleBuild:
    """The sample help center built with `mkdocs build --strict` (site, videos and index)."""
    project = copy_project(tmp_path_factory.mktemp("sample"))
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    return SampleBuild(project, project / "site", project / "search_index", result.stderr)

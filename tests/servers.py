"""Real servers for tests, on 127.0.0.1 at a free port and stopped when the block ends: an ASGI
app under uvicorn, and a folder as plain static files (as a CDN would host the site)."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[str]:
    """`app` under a real uvicorn on 127.0.0.1:<free port>; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           h11_max_incomplete_event_size=256 * 1024, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300  # a safety net against a hang, not a speed requirement
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output readable
        pass


@contextmanager
def serve_folder(folder: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler) -> Iterator[str]:
    """`folder` as plain static files; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class MkdocsServe:
    """`mkdocs serve` of ``project`` on a free loopback port, its log read line by line."""

    def __init__(self, project: Path) -> None:
        self.port = free_port()
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{self.port}"], cwd=project,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "KB_PROGRESS": "0"},
        )

    def wait_for(self, text: str) -> None:
        """Read the log until a line says ``text`` (the whole log in the error if it ends first)."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            if text in line:
                return
        raise AssertionError("".join(self.log))


@contextmanager
def mkdocs_serve(project: Path) -> Iterator[MkdocsServe]:
    server = MkdocsServe(project)
    try:
        yield server
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=30)

"""A throw-away PostgreSQL server for the test suite and the benchmarks (test code: it is not
part of the kb_tools package).

Debian's postgresql package (`/usr/lib/postgresql/<v>/bin`) is used directly: `initdb` into a
temporary folder, trust authentication, listening on 127.0.0.1 at a free port, stopped and
deleted by `stop()`. `initdb` refuses to run as root, so as root it runs as the `postgres`
user through `runuser`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.servers import free_port


def find_bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


class TemporaryPostgres:
    """`with TemporaryPostgres() as pg: pg.url` — a running server until the block ends."""

    def __init__(self, *, fsync: bool = False) -> None:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL server binaries not found (pg_ctl): install them with "
                "`apt-get install postgresql` (make system-deps does) or set KB_TEST_DATABASE_URL"
            )
        self.bin_dir = bin_dir
        self.fsync = fsync
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.strip()}\n{log}".strip()
            )

    def start(self) -> str:
        if self._as_root:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=100"
        if not self.fsync:
            opts += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start")
        self.running = True
        return self.url

    def create_database(self) -> str:
        """A fresh, empty database on this server; returns its URL."""
        import sqlalchemy as sa

        name = "kb_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            finally:
                self.running = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TemporaryPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python -m tests.pg_server` (scripts/pg-test-server.sh): start a server, print its URL,
    stop it on Enter."""
    with TemporaryPostgres() as pg:
        print(pg.url, flush=True)
        try:
            input("PostgreSQL is running; press Enter to stop it.\n")
        except (EOFError, KeyboardInterrupt):
            pass


if __name__ == "__main__":
    main()

"""Builds publish atomically (issue 11, finding 3): the site and the search index are built
aside and swapped in together only after every check passed. A failed or killed build leaves
the previous site and index serving, and a running `kb serve` answers every request during a
rebuild: no 404 for a page that exists before and after, and no search hit that leads to a
page it cannot serve."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.projects import help_center_yml, mkdocs_build, write
from tests.servers import free_port, mkdocs_serve

KB = Path(sys.executable).with_name("kb")

MKDOCS_YML = help_center_yml("Publish test", categories={"returns": "Returns", "shipping": "Shipping"})

PAGES = {
    "docs/index.md": "---\ntitle: Help\n---\n# Help\n\nStart with [returns](returns/start-a-return.md).\n",
    "docs/returns/start-a-return.md": (
        "---\ntitle: Start a return\ncategory: returns\n---\n# Start a return\n\n"
        "Open My Orders, choose the item and print the return label.\n"
    ),
    "docs/returns/warranty-claims.md": (
        "---\ntitle: Warranty claims\ncategory: returns\n---\n# Warranty claims\n\n"
        "A broken blender within the warranty period is repaired or replaced for free.\n"
    ),
    "docs/shipping/delivery-times.md": (
        "---\ntitle: Delivery times\ncategory: shipping\n---\n# Delivery times\n\n"
        "Parcels reach Dhaka in one day and the rest of the country in three days.\n"
    ),
}


def digest(folder: Path) -> str:
    """One hash of every file's path and bytes under `folder`."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def leftovers(project: Path) -> list[str]:
    """Anything a build leaves beside the published folders (temporary or half-written). The
    generation before the previous one is retired, at most one per folder, for the next build
    to delete (test_the_next_build_deletes_the_retired_generation)."""
    published = {"docs", "site", "search_index", ".kb_cache", "mkdocs.yml", "policy.yml", "hooks",
                 ".site.kb-previous", ".search_index.kb-previous"}  # the generation kb serve may still use
    left = sorted(p.name for p in project.iterdir() if p.name not in published)
    for name in ("site", "search_index"):
        retired = [n for n in left if n.startswith(f".{name}.kb-retired-")]
        assert len(retired) <= 1, retired
        left = [n for n in left if n not in retired]
    return left


def retired(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if ".kb-retired-" in p.name)


@pytest.fixture(scope="module")
def built_template(tmp_path_factory) -> Path:
    """A small help center built once with its search index (embedding cache warm)."""
    project = tmp_path_factory.mktemp("published")
    write(project, "mkdocs.yml", MKDOCS_YML)
    for rel, text in PAGES.items():
        write(project, rel, text)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def project(built_template: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(built_template, dest, symlinks=True)
    return dest


def snapshot(project: Path) -> tuple[str, str]:
    return digest(project / "site"), digest(project / "search_index")


FAILURES = {
    "an error, without --strict": (
        {"docs/returns/start-a-return.md": PAGES["docs/returns/start-a-return.md"] + "\nWithin {{ policy.nope }} days.\n"},
        [],
    ),
    "a stale article under --strict": (
        {"docs/returns/old.md": "---\ntitle: Old\nreview_by: 2020-01-01\n---\n# Old\n"},
        ["--strict"],
    ),
    "a MkDocs warning under --strict": (
        {"mkdocs.yml": MKDOCS_YML + "nav:\n  - Help: index.md\n  - Gone: gone.md\n"},
        ["--strict"],
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_a_failed_build_publishes_nothing(project: Path, failure: str) -> None:
    before = snapshot(project)
    files, args = FAILURES[failure]
    write(project, "docs/shipping/new-page.md", "---\ntitle: New page\n---\n# New page\n\nBrand new words.\n")
    for rel, text in files.items():
        write(project, rel, text)
    result = mkdocs_build(project, *args)
    assert result.returncode == 1, result.stderr
    assert snapshot(project) == before
    assert not (project / "site/shipping/new-page").exists()
    assert leftovers(project) == []


def test_a_good_build_publishes_site_and_index_together(project: Path) -> None:
    write(project, "docs/shipping/new-page.md", "---\ntitle: Cash on delivery\n---\n# Cash on delivery\n\nPay the courier.\n")
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    assert (project / "site/shipping/new-page/index.html").is_file()
    assert "shipping/new-page/" in (project / "search_index/chunks.json").read_text()
    assert leftovers(project) == []


HOOK = """\
import os, time
from pathlib import Path

def on_post_page(output, page, config):
    if page.file.src_uri == "shipping/delivery-times.md":
        Path(os.environ["KB_TEST_REACHED"]).write_text(config.site_dir)
        time.sleep(600)  # the test kills the build here
    return output
"""


def test_a_killed_build_leaves_the_previous_site_and_index(project: Path, tmp_path: Path) -> None:
    before = snapshot(project)
    write(project, "hooks/pause.py", HOOK)
    write(project, "mkdocs.yml", MKDOCS_YML + "hooks:\n  - hooks/pause.py\n")
    write(project, "docs/returns/start-a-return.md", PAGES["docs/returns/start-a-return.md"] + "\nNew words.\n")
    reached = tmp_path / "reached"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build"], cwd=project, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env={**os.environ, "KB_PROGRESS": "0", "KB_TEST_REACHED": str(reached)},
    )
    try:
        while not reached.exists():  # the build is writing pages now
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert Path(reached.read_text()).resolve() != (project / "site").resolve()  # it was building aside
    assert snapshot(project) == before
    # The next build cleans up what the killed one left and publishes.
    write(project, "mkdocs.yml", MKDOCS_YML)
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr
    assert "New words." in (project / "site/returns/start-a-return/index.html").read_text()
    assert leftovers(project) == []


def test_a_dirty_build_rebuilds_only_what_changed_and_publishes(project: Path) -> None:
    untouched = project / "site/shipping/delivery-times/index.html"
    mtime = untouched.stat().st_mtime_ns
    time.sleep(0.01)
    write(project, "docs/returns/start-a-return.md", PAGES["docs/returns/start-a-return.md"] + "\nDirty words.\n")
    result = mkdocs_build(project, "--dirty")
    assert result.returncode == 0, result.stderr
    assert "Dirty words." in (project / "site/returns/start-a-return/index.html").read_text()
    assert untouched.stat().st_mtime_ns == mtime
    assert leftovers(project) == []


def test_the_next_build_deletes_the_retired_generation(project: Path) -> None:
    """A publish renames the generation before the previous one aside instead of deleting it
    (deleting a site's files waits on the disk); the next build deletes it while MkDocs renders,
    before it publishes, so at most one is ever on disk per folder."""
    before: list[str] = []
    for n in range(3):
        write(project, "docs/returns/start-a-return.md", PAGES["docs/returns/start-a-return.md"] + f"\nRound {n}.\n")
        result = mkdocs_build(project)
        assert result.returncode == 0, result.stderr
        now = retired(project)
        assert len([r for r in now if r.startswith(".site.")]) == (1 if n else 0)  # the first had no previous
        assert not set(before) & set(now)  # the earlier build's retired generation is gone
        before = now
        assert leftovers(project) == []
    assert f"Round {n}." in (project / "site/returns/start-a-return/index.html").read_text()
    assert f"Round {n - 1}." in (project / ".site.kb-previous/returns/start-a-return/index.html").read_text()


class Prober(threading.Thread):
    """Requests pages and searches in a loop; every page a search hit names is fetched too."""

    def __init__(self, base: str, pages: list[str], query: str) -> None:
        super().__init__(daemon=True)
        self.base, self.pages, self.query = base, pages, query
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.requests = 0
        self.hit_urls: set[str] = set()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                urls = list(self.pages)
                r = client.get("/api/search", params={"q": self.query, "k": 5})
                self.requests += 1
                if r.status_code != 200:
                    self.failures.append(f"search: {r.status_code}")
                else:
                    hits = [h["url"].split("#")[0] for h in r.json()["hits"]]
                    self.hit_urls.update(hits)
                    urls += ["/" + u.lstrip("/") for u in hits]
                for url in urls:
                    r = client.get(url)
                    self.requests += 1
                    if r.status_code != 200:
                        self.failures.append(f"{url}: {r.status_code}")


def test_kb_serve_answers_every_request_while_the_site_is_rebuilt(project: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(KB), "serve", "--site-dir", str(project / "site"), "--index-dir", str(project / "search_index"),
         "--port", str(port), "--reload-interval", "0.2", "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "KB_RATE_LIMIT": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    prober = Prober(base, ["/", "/returns/start-a-return/", "/shipping/delivery-times/"], "blender warranty repaired")
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:  # up, with the first index loaded
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    first = client.get("/healthz").json()["index"].get("fingerprint")
                    if first:
                        break
                except (httpx.TransportError, ValueError, KeyError):
                    pass
                time.sleep(0.1)
            prober.start()
            # Rebuild 1: an edit. Rebuild 2: the warranty page is removed, so the index loaded
            # before it points at a page the new site no longer has.
            write(project, "docs/returns/start-a-return.md", PAGES["docs/returns/start-a-return.md"] + "\nEdited.\n")
            assert mkdocs_build(project).returncode == 0
            (project / "docs/returns/warranty-claims.md").unlink()
            (project / "docs/index.md").write_text(PAGES["docs/index.md"] + "\nAll answers.\n")
            result = mkdocs_build(project)
            assert result.returncode == 0, result.stderr
            new = (project / "search_index/manifest.json").read_text()
            while client.get("/healthz").json()["index"].get("fingerprint") not in new:
                assert proc.poll() is None
                time.sleep(0.1)
            seen = prober.requests
            while prober.requests < seen + 20:  # a few rounds against the new pair
                time.sleep(0.05)
    finally:
        prober.stop.set()
        prober.join(timeout=30)
        proc.terminate()
        proc.wait(timeout=30)
    assert prober.failures == []
    assert "/returns/warranty-claims/" in {"/" + u.lstrip("/") for u in prober.hit_urls}
    assert prober.requests > 50


def test_mkdocs_serve_builds_aside_and_publishes_nothing(project: Path) -> None:
    before = digest(project / "site")
    with mkdocs_serve(project) as serve:
        serve.wait_for("Serving on")
        page = httpx.get(f"http://127.0.0.1:{serve.port}/returns/start-a-return/", timeout=30)
        assert page.status_code == 200 and "print the return label" in page.text
        write(project, "docs/returns/start-a-return.md", PAGES["docs/returns/start-a-return.md"] + "\nServed edit.\n")
        serve.wait_for("Reloading browsers")
        page = httpx.get(f"http://127.0.0.1:{serve.port}/returns/start-a-return/", timeout=30)
        assert "Served edit." in page.text
    assert digest(project / "site") == before
    assert leftovers(project) == []


def test_each_generation_is_found_by_the_index_it_was_built_with(tmp_path: Path) -> None:
    """What `kb serve` relies on: after a publish the previous generation is still beside the
    new one, each marked with its index, and a folder swap never leaves the path missing."""
    from kb_tools.publish import Generation, SiteGenerations, exchange, write_build_file

    site = tmp_path / "site"
    for n, fingerprint in enumerate(["old", "new"]):
        gen = Generation(site)
        (gen.begin() / "index.html").write_text(f"generation {n}")
        write_build_file(gen.building, fingerprint)
        gen.publish()
    generations = SiteGenerations(site)
    assert (generations.folder_for("new") / "index.html").read_text() == "generation 1"
    assert generations.folder_for("new") == site.resolve()
    assert (generations.folder_for("old") / "index.html").read_text() == "generation 0"
    assert generations.folder_for("unknown") == generations.folder_for(None) == site.resolve()
    # A third publish drops the oldest generation.
    gen = Generation(site)
    write_build_file(gen.begin(), "newest")
    gen.publish()
    assert SiteGenerations(site).folder_for("old") == site.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.kb-previous", "site"]
    # The swap itself: both folders exist before and after, with their contents exchanged.
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "a").touch(), (b / "b").touch()
    exchange(a, b)
    assert [p.name for p in a.iterdir()] == ["b"] and [p.name for p in b.iterdir()] == ["a"]

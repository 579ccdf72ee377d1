"""The built sample help center in Debian's Chromium as a shopper's browser sees it: axe-core
finds nothing serious, the console stays empty on every page (static hosting and `kb serve`),
language alternates are absolute, kb's files load only where they are used, and automated
browsers are not counted as shoppers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.axe import axe_serious
from tests.projects import ROOT, mkdocs_build
from tests.servers import QuietHandler, free_port, serve_folder

pytestmark = pytest.mark.browser

KB = Path(sys.executable).with_name("kb")
PAGES = {
    "home": "",
    "article": "shipping/delivery-times/",
    "Bengali article": "bn/returns/return-policy/",
    "video page": "videos/start-a-return/",
}
# Where the sample says it lives (mkdocs.yml site_url). The browser is made to believe the
# site is there (requests to it are answered by the server under test), so absolute URLs
# built from site_url stay same-origin, as they are in production.
SITE_URL = "http://localhost:8000/"
# What kb adds to a page: its own markup (every kb element has a kb- class) and the widget.
# Material's own findings on the same pages (its search dialog's name, its teal palette's
# contrast) are Material's, and the plain Material build has them too (bench_pages).
KB_ELEMENTS = '[class*="kb-"], [data-kb-widget], [data-kb-search]'


def route_site_url_to(context, base: str) -> None:
    """Requests to SITE_URL are answered by the server at `base`."""

    def handle(route) -> None:
        url = base + "/" + route.request.url[len(SITE_URL):]
        for attempt in range(3):
            try:
                response = route.fetch(url=url, max_redirects=0)
                break
            except PlaywrightError as exc:
                if "disposed" in str(exc) or "has been closed" in str(exc):
                    return  # the test closed this page's context while the request was in flight
                # The server closed an idle keep-alive connection just as this request reused
                # it (uvicorn's keep-alive timeout; frequent on a busy machine). A browser sends
                # such a GET again on a new connection; Playwright's fetch does not.
                if "ECONNRESET" not in str(exc) or attempt == 2:
                    raise
        route.fulfill(response=response)

    context.route(re.compile("^" + re.escape(SITE_URL)), handle)



@pytest.fixture(scope="module")
def static_site(sample_build) -> Iterator[str]:
    with serve_folder(sample_build.site_dir) as base:
        yield base


@pytest.fixture(scope="module")
def kb_served(sample_build) -> Iterator[str]:
    """`kb serve` over the sample, as `make demo` runs it (with the demo shop)."""
    port = free_port()
    env = {**os.environ, "KB_RATE_LIMIT": "0", "KB_CONTACT_EMAIL": "help@nodi.example",
           "KB_CONTACT_WHATSAPP": "8801712345678", "KB_DATABASE_URL": f"sqlite:///{sample_build.project_dir / 'a.db'}"}
    proc = subprocess.Popen(
        [str(KB), "serve", "--site-dir", str(sample_build.site_dir), "--index-dir", str(sample_build.index_dir),
         "--port", str(port), "--log-level", "warning", "--demo-shop", "--shop-dir", str(ROOT / "examples" / "shop")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5) as client:
            while True:  # until the index answers (the process dying fails the test)
                assert proc.poll() is None, proc.stderr.read().decode()
                try:
                    if client.get(base + "/api/search", params={"q": "return"}).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_the_sample_pages(browser, static_site: str, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme=scheme)
    route_site_url_to(context, static_site)
    page = context.new_page()
    found = {}
    for label, path in PAGES.items():
        page.goto(SITE_URL + path, wait_until="load")
        found[label] = axe_serious(page, within=KB_ELEMENTS)
    context.close()
    assert found == {label: [] for label in PAGES}


def every_page(site_dir: Path) -> list[str]:
    return sorted(
        p.parent.relative_to(site_dir).as_posix().removeprefix(".") + ("/" if p.parent != site_dir else "")
        for p in site_dir.rglob("index.html")
    )


def console_problems(context, urls: list[str]) -> dict[str, list[str]]:
    """Console errors and warnings, page errors, failed requests and HTTP errors per page."""
    problems: dict[str, list[str]] = {}
    page = context.new_page()
    current = {"url": ""}

    def note(what: str) -> None:
        problems.setdefault(current["url"], []).append(what)

    page.on("console", lambda m: m.type in ("error", "warning") and note(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: note(f"page error: {e}"))
    # ERR_ABORTED: the test moved on to the next page while Material was still loading its
    # search worker; not a failure a shopper sees.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and note(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and note(f"HTTP {r.status}: {r.url}"))
    for url in urls:
        current["url"] = url
        page.goto(url, wait_until="networkidle")
    page.goto("about:blank")  # pagehide: queued events are sent now
    page.close()
    return problems


@pytest.mark.slow
def test_console_is_empty_on_every_page_on_a_static_host(browser, sample_build, static_site: str) -> None:
    context = browser.new_context()
    route_site_url_to(context, static_site)
    api_calls: list[str] = []
    context.on("request", lambda r: "/api/" in r.url and api_calls.append(f"{r.method} {r.url}"))
    urls = [SITE_URL + path for path in every_page(sample_build.site_dir)]
    assert len(urls) > 60
    problems = console_problems(context, urls)
    context.close()
    assert problems == {}
    assert api_calls == []  # no search probe, no events: there is no API on a static host


@pytest.mark.slow
def test_console_is_empty_on_every_page_under_kb_serve(browser, sample_build, kb_served: str) -> None:
    context = browser.new_context()
    route_site_url_to(context, kb_served)
    problems = console_problems(context, [SITE_URL + path for path in every_page(sample_build.site_dir)])
    context.close()
    assert problems == {}


def test_site_search_still_uses_the_api_under_kb_serve(browser, kb_served: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    route_site_url_to(context, kb_served)
    page = context.new_page()
    page.goto(SITE_URL)
    page.locator("input.md-search__input").click()
    page.keyboard.type("how long do card refunds take")
    page.locator("[data-kb-search] .md-search-result__link").first.wait_for()
    context.close()


def head_alternates(html: str) -> dict[str, str]:
    return dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r'<link rel="alternate" href="([^"]+)" hreflang="([^"]+)"', html)
    )


def test_language_alternates_are_absolute_and_point_to_translations(sample_build) -> None:
    page = (sample_build.site_dir / "returns/return-policy/index.html").read_text(encoding="utf-8")
    assert head_alternates(page) == {
        "en": SITE_URL + "returns/return-policy/",
        "bn": SITE_URL + "bn/returns/return-policy/",
        "gu": SITE_URL + "gu/returns/return-policy/",
    }
    untranslated = (sample_build.site_dir / "returns/exchanges/index.html").read_text(encoding="utf-8")
    assert head_alternates(untranslated) == {}  # no equivalent page: no hreflang
    assert 'hreflang="bn"' in untranslated  # the switcher still offers the Bengali home


def test_kb_files_are_hashed_and_only_where_used(sample_build) -> None:
    site = sample_build.site_dir
    home = (site / "index.html").read_text(encoding="utf-8")
    video = (site / "videos/start-a-return/index.html").read_text(encoding="utf-8")
    article = (site / "shipping/delivery-times/index.html").read_text(encoding="utf-8")
    kb_refs = re.compile(r'(?:href|src)="([^"]*assets/kb/[^"]+)"')
    for html in (home, video, article):
        for ref in kb_refs.findall(html):
            assert re.search(r"\.[0-9a-f]{8,}\.(js|css)$", ref), ref
    head = home.split("</head>")[0]
    assert not re.search(r'<link[^>]+assets/kb/[^>]+stylesheet|<link[^>]+stylesheet[^>]+assets/kb/', head)
    assert not re.search(r"<script(?![^>]*\b(defer|async)\b)[^>]*assets/kb/", home)
    assert "kb-video" not in home and "kb-video" not in article
    assert "kb-video" in video


def test_the_site_learns_from_one_quiet_request_whether_kb_serve_is_there(sample_build, kb_served: str) -> None:
    assert json.loads((sample_build.site_dir / "assets/kb/api.json").read_text()) == {"api": False}
    answer = httpx.get(kb_served + "/assets/kb/api.json")
    assert answer.status_code == 200 and answer.json() == {"api": True}
    assert answer.headers["cache-control"] == "no-cache"


def test_kb_serve_caches_kb_files_for_a_year(sample_build, kb_served: str) -> None:
    html = httpx.get(kb_served + "/videos/start-a-return/").text
    refs = re.findall(r'(?:href|src)="([^"]*assets/kb/[^"]+)"', html)
    assert refs
    for ref in refs:
        url = kb_served + urlsplit(httpx.URL(kb_served + "/videos/start-a-return/").join(ref).raw_path.decode()).path
        r = httpx.get(url)
        assert r.status_code == 200, url
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable", url


def test_last_update_is_shown_only_when_the_site_asks(sample_build, tmp_path: Path) -> None:
    article = (sample_build.site_dir / "returns/start-a-return/index.html").read_text(encoding="utf-8")
    assert 'class="md-source-file"' in article  # the sample opts in (mkdocs.yml)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/index.md").write_text("# Home\n\nText.\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: X\ntheme: material\nplugins:\n  - search\n  - kb:\n      search: false\n")
    assert mkdocs_build(tmp_path, "--strict").returncode == 0
    assert "md-source-file" not in (tmp_path / "site/index.html").read_text(encoding="utf-8")


EVENTS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<script defer src="/kb-events.js"></script><script defer src="/kb-feedback.js"></script></head>
<body><article class="md-content__inner"><h1>Start a return</h1></article></body></html>"""


@pytest.mark.parametrize("opt_in", [False, True])
def test_automated_browsers_send_no_page_view_unless_a_test_opts_in(browser, tmp_path: Path, opt_in: bool) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(EVENTS_PAGE)
    for name in ("kb-events.js", "kb-feedback.js"):
        (site / name).write_bytes((ROOT / "kb_tools/assets" / name).read_bytes())
    received: list[dict] = []

    class Collector(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.extend(json.loads(body or b"{}").get("events", []))
            self.send_response(204)
            self.end_headers()

    with serve_folder(site, Collector) as base:
        context = browser.new_context()
        if opt_in:
            context.add_init_script("window.kbCountAutomatedVisits = true;")
        page = context.new_page()
        page.goto(base + "/")
        page.wait_for_function("window.KbEvents !== undefined")
        page.evaluate("KbEvents.track('search', {query: 'refund', results: 1, top: []}); KbEvents.flush()")
        deadline = time.monotonic() + 10
        while not any(e["name"] == "search" for e in received):  # every event before it is in
            assert time.monotonic() < deadline, received
            time.sleep(0.05)
        context.close()
    names = [e["name"] for e in received]
    assert ("page_view" in names) is opt_in

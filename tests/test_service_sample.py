"""`kb serve` over the sample help center built by `mkdocs build` (the session's sample_build):
start-up time as a shopper sees it, and the site's own search box using the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from kb_tools.service.app import create_app
from tests.servers import free_port, serve_folder, serving
from tests.service_site import settings_for

KB = Path(sys.executable).with_name("kb")


def test_kb_serve_starts_and_answers_a_search(sample_build) -> None:
    # How fast it answers after a start is measured by a benchmark, not asserted here: on a
    # busy machine the first answer may come many seconds later and still be correct.
    port = free_port()
    proc = subprocess.Popen(
        [str(KB), "serve", "--site-dir", str(sample_build.site_dir), "--index-dir",
         str(sample_build.index_dir), "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "KB_RATE_LIMIT": "0"},
    )
    try:
        answer = None
        with httpx.Client(timeout=60) as c:
            for _ in range(2400):  # bounded: gives up after minutes, not after a time budget
                try:
                    r = c.get(f"http://127.0.0.1:{port}/api/search", params={"q": "how do I return an item"})
                    if r.status_code == 200 and r.json()["hits"]:
                        answer = r.json()
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.05)
        assert answer is not None, "kb serve never answered"
        assert "return" in answer["hits"][0]["url"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def answer_to(query: str):
    """Matches the /api/search response for exactly `query` (not for a prefix typed on the way)."""
    return lambda r: "/api/search?" in r.url and parse_qs(urlsplit(r.url).query).get("q") == [query]


def search_site(browser, url: str, query: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url)
    page.locator("input.md-search__input").click()
    page.keyboard.type(query)  # Material's own search listens to key events
    return page


@pytest.mark.browser
def test_site_search_box_uses_the_api_when_served_by_kb_serve(sample_build, browser) -> None:
    app = create_app(settings_for(sample_build.index_dir, sample_build.site_dir, rate_limit=0))
    with serving(app) as base:
        app.state.service.index.warm_current()
        query = "how long do card refunds take"
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/")
        page.locator("input.md-search__input").click()
        # Typing is slow on a busy machine, so a prefix ("how long") may be searched and shown
        # first: wait for the answer to the whole query, then for the page to show it.
        with page.expect_response(answer_to(query), timeout=120_000) as answer:
            page.keyboard.type(query)  # Material's own search listens to key events
        hits = answer.value.json()["hits"]
        assert "refund" in hits[0]["url"]
        page.wait_for_function(
            "url => { const a = document.querySelector('[data-kb-search] .md-search-result__link');"
            " return a !== null && a.href === new URL(url, location.origin + '/').href; }", arg=hits[0]["url"])
        ours = page.locator("[data-kb-search]")
        first = ours.locator(".md-search-result__link").first
        assert "matching document" in ours.locator(".md-search-result__meta").inner_text()
        assert first.get_attribute("href").startswith(base + "/")
        assert not page.locator('[data-md-component="search-result"]').is_visible()
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.closest('[data-kb-search]') !== null")
        target = page.evaluate("document.activeElement.href")
        page.keyboard.press("Enter")
        page.wait_for_url(target)
        assert "refund" in page.url
        page.close()


@pytest.mark.browser
def test_site_search_is_left_to_material_on_a_static_host(sample_build, browser) -> None:
    with serve_folder(sample_build.site_dir) as base:
        page = search_site(browser, base + "/", "refund")
        native = page.locator('[data-md-component="search-result"] .md-search-result__item')
        native.first.wait_for()
        assert page.locator("[data-kb-search]").count() == 0
        assert "kb-api-search" not in (page.evaluate("document.documentElement.className") or "")
        page.close()

"""`kb serve` over the sample help center built by `mkdocs build` (the session's sample_build):
start-up time as a shopper sees it, and the site's own search box using the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kb_tools.service.app import create_app
from tests.servers import free_port, serve_folder, serving
from tests.service_site import settings_for

KB = Path(sys.executable).with_name("kb")


def test_kb_serve_answers_within_3_seconds_of_start(sample_build) -> None:
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(KB), "serve", "--site-dir", str(sample_build.site_dir), "--index-dir",
         str(sample_build.index_dir), "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "KB_RATE_LIMIT": "0"},
    )
    try:
        answer = None
        with httpx.Client(timeout=5) as c:
            for _ in range(400):  # 20 s at most
                try:
                    r = c.get(f"http://127.0.0.1:{port}/api/search", params={"q": "how do I return an item"})
                    if r.status_code == 200 and r.json()["hits"]:
                        answer = r.json()
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read().decode()
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        assert answer is not None
        assert "return" in answer["hits"][0]["url"]
        assert elapsed < 3.0, f"first answer {elapsed:.2f} s after start"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
        app.state.index.warm_current()
        page = search_site(browser, base + "/", "how long do card refunds take")
        ours = page.locator("[data-kb-search]")
        ours.locator(".md-search-result__link").first.wait_for()
        assert "matching document" in ours.locator(".md-search-result__meta").inner_text()
        first = ours.locator(".md-search-result__link").first
        assert "refund" in first.get_attribute("href")
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

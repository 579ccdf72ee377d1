"""Screenshots of the built sample help center for the README, taken with Debian's Chromium.

    .venv/bin/mkdocs build && .venv/bin/python scripts/screenshot_site.py

Serves site/ on 127.0.0.1 (a free port) for the duration of the run only.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SHOTS = [
    ("site.png", "", 1280, 800),
    ("site-article.png", "returns/start-a-return/", 1280, 900),
    ("site-bengali-phone.png", "bn/", 390, 800),
]


def main() -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, path, width, height in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(base + path, wait_until="networkidle")
                page.screenshot(path=str(OUT / name))
                page.close()
                print(f"wrote {OUT / name}")
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()

"""Screenshots of the help widget on the demo shop page, for the README, taken with Debian's
Chromium against a real `kb serve` app (127.0.0.1, a free port, for the run only).

    .venv/bin/mkdocs build && .venv/bin/python scripts/screenshot_widget.py

Writes examples/screenshots/widget.png (1280x800, product page, floating panel open with
results), widget-phone.png (360x740) and widget-inline.png (the order-status page).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

OUT = ROOT / "examples" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from kb_tools.service.app import create_app
    from kb_tools.service.settings import ServiceSettings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site-dir", type=Path, default=ROOT / "site")
    ap.add_argument("--index-dir", type=Path, default=ROOT / "search_index")
    ap.add_argument("--query", default="can I return the blender")
    args = ap.parse_args()
    if not (args.index_dir / "manifest.json").exists():
        sys.exit(f"no search index in {args.index_dir}: run `.venv/bin/mkdocs build` first")

    settings = ServiceSettings(
        site_dir=args.site_dir, index_dir=args.index_dir, demo_shop=True, shop_dir=ROOT / "examples" / "shop",
        rate_limit=0, contact_email="help@nodi.example", contact_phone="+880 9612-345678",
        contact_whatsapp="8801712345678", contact_chat_url="https://nodi.example/chat",
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='kb-shots-')}/analytics.db",
    )
    app = create_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    if app.state.service.index.current is None:
        server.should_exit = True
        sys.exit(app.state.service.index.last_error)
    app.state.service.index.warm_current()  # hybrid answers, as after the first seconds of a real start
    base = f"http://127.0.0.1:{port}/examples/shop/"
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, width, height in (("widget.png", 1280, 800), ("widget-phone.png", 360, 740)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(base)
                page.get_by_role("button", name="Help").click()
                page.get_by_role("combobox").fill(args.query)
                page.get_by_role("option").first.wait_for()
                page.wait_for_timeout(400)
                page.keyboard.press("ArrowDown")
                page.screenshot(path=str(OUT / name))
                print(f"wrote {OUT / name}")
                page.close()
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(base + "order-status.html")
            page.get_by_role("combobox").fill("when will my order arrive")
            page.get_by_role("option").first.wait_for()
            page.wait_for_timeout(400)
            page.screenshot(path=str(OUT / "widget-inline.png"), full_page=True)
            print(f"wrote {OUT / 'widget-inline.png'}")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()

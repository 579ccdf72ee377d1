"""Screenshots of the help widget on the demo shop pages, for the README, taken with Debian's
Chromium against a real `kb serve` app (127.0.0.1, a free port, for the run only).

    .venv/bin/mkdocs build && .venv/bin/python scripts/screenshot_widget.py

Writes examples/screenshots/widget-<state>.png (1280x800) and widget-<state>-phone.png
(360x740) for each state of the floating panel — `suggestions` (opened on the product page,
before typing), `results`, `answer` (a result read inside the panel), `video` (a video answer
from its moment) and `no-answer` — plus widget-inline.png (the order-status page) and
site-no-handoff.png (the help site after "No" on "Was this page helpful?").
The clock is a Sunday 11:00 in Dhaka, so the hours shown are the same on every run. A search
index built before the answer decision (`answered` in /api/search) cannot say "no answer": for
that state the script then marks the search response not answered, as the API will.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
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
SUNDAY_MORNING = dt.datetime(2026, 11, 29, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=6)))
SIZES = {"": (1280, 800), "-phone": (360, 740)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from kb_tools.service.app import create_app
    from kb_tools.service.settings import ServiceSettings
    from tests.servers import serving

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site-dir", type=Path, default=ROOT / "site")
    ap.add_argument("--index-dir", type=Path, default=ROOT / "search_index")
    ap.add_argument("--query", default="return an item")
    ap.add_argument("--video-query", default="print the return label")
    ap.add_argument("--no-answer-query", default="do you sell iphones")
    args = ap.parse_args()
    if not (args.index_dir / "manifest.json").exists():
        sys.exit(f"no search index in {args.index_dir}: run `.venv/bin/mkdocs build` first")

    settings = ServiceSettings(
        site_dir=args.site_dir, index_dir=args.index_dir, demo_shop=True, shop_dir=ROOT / "examples" / "shop",
        rate_limit=0, contact_email="help@nodi.example", contact_phone="+8809610000000",
        contact_whatsapp="8801700000000", contact_messenger="nodihome", timezone="Asia/Dhaka",
        contact_hours="Sat-Thu 09:00-21:00; phone=Sun-Thu 10:00-18:00; email=24/7",
        contact_reply_time="whatsapp=15m; messenger=1h; email=1d",
        database_url=f"sqlite:///{tempfile.mkdtemp(prefix='kb-shots-')}/analytics.db",
    )
    app = create_app(settings)
    OUT.mkdir(parents=True, exist_ok=True)
    with serving(app) as base, sync_playwright() as p:
        if app.state.service.index.current is None:
            sys.exit(app.state.service.index.last_error)
        app.state.service.index.warm_current()  # hybrid answers, as after the first seconds of a real start
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def new_page(width: int, height: int):
            context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="Asia/Dhaka",
                                          is_mobile=width < 500, has_touch=width < 500)
            context.route("https://wa.me/**", lambda route: route.abort())
            page = context.new_page()
            page.clock.set_fixed_time(SUNDAY_MORNING)
            return page

        def shot(page, name: str, **kw) -> None:
            page.screenshot(path=str(OUT / name), **kw)
            print(f"wrote {OUT / name}")

        for suffix, (width, height) in SIZES.items():
            page = new_page(width, height)
            page.goto(base + "/examples/shop/")
            page.get_by_role("button", name="Help").click()
            page.get_by_role("listbox", name="Suggested for this page").get_by_role("option").first.wait_for()
            shot(page, f"widget-suggestions{suffix}.png")
            page.get_by_role("combobox").fill(args.query)
            results = page.get_by_role("listbox", name="Results").get_by_role("option")
            results.first.wait_for()
            page.keyboard.press("ArrowDown")
            shot(page, f"widget-results{suffix}.png")
            page.keyboard.press("Enter")
            page.locator("[data-kb-widget] .answer-body > *").first.wait_for()
            shot(page, f"widget-answer{suffix}.png")
            page.get_by_role("combobox").fill(args.video_query)
            results.filter(has_text="Video").first.wait_for()
            results.filter(has_text="Video").first.click()
            page.wait_for_function("() => { const v = document.querySelector('[data-kb-widget]').shadowRoot"
                                   ".querySelector('video'); return v && v.readyState >= 2; }")
            page.evaluate("document.querySelector('[data-kb-widget]').shadowRoot.querySelector('video').pause()")
            shot(page, f"widget-video{suffix}.png")
            page.route("**/api/search?*", _not_answered)
            page.get_by_role("combobox").fill(args.no_answer_query)
            page.get_by_role("listbox", name="Maybe related").get_by_role("option").first.wait_for()
            shot(page, f"widget-no-answer{suffix}.png")
            page.context.close()

        page = new_page(1100, 1000)
        page.goto(base + "/examples/shop/order-status.html")
        page.get_by_role("combobox").fill("when will my order arrive")
        page.get_by_role("listbox", name="Results").get_by_role("option").first.wait_for()
        shot(page, "widget-inline.png", full_page=True)
        page.context.close()

        page = new_page(1280, 900)
        page.goto(base + "/returns/return-policy/")
        feedback = page.get_by_role("region", name="Was this page helpful?")
        feedback.scroll_into_view_if_needed()
        feedback.get_by_role("button", name="No").click()
        feedback.get_by_role("region", name="Contact us").get_by_role("link").first.wait_for()
        feedback.get_by_role("textbox").fill("Can I return a jar I used once?")
        box = feedback.evaluate("e => { const r = e.getBoundingClientRect(); return {y: r.top + scrollY, height: r.height}; }")
        shot(page, "site-no-handoff.png", full_page=True, clip=_around(box, 1280))
        page.context.close()
        browser.close()


def _not_answered(route) -> None:
    body = route.fetch().json()
    if "answered" not in body:  # an index from before the answer decision
        body["answered"] = False
    route.fulfill(json=body)


def _around(box: dict, width: int) -> dict:
    return {"x": 0, "y": max(0, box["y"] - 40), "width": width, "height": box["height"] + 80}


if __name__ == "__main__":
    main()

"""The embeddable widget in a real Chromium on the demo shop pages, served by a real `kb serve`
app on 127.0.0.1: search as you type, keyboard, focus, isolation from the shop's CSS, no
script injection, languages, phone width, and the events it sends."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kb_tools.service.app import create_app
from tests.axe import axe_serious
from tests.projects import ROOT
from tests.servers import serving
from tests.service_site import PAGES, build, make_site, settings_for

pytestmark = pytest.mark.browser

HOST = "document.querySelector('[data-kb-widget]').shadowRoot"

# Records what the widget hands to window.KbEvents, whether or not kb-events.js is bundled:
# whatever gets assigned to window.KbEvents is wrapped.
RECORD_EVENTS = """
(() => {
  const calls = []; window.__kbCalls = calls;
  const wrap = (v) => ({
    configure: (...a) => { calls.push(['configure', a[0]]); return v.configure && v.configure.apply(v, a); },
    track: (...a) => { calls.push(a); return v.track && v.track.apply(v, a); },
    session: (...a) => v.session && v.session.apply(v, a),
  });
  let current = wrap({});
  Object.defineProperty(window, 'KbEvents', {configurable: true, get: () => current, set: (v) => { current = wrap(v); }});
})();
"""


DB: dict[str, Path] = {}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("widget")
    build(PAGES, root / "index", root / "cache")
    shop = root / "shop"
    shutil.copytree(ROOT / "examples" / "shop", shop)
    bn = (shop / "index.html").read_text(encoding="utf-8").replace('<html lang="en">', '<html lang="bn">')
    (shop / "bn.html").write_text(bn.replace('data-lang="en" ', ""), encoding="utf-8")
    app = create_app(settings_for(
        root / "index", make_site(root), demo_shop=True, shop_dir=shop, rate_limit=0,
        contact_email="help@nodi.example", contact_whatsapp="8801712345678"))
    DB["path"] = root / "analytics.db"
    with serving(app) as base:
        app.state.service.index.warm_current()
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.add_init_script(RECORD_EVENTS)
    pg.dialogs = []
    pg.errors = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


def open_and_search(page, base_url: str, query: str) -> None:
    page.goto(base_url + "/examples/shop/")
    page.get_by_role("button", name="Help").click()
    page.get_by_role("combobox").fill(query)


def test_search_keyboard_and_focus(page, base_url: str) -> None:
    open_and_search(page, base_url, "send back an unused item")
    options = page.get_by_role("option")
    options.first.wait_for()
    assert "Return policy" in options.first.inner_text()
    count = options.count()
    assert page.get_by_role("status").inner_text() == f"{count} results"
    combo = page.get_by_role("combobox")
    assert combo.get_attribute("aria-expanded") == "true"

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second_id = options.nth(1).get_attribute("id")
    assert combo.get_attribute("aria-activedescendant") == second_id
    assert options.nth(1).get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")
    assert options.first.get_attribute("aria-selected") == "true"
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")
    help_page = opened.value
    help_page.wait_for_load_state()
    opened_url = urlsplit(help_page.url)
    assert (opened_url.path, opened_url.fragment) == ("/returns/policy/", "window")
    assert parse_qs(opened_url.query)["kbs"] == ["widget"]
    assert "Return policy" in help_page.content()
    help_page.close()

    page.bring_to_front()
    page.get_by_role("combobox").focus()
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()
    assert page.evaluate(f"{HOST}.activeElement && {HOST}.activeElement.classList.contains('launcher')")
    assert page.errors == []


def test_open_widget_with_results_has_no_serious_accessibility_violation(page, base_url: str) -> None:
    open_and_search(page, base_url, "how do I return an item")
    page.get_by_role("option").nth(1).wait_for()
    page.keyboard.press("ArrowDown")
    assert axe_serious(page) == []


def test_events_are_only_final_queries_and_clicks(page, base_url: str) -> None:
    open_and_search(page, base_url, "delivery time dhaka")
    page.get_by_role("option").first.wait_for()
    page.get_by_role("option").first.click()  # opens a new tab; the shop page stays
    calls = page.evaluate("window.__kbCalls")
    assert ["configure", {"endpoint": base_url + "/api/events", "source": "widget"}] in calls
    tracked = [c for c in calls if c[0] != "configure"]
    assert [c[0] for c in tracked] == ["search", "result_click"]
    search, click = tracked[0][1], tracked[1][1]
    assert search["query"] == "delivery time dhaka" and search["results"] >= 1
    assert search["top"][0] == "shipping/times/#dhaka"
    assert click == {"query": "delivery time dhaka", "rank": 1, "url": "shipping/times/#dhaka"}


def test_hostile_query_and_snippet_are_shown_as_text(page, base_url: str) -> None:
    open_and_search(page, base_url, "<img src=x onerror=alert(1)>")
    page.get_by_role("status").filter(has_text="result").wait_for()
    page.get_by_role("combobox").fill("spam bots onerror reviews")
    snippet = page.get_by_role("option").first.locator(".snippet")
    snippet.wait_for()
    assert "<img src=x onerror=alert(1)>" in snippet.inner_text()  # rendered: nothing left to wait for
    assert page.evaluate(f"{HOST}.querySelectorAll('img, script, iframe').length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.dialogs == [] and page.errors == []


def test_shop_css_does_not_reach_the_widget(page, base_url: str) -> None:
    page.goto(base_url + "/examples/shop/")
    launcher = page.get_by_role("button", name="Help")
    # The shop says `* { font-size: 18px !important }` and `button { all: unset }`.
    assert page.evaluate("getComputedStyle(document.querySelector('.buy')).fontSize") == "18px"
    assert launcher.evaluate("b => getComputedStyle(b).fontSize") == "16px"
    assert launcher.evaluate("b => getComputedStyle(b).position") == "fixed"
    assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 121, 107)"


def test_inline_widget_on_the_order_page_with_contacts(page, base_url: str) -> None:
    page.goto(base_url + "/examples/shop/order-status.html")
    box = page.get_by_role("combobox")
    assert box.evaluate("b => b.getRootNode().host.parentElement.id") == "help"
    box.fill("courier label")
    page.get_by_role("option").first.wait_for()
    video = page.get_by_role("option").filter(has_text="How to start a return").first
    assert "at 1:23" in video.inner_text()
    href = urlsplit(video.get_attribute("data-href"))
    assert (href.netloc, href.path, href.fragment) == (urlsplit(base_url).netloc, "/videos/start-a-return/", "t=83")
    assert page.get_by_text("Still need help?").is_visible()
    wa = page.get_by_role("link", name="WhatsApp")
    assert wa.get_attribute("href") == "https://wa.me/8801712345678"
    assert page.get_by_role("link", name="Email").get_attribute("href") == "mailto:help@nodi.example"
    page.keyboard.press("Escape")
    assert box.input_value() == "" and page.get_by_role("option").count() == 0


def test_labels_follow_the_page_language(page, base_url: str) -> None:
    page.goto(base_url + "/examples/shop/bn.html")
    page.get_by_role("button", name="সাহায্য").click()
    assert page.get_by_role("combobox").get_attribute("placeholder").startswith("সাহায্য খুঁজুন")
    page.get_by_role("combobox").fill("ফেরত")
    page.get_by_role("option").first.wait_for()
    assert page.get_by_role("option").first.inner_text().find("ফেরত নীতি") >= 0
    assert page.get_by_role("status").inner_text().endswith("টি ফলাফল")
    assert page.get_by_text("এখনও সাহায্য দরকার?").is_visible()


def test_panel_is_full_width_on_a_phone(browser, base_url: str) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base_url + "/examples/shop/")
    page.get_by_role("button", name="Help").click()
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 360
    page.get_by_role("combobox").fill("refund")
    page.get_by_role("option").first.wait_for()
    assert page.get_by_role("option").first.bounding_box()["width"] <= 360
    page.get_by_role("button", name="Close help").click()
    assert page.get_by_role("button", name="Help").is_visible()
    context.close()


def test_events_reach_the_collector_through_kb_events(browser, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()  # no recorder: the real kb-events.js from /widget.js
    page.goto(base_url + "/examples/shop/")
    page.get_by_role("button", name="Help").click()
    page.get_by_role("combobox").fill("delivery time dhaka")
    page.get_by_role("option").first.wait_for()
    page.keyboard.press("Enter")  # no active option: counts the query as final
    with page.expect_response(lambda r: r.url == base_url + "/api/events") as sent:
        page.evaluate("window.KbEvents.flush()")
    assert sent.value.status == 204  # the collector answers once the batch is committed
    with sqlite3.connect(DB["path"]) as db:
        rows = db.execute("SELECT source, query, results FROM events WHERE name = 'search'").fetchall()
    assert ("widget", "delivery time dhaka") in [r[:2] for r in rows]
    context.close()

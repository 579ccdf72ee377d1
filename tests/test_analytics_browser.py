"""The help-site scripts in a real browser: page_view with its origin, the feedback widget,
contact clicks and the anonymous session, all the way into the store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.staticfiles import StaticFiles

from kb_tools.analytics.collector import collector_app
from kb_tools.analytics.store import EventStore, events
from tests.servers import serving

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parent.parent / "kb_tools" / "assets"
PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="stylesheet" href="/assets/kb-feedback.css">
<script defer src="/assets/kb-events.js"></script><script defer src="/assets/kb-feedback.js"></script>
</head><body><article class="md-content__inner"><h1>Start a return</h1><p>Steps…</p>
<p><a id="call" href="tel:+8809612345678">Call us</a> <a id="wa" href="https://wa.me/8801712345678">WhatsApp</a>
<button id="chat" data-kb-contact="chat">Chat</button></p>
{placeholder}</article></body></html>"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, EventStore]]:
    root = tmp_path / "site"
    (root / "returns" / "start").mkdir(parents=True)
    (root / "bn" / "returns" / "start").mkdir(parents=True)
    (root / "returns" / "start" / "index.html").write_text(
        PAGE.format(lang="en", placeholder='<div class="kb-feedback" data-url="returns/start/"></div>'), encoding="utf-8")
    (root / "bn" / "returns" / "start" / "index.html").write_text(
        PAGE.format(lang="bn", placeholder='<div class="kb-feedback" data-url="bn/returns/start/"></div>'), encoding="utf-8")
    store = EventStore(f"sqlite:///{tmp_path / 'analytics.db'}")
    app = collector_app(store, rate_limit=0)
    app.mount("/assets", StaticFiles(directory=ASSETS), name="assets")
    app.mount("/", StaticFiles(directory=root, html=True), name="site")
    with serving(app, timeout_keep_alive=1, timeout_graceful_shutdown=2) as base:
        yield base, store
    store.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True)  # a phone
    # An automated browser is not a shopper: kb-events.js sends its page views only when a test
    # asks for them.
    context.add_init_script("window.kbCountAutomatedVisits = true;")
    yield context.new_page()
    context.close()


def wait_for(store: EventStore, name: str, n: int = 1, timeout: float = 120.0) -> list[dict]:
    """The stored `name` events once there are `n` of them (the timeout only stops a hang)."""
    deadline = time.monotonic() + timeout
    while True:
        with store.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(events).where(events.c.name == name).order_by(events.c.id))]
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_widget_visit_feedback_and_contact_reach_the_store(site, page) -> None:  # noqa: ANN001
    base, store = site
    widget_session = "WidgetSession_0123456789"
    page.goto(f"{base}/returns/start/?kbs=widget&kbsid={widget_session}")
    page.get_by_role("button", name="No").wait_for()
    assert page.evaluate("location.search") == ""  # the marker is gone from the address bar
    assert page.get_by_text("Was this page helpful?").is_visible()
    page.get_by_role("button", name="No").click()
    page.get_by_label("What were you looking for?").fill("How do I return a gift? mail me x@y.com")
    page.get_by_role("button", name="Send").click()
    assert page.get_by_role("status").inner_text() == "Thank you for your feedback!"
    page.evaluate("document.getElementById('call').addEventListener('click', e => e.preventDefault())")
    page.click("#call")
    page.click("#chat")

    (view,) = wait_for(store, "page_view")
    assert (view["page"], view["origin"], view["source"], view["lang"]) == ("/returns/start/", "widget", "site", "en")
    assert view["session"] == widget_session  # widget search and help page are one session
    (fb,) = wait_for(store, "feedback")
    assert (fb["page"], fb["helpful"], fb["comment"]) == ("/returns/start/", 0, "How do I return a gift? mail me [email]")
    clicks = wait_for(store, "contact_click", 2)
    assert [c["channel"] for c in clicks] == ["phone", "chat"]
    assert {r["session"] for r in (view, fb, *clicks)} == {widget_session}


def test_keyboard_only_yes_in_bengali_and_a_fresh_session(site, page) -> None:  # noqa: ANN001
    base, store = site
    page.goto(f"{base}/bn/returns/start/?q=ফেরত")  # came from the site's search
    page.get_by_role("button", name="হ্যাঁ").wait_for()
    page.get_by_role("button", name="হ্যাঁ").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # from the comment box to "Send"
    page.keyboard.press("Enter")
    assert page.get_by_role("status").inner_text() == "আপনার মতামতের জন্য ধন্যবাদ!"
    (view,) = wait_for(store, "page_view")
    assert (view["origin"], view["lang"], view["page"]) == ("search", "bn", "/bn/returns/start/")
    (fb,) = wait_for(store, "feedback")
    assert fb["helpful"] == 1 and fb["comment"] is None
    sid = page.evaluate("KbEvents.session()")
    assert sid == view["session"] and len(sid) >= 16
    # 31 minutes idle: the next event starts a new session.
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('kb-session'));
                            s.last -= 31 * 60 * 1000; sessionStorage.setItem('kb-session', JSON.stringify(s)); }""")
    page.evaluate("KbEvents.track('contact_click', {channel: 'email', url: location.pathname}); KbEvents.flush()")
    (click,) = wait_for(store, "contact_click")
    assert click["session"] != sid
    assert page.evaluate("document.cookie") == ""


def test_a_page_opened_from_a_site_search_result_counts_as_from_search(site, page) -> None:  # noqa: ANN001
    base, store = site
    page.goto(f"{base}/bn/returns/start/")
    page.wait_for_function("window.KbEvents !== undefined")
    # What kb-search.js does when a result is clicked; the next page has no marker in its URL.
    page.evaluate("KbEvents.track('result_click', {query: 'return', rank: 1, url: 'returns/start/#steps'})")
    page.goto(f"{base}/returns/start/")
    page.get_by_role("button", name="Yes").wait_for()
    page.evaluate("KbEvents.flush()")
    views = wait_for(store, "page_view", 2)
    assert [(v["page"], v["origin"]) for v in views] == [("/bn/returns/start/", "direct"), ("/returns/start/", "search")]
    assert len({v["session"] for v in views}) == 1


def test_the_dashboard_fits_a_laptop_screen_and_filters_by_date(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The report on demo traffic at 1,280 px: no horizontal scrolling, titles link to the pages,
    and the date filter hides the weeks outside the range and recomputes the figures, the
    languages, the top searches and the articles for it: the same as a report built for those
    weeks."""
    from datetime import UTC, datetime

    from kb_tools.analytics import demo
    from kb_tools.analytics.gaps import trigram_embed
    from kb_tools.analytics.metrics import build_report
    from kb_tools.analytics.report import write_report

    store = EventStore(f"sqlite:///{tmp_path / 'demo.db'}")
    demo.generate(store, scale=0.05, seed=2)
    whole = build_report(store, embed=trigram_embed)
    index = write_report(whole, tmp_path / "report", site_url="https://help.shop.example")

    def ms(day: str) -> int:
        return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)

    part = build_report(store, since=ms("2026-10-19"), until=ms("2026-11-02"), gaps=False)
    store.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    # The page's own Content-Security-Policy (a <meta>: the report is a file) blocks nothing it needs.
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.goto(index.as_uri())
    assert "script-src 'sha256-" in page.locator("meta[http-equiv=Content-Security-Policy]").get_attribute("content")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    link = page.locator("#items a", has_text="Track your order").first
    assert link.get_attribute("href") == "https://help.shop.example/orders/track-your-order/"
    weeks = page.locator("#weeks tbody tr")
    assert weeks.count() == 8

    def kpi(key: str) -> str:
        return page.locator(f'[data-kpi="{key}"]').inner_text()

    def table(table_id: str, columns: int) -> list[list[str]]:
        return [[c.inner_text() for c in r.locator("td").all()[:columns]]
                for r in page.locator(f"#{table_id} tbody tr").all()]

    assert kpi("sessions") == f"{whole.kpis['sessions']:,}"
    shown = {key: kpi(key) for key in ("sessions", "contacts", "searches", "confirmed_deflections")}
    items_whole = table("items", 3)
    page.fill("#kb-from", "2026-10-19")
    page.fill("#kb-to", "2026-11-01")
    page.locator("#kb-to").dispatch_event("change")
    visible = [r for r in weeks.all() if r.is_visible()]
    assert [r.locator("td").first.inner_text() for r in visible] == ["2026-10-19", "2026-10-26"]
    # The figures follow the range: those of a report built for the same two weeks.
    for key in ("sessions", "contacts", "searches", "confirmed_deflections"):
        assert kpi(key) == f"{part.kpis[key]:,}", key
    assert int(kpi("sessions").replace(",", "")) < int(shown["sessions"].replace(",", ""))
    assert kpi("no_answer_pct") == f"{part.kpis['no_answer_pct']:.1f}%"
    langs = {r[0]: r for r in table("languages", 7)}
    for r in part.languages:
        assert langs[r["lang"]][1:4] == [f"{r['sessions']:,}", f"{r['page_views']:,}", f"{r['searches']:,}"]
    assert [r[:3] for r in table("top-searches", 3)] == [[t["query"], t["lang"], f"{t['searches']:,}"]
                                                         for t in part.top_searches]
    track = next(r for r in table("items", 3) if r[0].startswith("Track your order"))
    it = next(i for i in part.items if i.title == "Track your order" and i.kind == "article")
    assert track[1:3] == [f"{it.views:,}", f"{it.sessions:,}"]
    # Back to the whole period: the figures rendered by the report again.
    page.fill("#kb-from", whole.weeks[0].start)
    page.fill("#kb-to", datetime.fromtimestamp((whole.until - 1) / 1000, UTC).date().isoformat())
    page.locator("#kb-to").dispatch_event("change")
    assert {key: kpi(key) for key in shown} == shown
    assert table("items", 3) == items_whole
    page.locator("#items th button").first.click()  # sorting runs under the policy too
    assert page.locator("#items th").first.get_attribute("aria-sort") == "descending"
    assert page.evaluate("window.__csp") == []
    context.close()

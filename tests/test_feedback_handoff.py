"""No dead ends on the help site: "No" to "Was this page helpful?" offers the shop's contact
channels, their links carrying the article, its contact_topic and what the shopper typed; the
box is on articles and video pages, not on the home page or the 404 page. In Chromium on the
sample help center built by `mkdocs build` and served by `kb serve`, and in a small build
whose pages carry the channels themselves (a statically hosted site)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kb_tools.service.app import create_app
from tests.beacons import BEACONS
from tests.projects import mkdocs_build
from tests.servers import serving
from tests.service_site import settings_for


@pytest.fixture(scope="module")
def help_site(sample_build, tmp_path_factory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("feedback") / "analytics.db"
    app = create_app(settings_for(sample_build.index_dir, sample_build.site_dir, rate_limit=0,
                                  database_url=f"sqlite:///{db}", contact_whatsapp="8801712345678",
                                  contact_email="help@nodi.example", timezone="Asia/Dhaka",
                                  contact_hours="whatsapp=24/7"))
    with serving(app) as base:
        yield base


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("https://wa.me/**", lambda route: route.abort())  # the test stays on this machine
    pg = context.new_page()
    pg.add_init_script(BEACONS)
    yield pg
    context.close()


def test_no_on_an_article_offers_the_contacts_with_its_topic(page, help_site: str) -> None:
    page.goto(help_site + "/returns/return-policy/")
    feedback = page.get_by_role("region", name="Was this page helpful?")
    feedback.get_by_role("button", name="No").click()
    contacts = feedback.get_by_role("region", name="Contact us")
    wa = contacts.get_by_role("link", name="WhatsApp")
    wa.wait_for()
    assert "Open now" in wa.inner_text()
    text = parse_qs(urlsplit(wa.get_attribute("href")).query)["text"][0]
    assert "Topic: returns" in text  # the article's contact_topic
    assert f"I read: Return policy ({help_site}/returns/return-policy/)" in text
    feedback.get_by_role("textbox").fill("can I return a used blender jar")
    text = parse_qs(urlsplit(wa.get_attribute("href")).query)["text"][0]
    assert "My question: can I return a used blender jar" in text
    mail = parse_qs(urlsplit(contacts.get_by_role("link", name="Email").get_attribute("href")).query)
    assert mail["subject"] == ["Question: can I return a used blender jar"]

    feedback.get_by_role("button", name="Send").click()
    feedback.get_by_text("Thank you for your feedback!").wait_for()
    assert wa.is_visible()  # still a way to a person after sending
    wa.click()
    page.evaluate("window.KbEvents.flush()")
    page.wait_for_function("window.__beacons.some((b) => b.includes('contact_click'))")
    events = [e for b in page.evaluate("window.__beacons") for e in json.loads(b)["events"]]
    contact = next(e for e in events if e["name"] == "contact_click")
    assert contact["props"] == {"channel": "whatsapp", "url": "/returns/return-policy/", "topic": "returns",
                                "query": "can I return a used blender jar", "from": "feedback"}
    assert sum(e["name"] == "contact_click" for e in events) == 1  # not counted twice


def test_yes_does_not_offer_contacts(page, help_site: str) -> None:
    page.goto(help_site + "/shipping/delivery-times/")
    feedback = page.get_by_role("region", name="Was this page helpful?")
    feedback.get_by_role("button", name="Yes").click()
    feedback.get_by_role("textbox").wait_for()
    assert feedback.get_by_role("region", name="Contact us").count() == 0


def test_no_feedback_box_on_the_home_page_or_the_404_page(page, help_site: str) -> None:
    page.goto(help_site + "/videos/start-a-return/")
    page.get_by_role("region", name="Was this page helpful?").wait_for()  # a video page has one
    for path in ("/", "/bn/", "/no/such/page/"):
        response = page.goto(help_site + path)
        assert response.status == (404 if "such" in path else 200)
        page.locator(".md-content").first.wait_for()
        page.wait_for_load_state("load")
        assert page.locator(".kb-feedback").count() == 0, path
        assert page.get_by_text("Was this page helpful?").count() == 0, path


def test_a_static_site_carries_its_channels_and_labels(tmp_path: Path) -> None:
    (tmp_path / "docs/bn/returns").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Shop help\ntheme: {name: material}\nplugins:\n  - search\n"
        "  - kb: {languages: [en, bn], search: false}\n", encoding="utf-8")
    (tmp_path / "docs/index.md").write_text("---\ntitle: Help\n---\n# Help\n", encoding="utf-8")
    (tmp_path / "docs/bn/index.md").write_text("---\ntitle: সাহায্য\n---\n# সাহায্য\n", encoding="utf-8")
    (tmp_path / "docs/bn/returns/policy.md").write_text(
        "---\ntitle: ফেরত নীতি\ncontact_topic: returns\n---\n# ফেরত নীতি\n\n৭ দিনের মধ্যে ফেরত।\n", encoding="utf-8")
    result = mkdocs_build(tmp_path, env={"KB_CONTACT_WHATSAPP": "8801712345678", "KB_TIMEZONE": "Asia/Dhaka",
                                         "KB_CONTACT_HOURS": "Sat-Thu 09:00-21:00"})
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site/bn/returns/policy/index.html").read_text(encoding="utf-8")
    box = html.split('<div class="kb-feedback"', 1)[1].split(">", 1)[0]
    assert 'data-topic="returns"' in box
    data = json.loads(unescape(box.split('data-handoff="', 1)[1].split('"', 1)[0]))
    assert data["timezone"] == "Asia/Dhaka" and data["contacts"][0]["url"] == "https://wa.me/8801712345678"
    assert data["labels"]["whatsapp"] == "হোয়াটসঅ্যাপ"
    for home in ("site/index.html", "site/bn/index.html", "site/404.html"):
        assert '<div class="kb-feedback"' not in (tmp_path / home).read_text(encoding="utf-8"), home

    bad = mkdocs_build(tmp_path, env={"KB_CONTACT_HOURS": "Sat-Thu 09:00-21:00"})
    assert bad.returncode == 1 and "KB_CONTACT_HOURS needs KB_TIMEZONE" in bad.stderr


def test_the_site_search_box_logs_only_settled_searches(browser, help_site: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.add_init_script(BEACONS)
    start = dt.datetime.now(dt.UTC)
    page.clock.install(time=start)
    page.goto(help_site + "/")
    page.clock.pause_at(start + dt.timedelta(minutes=1))  # timers run when the test says so
    page.locator("input.md-search__input").click()
    ours = page.locator("[data-kb-search]")
    ours.wait_for(state="attached")  # the API answered the probe: our results replace Material's

    def search(query: str) -> None:
        with page.expect_response(lambda r: "/api/search?" in r.url and f"q={query}&" in r.url):
            page.keyboard.type(query)  # Material's own search listens to key events
            page.clock.run_for(200)  # the typing pause
        ours.locator(".md-search-result__link").first.wait_for()

    search("rfnd")
    page.clock.run_for(1100)  # a second's pause: settled
    page.keyboard.press("Control+A")
    search("refund")
    page.clock.run_for(1100)  # settled too: the typo's search is sent as refined
    with page.expect_response(lambda r: r.url == help_site + "/api/events") as stored:
        page.evaluate("window.KbEvents.flush()")
    assert stored.value.status == 204
    page.wait_for_function("window.__beacons.some((b) => b.includes('rfnd'))")
    events = [e for b in page.evaluate("window.__beacons") for e in json.loads(b)["events"]]
    searches = [(e["props"]["query"], e["props"]["settled"], e["props"]["next"]) for e in events if e["name"] == "search"]
    assert searches == [("rfnd", "pause", "refine")]  # "refund" waits for what comes next; no prefixes
    context.close()

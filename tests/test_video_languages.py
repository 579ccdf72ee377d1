"""Every language is whole (issue 13.4), in a real browser over the built sample: a videos
section per language, video pages in each language that has captions, a language switcher that
leads to the same video, navigation that fits at 1280 px, previous/next in the configured
category order, and an embed whose play button leaves the poster's headline visible."""

from __future__ import annotations

import re

import pytest

from tests.servers import serve_folder

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site_url(sample_build):
    with serve_folder(sample_build.site_dir) as base:
        yield base


@pytest.mark.parametrize(("lang", "heading"), [("bn", "ভিডিও"), ("gu", "વિડિયો")])
def test_each_language_has_its_videos_section(browser, site_url, lang: str, heading: str) -> None:
    page = browser.new_page()
    response = page.goto(f"{site_url}/{lang}/videos/")
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.lang") == lang
    # The heading's text, without the permalink mark ("¶") the toc extension adds.
    assert page.locator("article h1").inner_text().strip().rstrip("¶").strip() == heading
    # The video with captions in this language links to its page in this language.
    card = page.locator(".kb-video-card a[href*='start-a-return']").first
    card.click()
    page.wait_for_url(re.compile(rf"/{lang}/videos/start-a-return/$"))
    # The navigation tab of the section speaks the language too.
    assert heading in page.locator(".md-tabs").inner_text()
    page.close()


def test_bengali_video_page_shows_bengali_captions_title_and_chapters(browser, site_url) -> None:
    page = browser.new_page()
    page.goto(f"{site_url}/bn/videos/start-a-return/")
    assert page.evaluate("document.documentElement.lang") == "bn"
    page.wait_for_function("() => document.querySelector('video').textTracks.length >= 2")
    showing = page.evaluate(
        "[...document.querySelector('video').textTracks].filter(t => t.mode === 'showing').map(t => t.language)"
    )
    assert showing == ["bn"]
    assert re.search(r"[\u0980-\u09FF]", page.locator("article h1").inner_text())
    chapters = page.locator(".kb-video__chapters").inner_text()
    assert "মাই অর্ডারস খুলুন" in chapters and "Open My Orders" not in chapters
    # The media are the one copy under /videos/<id>/, not a second one per language.
    src = page.evaluate("document.querySelector('video source').src")
    assert src == f"{site_url}/videos/start-a-return/video.mp4"
    page.close()


def test_language_switcher_on_a_video_page_leads_to_the_same_video(browser, site_url) -> None:
    page = browser.new_page()
    page.goto(f"{site_url}/bn/videos/start-a-return/")
    english = page.locator(".md-select a[hreflang='en']")
    page.goto(english.evaluate("a => a.href"))
    assert page.url == f"{site_url}/videos/start-a-return/"
    gujarati = page.locator(".md-select a[hreflang='gu']").evaluate("a => a.href")
    assert gujarati == f"{site_url}/gu/videos/start-a-return/"
    # A video without Gujarati captions has no Gujarati page: the switcher offers the section.
    page.goto(f"{site_url}/videos/track-your-order/")
    assert page.locator(".md-select a[hreflang='gu']").evaluate("a => a.href") == f"{site_url}/gu/videos/"
    assert page.locator(".md-select a[hreflang='bn']").evaluate("a => a.href") == (
        f"{site_url}/bn/videos/track-your-order/")
    page.close()


@pytest.mark.parametrize("width", [1280, 1440])
@pytest.mark.parametrize("path", ["/", "/bn/", "/gu/"])
def test_every_navigation_tab_is_fully_visible(browser, site_url, width: int, path: str) -> None:
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(site_url + path)
    clipped = page.evaluate(
        """() => { const list = document.querySelector('.md-tabs__list');
                   const box = list.getBoundingClientRect();
                   return [...list.querySelectorAll('.md-tabs__link')]
                     .filter(a => { const r = a.getBoundingClientRect();
                                    return r.right > box.right + 0.5 || r.left < box.left - 0.5
                                           || a.scrollWidth > a.clientWidth + 1; })
                     .map(a => a.textContent.trim()); }"""
    )
    assert clipped == []
    page.close()


def test_previous_and_next_follow_the_category_order(browser, site_url) -> None:
    """mkdocs.yml lists shipping, orders, returns, ...: the last shipping page leads to the
    orders section, never to a folder that comes next alphabetically."""
    page = browser.new_page()
    page.goto(f"{site_url}/shipping/")
    order = []
    for _ in range(60):
        section = page.evaluate("location.pathname.split('/').filter(Boolean)[0] || ''")
        if not order or order[-1] != section:
            order.append(section)
        following = page.locator("a.md-footer__link--next")
        if following.count() == 0:
            break
        page.goto(following.evaluate("a => a.href"))
    categories = ["shipping", "orders", "returns", "refunds", "payments", "account", "products", "contact"]
    assert [s for s in order if s in categories] == categories
    page.close()


def test_the_play_button_leaves_the_poster_headline_visible(browser, site_url) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site_url}/returns/start-a-return/")
    poster = page.locator(".kb-video-embed__poster").bounding_box()
    play = page.locator(".kb-video-embed__play").bounding_box()
    assert poster and play
    # The headline of a frame sits across its middle: the play mark stays in the lower left.
    assert play["y"] >= poster["y"] + poster["height"] * 0.6
    assert play["x"] + play["width"] <= poster["x"] + poster["width"] * 0.35
    page.close()

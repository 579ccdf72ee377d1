"""The built video page in a real browser (Debian's Chromium through Playwright): captions
showing, #t= seeking on load and on hashchange, transcript clicks that play and highlight,
play/progress events, the article embed's links, and a 360 px phone layout."""

from __future__ import annotations

import re
import shutil
from http import HTTPStatus
from pathlib import Path

import pytest

from tests.projects import ROOT, mkdocs_build
from tests.servers import QuietHandler, serve_folder

pytestmark = pytest.mark.browser


# Installed before the page's scripts: records what the player sends, whatever kb-events.js does.
EVENTS_STUB = """
window.__events = [];
const stub = {track(name, props) { window.__events.push({name, props}); },
              configure() {}, session() { return "test-session-0000"; }};
Object.defineProperty(window, "KbEvents", {get() { return stub; }, set(v) {}, configurable: false});
"""


class RangeHandler(QuietHandler):
    """http.server plus single byte ranges, which browsers use to seek in media."""

    def send_head(self):
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if not match or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
        if start >= size:
            self.send_error(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            return None
        handle = path.open("rb")
        handle.seek(start)
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.range_left = end - start + 1
        return handle

    def copyfile(self, source, outputfile):
        left = getattr(self, "range_left", None)
        if left is None:
            return super().copyfile(source, outputfile)
        while left > 0:
            chunk = source.read(min(64 * 1024, left))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)


MKDOCS_YML = """site_name: Video test
site_url: http://127.0.0.1/
theme:
  name: material
  font: false
plugins:
  - kb:
      search: false
      languages: [en, bn]
markdown_extensions: [toc, attr_list, md_in_html]
"""
ARTICLE = """---
title: Track your order
category: orders
---

# Track your order

Watch the video:

{{ video("track-your-order") }}
"""
ARTICLE_BN = """---
title: অর্ডার ট্র্যাক করুন
category: orders
lang: bn
---

# অর্ডার ট্র্যাক করুন

{{ video("track-your-order") }}
"""
VIDEOS = ("start-a-return", "track-your-order")


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    """A small MkDocs site with two of the sample videos, built by the real plugin (so this test
    does not depend on the rest of the sample content)."""
    project = tmp_path_factory.mktemp("video-site")
    (project / "mkdocs.yml").write_text(MKDOCS_YML)
    (project / "docs" / "orders").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("---\ntitle: Help\n---\n\n# Help\n")
    (project / "docs" / "orders" / "track-your-order.md").write_text(ARTICLE)
    (project / "docs" / "bn" / "orders").mkdir(parents=True)
    (project / "docs" / "bn" / "index.md").write_text("---\ntitle: সাহায্য\nlang: bn\n---\n\n# সাহায্য\n")
    (project / "docs" / "bn" / "orders" / "track-your-order.md").write_text(ARTICLE_BN, encoding="utf-8")
    (project / "videos").mkdir()
    for video_id in VIDEOS:
        for source in (ROOT / "videos").glob(f"{video_id}.*"):
            shutil.copy(source, project / "videos" / source.name)
        sidecar = project / "videos" / f"{video_id}.yml"
        sidecar.write_text(re.sub(r"(?ms)^related:.*", "", sidecar.read_text()))
    result = mkdocs_build(project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project / "site"


@pytest.fixture(scope="module")
def site_url(site_dir):
    with serve_folder(site_dir, RangeHandler) as base:
        yield base


def wait_time(page, low: float, high: float) -> float:
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('video'); return v && v.readyState >= 1 "
        f"&& v.currentTime >= {low} && v.currentTime <= {high}; }}",
        timeout=10_000,
    )
    return page.evaluate("document.querySelector('video').currentTime")


def test_video_page_plays_seeks_by_hash_shows_captions_and_reports_progress(browser, site_url):
    page = browser.new_page()
    page.add_init_script(EVENTS_STUB)
    can_play = page.evaluate(
        """() => document.createElement('video').canPlayType('video/mp4; codecs="avc1.640028, mp4a.40.2"')"""
    )
    assert can_play in ("probably", "maybe"), "this Chromium cannot play H.264/AAC MP4"

    page.goto(f"{site_url}/videos/start-a-return/#t=12")
    assert 11.9 <= wait_time(page, 11.9, 12.1) <= 12.1  # #t= on load
    assert page.evaluate("document.querySelector('video').textTracks[0].mode") == "showing"
    assert page.evaluate("document.querySelector('video').textTracks[0].language") == "en"
    assert page.evaluate("document.querySelector('video').autoplay") is False

    # Keyboard: Space plays and pauses the focused player, the arrows skip 5 seconds.
    page.focus("video")
    page.keyboard.press("ArrowRight")
    wait_time(page, 16.9, 17.1)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_time(page, 6.9, 7.1)
    page.keyboard.press("Space")
    page.wait_for_function("() => !document.querySelector('video').paused", timeout=10_000)
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('video').paused", timeout=10_000)

    # A transcript timestamp is a link: it seeks, plays, and the spoken line is highlighted.
    page.get_by_role("link", name="Play from 0:21").first.click()
    page.wait_for_function("() => !document.querySelector('video').paused", timeout=10_000)
    wait_time(page, 21.2, 30)
    active = page.locator(".kb-video__cues[lang=en] li.kb-video__cue--active")
    active.wait_for(timeout=5_000)
    assert "Choose courier pickup" in active.inner_text()
    assert page.url.endswith("#t=21.0")

    # Changing the hash (a chapter link, or the shopper editing the URL) seeks the player. It is
    # playing, so read the position when the seek lands, not whenever the page is next polled.
    landed = page.evaluate("""() => new Promise(done => {
        const v = document.querySelector('video');
        v.addEventListener('seeked', () => done(v.currentTime), {once: true});
        location.hash = '#t=30';
    })""")
    assert 29.9 <= landed <= 30.5

    # Seek close to the end and let it finish: one play event, each milestone once.
    page.evaluate("location.hash = '#t=38.5'")
    page.wait_for_function("() => document.querySelector('video').ended", timeout=15_000)
    events = page.evaluate("window.__events")
    plays = [e for e in events if e["name"] == "video_play"]
    assert plays == [{"name": "video_play", "props": {"video": "start-a-return", "url": "/videos/start-a-return/"}}]
    percents = [e["props"]["percent"] for e in events if e["name"] == "video_progress"]
    assert sorted(percents) == [25, 50, 75, 100]
    assert all(e["props"]["video"] == "start-a-return" for e in events if e["name"] == "video_progress")
    page.close()


def test_article_embed_links_to_the_chapter_on_the_video_page(browser, site_url):
    page = browser.new_page()
    page.goto(f"{site_url}/orders/track-your-order/")
    embed = page.locator("figure.kb-video-embed")
    poster = embed.locator("img")
    poster.scroll_into_view_if_needed()  # loading="lazy"
    poster.evaluate("img => img.decode()")  # rejects (fails the test) if the poster is missing
    embed.get_by_role("link", name=re.compile("Read the timeline")).click()
    page.wait_for_url(re.compile(r"/videos/track-your-order/#t=6$"))
    assert 5.9 <= wait_time(page, 5.9, 6.1) <= 6.1
    page.close()


def test_bengali_article_opens_the_video_with_bengali_captions(browser, site_url):
    page = browser.new_page()
    page.goto(f"{site_url}/bn/orders/track-your-order/")
    page.locator("figure.kb-video-embed figcaption > a").click()
    # The video's Bengali page (it has Bengali captions), not the English one.
    page.wait_for_url(re.compile(r"/bn/videos/track-your-order/$"))
    page.wait_for_function("() => document.querySelector('video').textTracks.length >= 2")
    showing = page.evaluate(
        "[...document.querySelector('video').textTracks].filter(t => t.mode === 'showing').map(t => t.language)"
    )
    assert showing == ["bn"]
    # The Bengali transcript comes first, open; the English one is folded below it.
    transcript = page.locator('.kb-video__transcript[data-kb-transcript="bn"]')
    assert transcript.evaluate("e => e.tagName") == "DIV" and transcript.is_visible()
    assert "ট্র্যাক প্যাকেজ" in transcript.inner_text()
    assert page.locator('details[data-kb-transcript="en"]').count() == 1
    page.close()


def test_video_page_and_index_fit_a_360px_phone(browser, site_url):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    for path in ("/videos/track-your-order/", "/videos/", "/orders/track-your-order/"):
        page.goto(site_url + path)
        # The page body (not Material's hidden language menu in the header) must fit.
        wide = page.evaluate(
            "[...document.querySelectorAll('.md-main *')].filter(e => e.getBoundingClientRect().right"
            " > window.innerWidth + 1).map(e => e.tagName + '.' + e.className)"
        )
        assert wide == [], f"{path} is wider than a 360 px phone: {wide[:5]}"
    video_width = page.goto(site_url + "/videos/track-your-order/") and page.evaluate(
        "document.querySelector('video').getBoundingClientRect().width"
    )
    assert 300 <= video_width <= 360
    page.goto(site_url + "/videos/")
    posters = page.locator(".kb-video-card img")
    assert posters.count() >= len(VIDEOS)
    for i in range(posters.count()):
        posters.nth(i).scroll_into_view_if_needed()  # loading="lazy"
        assert posters.nth(i).evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    page.close()

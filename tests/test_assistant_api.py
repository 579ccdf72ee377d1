"""The widget's assistant API of `kb serve`: a section's content to read inside the panel
(/api/section: taken by its anchor from the built site, cleaned by an allow-list, links made
absolute) and suggestions before typing (/api/suggest: from the page's context and path, else
the most viewed answers in the shopper's language), with the one error shape for bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_tools.analytics.store import EventStore
from kb_tools.service.app import create_app
from kb_tools.service.sections import SiteSections
from tests.event_rows import make_event
from tests.service_site import PAGES, build, make_site, settings_for

HOSTILE = """<!doctype html><html lang="en"><body><article class="md-content__inner">
<h1 id="x">Hostile page</h1><p>Intro.</p>
<h2 id="tricks">Tricks</h2>
<p onclick="alert(1)" style="color:red">Click <a href="javascript:alert(2)">here</a> or
<a href="../other/" onmouseover="x()">there</a>.</p>
<script>alert(3)</script><iframe src="https://evil.example/"></iframe><style>p{display:none}</style>
<img src="pic.png" onerror="alert(4)" alt="A picture"><form><input name="card"></form>
<svg><script>alert(5)</script></svg>
<h3 id="deeper">Deeper</h3><p>Still in Tricks.</p>
<h2 id="next">Next</h2><p>Not in Tricks.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("assistant")
    build(PAGES, root / "index", root / "cache")
    site = make_site(root)
    (site / "tricks").mkdir()
    (site / "tricks/index.html").write_text(HOSTILE, encoding="utf-8")
    return root / "index", site


@pytest.fixture(scope="module")
def client(built) -> Iterator[TestClient]:
    index, site = built
    app = create_app(settings_for(index, site, rate_limit=0))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_section_is_its_heading_up_to_the_next_of_the_same_level(client: TestClient) -> None:
    r = client.get("/api/section", params={"url": "returns/policy/#window"})
    assert r.status_code == 200
    body = r.json()
    assert (body["title"], body["section"], body["kind"], body["lang"]) == ("Return policy", "Return window", "article", "en")
    assert body["page"] == "http://testserver/returns/policy/" and body["url"].endswith("/returns/policy/#window")
    assert "within 7 days of delivery" in body["html"] and "¶" not in body["html"]  # no permalink marks
    assert "kb-feedback" not in body["html"] and body["video"] is None


def test_section_html_is_cleaned_and_its_links_are_absolute(client: TestClient) -> None:
    html = client.get("/api/section", params={"url": "tricks/#tricks"}).json()["html"]
    for bad in ("onclick", "onmouseover", "onerror", "javascript:", "<script", "alert(", "<iframe", "<style",
                "style=", "<form", "<input", "<svg", "Not in Tricks"):
        assert bad not in html, bad
    assert '<a href="http://testserver/other/" rel="noopener noreferrer">there</a>' in html
    assert '<img src="http://testserver/tricks/pic.png" alt="A picture">' in html
    assert "Still in Tricks." in html  # a sub-heading stays in its section
    intro = client.get("/api/section", params={"url": "tricks/"}).json()
    assert (intro["section"], intro["html"].strip()) == ("", "<p>Intro.</p>")


def test_a_video_answer_is_its_media_and_the_chapter_it_falls_in(client: TestClient) -> None:
    body = client.get("/api/section", params={"url": "videos/start-a-return/#t=83"}).json()
    assert body["kind"] == "video"
    video = body["video"]
    assert video["src"] == "http://testserver/videos/start-a-return/video.mp4" and video["start"] == 83
    assert video["tracks"] == [{"kind": "captions", "srclang": "en", "label": "English",
                                "src": "http://testserver/videos/start-a-return/captions.en.vtt"}]
    assert "Print the courier label" in body["html"] and "Open the orders page" not in body["html"]


@pytest.mark.parametrize(("url", "status", "code"), [
    ("", 422, "invalid_parameter"),
    ("../../etc/passwd", 422, "invalid_parameter"),
    ("https://evil.example/x/", 422, "invalid_parameter"),
    ("//evil.example/x/", 422, "invalid_parameter"),
    ("returns/%2e%2e/%2e%2e/secret/", 422, "invalid_parameter"),
    ("no/such/page/", 404, "not_found"),
    ("returns/policy/#no-such-section", 404, "not_found"),
    ("x" * 600, 422, "invalid_parameter"),
])
def test_bad_section_urls_get_the_error_shape(client: TestClient, url: str, status: int, code: str) -> None:
    r = client.get("/api/section", params={"url": url})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == code and body["detail"] and "/tmp" not in body["detail"]


def test_sections_are_cached_until_the_page_is_rebuilt(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    page = site / "a/index.html"
    page.write_text('<article class="md-content__inner"><h1>A</h1><p>Old.</p></article>')
    sections = SiteSections(site, size=2)
    assert "Old." in sections.section("a/", "http://h/")["html"]
    page.write_text('<article class="md-content__inner"><h1>A</h1><p>New text.</p></article>')
    assert "New text." in sections.section("a/", "http://h/")["html"]
    for base in ("http://1/", "http://2/", "http://3/"):
        sections.section("a/", base)
    assert len(sections._cache) == 2  # bounded


def test_suggestions_for_a_product_page(client: TestClient) -> None:
    body = client.get("/api/suggest", params={"context": "product:blender-x2", "lang": "en"}).json()
    assert body["basis"] == "page"
    assert body["suggestions"][0]["url"] == "products/blender-x2/"
    by_path = client.get("/api/suggest", params={"page": "/shop/p/blender-x2.html", "lang": "en"}).json()
    assert by_path["suggestions"][0]["url"] == "products/blender-x2/"  # the shop's URL says it too
    orders = client.get("/api/suggest", params={"context": "category:returns", "lang": "bn"}).json()
    urls = [s["url"] for s in orders["suggestions"]]
    assert "bn/returns/policy/" in urls and "returns/policy/" not in urls  # the shopper's language
    assert len(urls) <= 5 and "videos/start-a-return/" in urls  # videos too


def test_without_a_match_the_most_viewed_answers_in_the_language(built, tmp_path: Path) -> None:
    index, site = built
    db = f"sqlite:///{tmp_path / 'views.db'}"
    now = int(time.time() * 1000)
    views = ["shipping/times/"] * 3 + ["returns/policy/"] * 2 + ["reviews/rules/"] + ["no/longer/here/"] * 9
    store = EventStore(db)
    session = "s" * 20
    store.add_events([make_event("page_view", session, now - 1000, {"url": f"/{u}"}, lang="en", url=f"/{u}")
                      for u in views] + [make_event("page_view", session, now, {"url": "/bn/returns/policy/"},
                                                    lang="bn", url="/bn/returns/policy/")])
    store.close()
    app = create_app(settings_for(index, site, rate_limit=0, database_url=db))
    with TestClient(app) as c:
        body = c.get("/api/suggest", params={"page": "/about-us", "lang": "en", "k": 2}).json()
        assert body["basis"] == "popular"
        assert [s["url"] for s in body["suggestions"]] == ["shipping/times/", "returns/policy/"]
        bn = c.get("/api/suggest", params={"page": "/about-us", "lang": "bn"}).json()
        assert [s["url"] for s in bn["suggestions"]] == ["bn/returns/policy/"]
        assert c.get("/api/suggest", params={"page": "/about-us", "lang": "gu"}).json() == {
            "suggestions": [], "basis": "none"}


@pytest.mark.parametrize("params", [{"k": "0"}, {"k": "11"}, {"lang": "english!"}, {"context": "x" * 201},
                                    {"page": "/" + "p" * 400}])
def test_bad_suggestion_requests_get_the_error_shape(client: TestClient, params: dict) -> None:
    r = client.get("/api/suggest", params=params)
    assert r.status_code == 422
    assert set(r.json()) >= {"error", "detail"}

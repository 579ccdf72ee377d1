"""`kb serve`: the search API, its one error shape, the static site, the widget bundle and the
index hot-swap, against a real index built from a few pages in a temporary folder."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from kb_tools.service.app import create_app
from kb_tools.service.settings import ServiceSettings
from tests.servers import serving
from tests.service_site import MODEL, PAGES, build, make_site, page, settings_for

HIT_FIELDS = {"url", "title", "section", "snippet", "score", "lang", "kind", "start", "confidence"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("service")
    build(PAGES, root / "index", root / "cache")
    return root / "index", make_site(root), root


@pytest.fixture(scope="module")
def client(built) -> Iterator[TestClient]:
    index, site, _ = built
    app = create_app(settings_for(index, site, rate_limit=0, contact_email="help@nodi.example",
                                  contact_whatsapp="8801712345678", contact_phone="+880 9612-345678"))
    with TestClient(app, raise_server_exceptions=False) as c:
        app.state.service.index.warm_current()  # hybrid from here on (the app does this in the background)
        yield c


def assert_error_shape(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) >= {"error", "detail"} and isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in r.text
    if code:
        assert body["error"] == code, body
    return body


# -- search ----------------------------------------------------------------------------------

def test_search_answers_with_hits(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "can I send back an item I do not want"})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "hybrid"
    assert set(body) == {"hits", "answered", "query_lang", "mode", "took_ms"} and body["query_lang"] == "en"
    hits = body["hits"]
    assert hits and all(set(h) == HIT_FIELDS for h in hits)
    assert hits[0]["url"].startswith("returns/policy/")
    assert hits[0]["title"] == "Return policy"


def test_search_finds_video_moment(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "courier label parcel", "k": 3}).json()["hits"]
    video = next(h for h in hits if h["kind"] == "video")
    assert video["start"] == 83
    assert video["url"] == "videos/start-a-return/#t=83"
    assert "<mark>" in video["snippet"]


@pytest.mark.parametrize(("params", "field", "expected"), [
    ({"q": "ফেরত", "lang": "bn"}, "lang", {"bn"}),
    ({"q": "પરત", "lang": "gu"}, "lang", {"gu"}),
    ({"q": "jar", "category": "products"}, "url", {"products/blender-x2/#clean"}),
])
def test_search_filters(client: TestClient, params: dict, field: str, expected: set) -> None:
    hits = client.get("/api/search", params=params).json()["hits"]
    assert hits and {h[field] for h in hits} == expected


def test_post_search_takes_a_json_body(client: TestClient) -> None:
    r = client.post("/api/search", json={"q": "delivery Dhaka", "k": 1})
    assert r.status_code == 200
    assert [h["url"] for h in r.json()["hits"]] == ["shipping/times/#dhaka"]


@pytest.mark.parametrize(("params", "code"), [
    ({"q": "refund", "k": "abc"}, "invalid_parameter"),
    ({"q": "refund", "k": "100000"}, "invalid_parameter"),
    ({"q": "refund", "k": "0"}, "invalid_parameter"),
    ({}, "missing_parameter"),
    ({"q": "   "}, "missing_query"),
    ({"q": "refund", "lang": "xx"}, "unknown_language"),
    ({"q": "refund", "lang": "<script>"}, "invalid_parameter"),
    ({"q": "refund", "mode": "fuzzy"}, "invalid_parameter"),
    ({"q": "refund", "category": "../../etc"}, "invalid_parameter"),
    ({"q": "x" * 600}, "query_too_long"),
    ({"q": "refund " * 8000}, "query_too_long"),  # 56 kB, near the longest URL a client sends
])
def test_bad_search_parameters_get_the_error_shape(client: TestClient, params: dict, code: str) -> None:
    body = assert_error_shape(client.get("/api/search", params=params), 422, code)
    assert "<script>" not in body["detail"] and len(body["detail"]) < 300  # never echoes input


@pytest.mark.parametrize(("content", "status", "code"), [
    (b"{not json", 422, "invalid_json"),
    (b"[1, 2]", 422, "invalid_json"),
    (b'{"q": "refund", "k": "many"}', 422, "invalid_parameter"),
    (b'{"q": "refund", "admin": true}', 422, "invalid_parameter"),
    (json.dumps({"q": "a" * 100_000}).encode(), 413, "payload_too_large"),
])
def test_bad_json_bodies_get_the_error_shape(client: TestClient, content: bytes, status: int, code: str) -> None:
    r = client.post("/api/search", content=content, headers={"content-type": "application/json"})
    assert_error_shape(r, status, code)


def test_unknown_api_paths_and_methods_get_the_error_shape(client: TestClient) -> None:
    assert_error_shape(client.get("/api/nothing-here"), 404, "not_found")
    assert_error_shape(client.post("/api/"), 404, "not_found")
    assert_error_shape(client.put("/healthz"), 405, "method_not_allowed")
    assert_error_shape(client.get("/no/such/page.json"), 404, "not_found")


def test_event_collector_is_mounted_and_keeps_the_error_shape(client: TestClient) -> None:
    event = {"name": "search", "session": "k3J9abcdefghijklmnop", "ts": int(time.time() * 1000),
             "source": "widget", "url": "/examples/shop/", "lang": "en",
             "props": {"query": "refund", "results": 3, "top": ["refunds/"]}}
    assert client.post("/api/events", json={"events": [event]}).status_code == 204
    assert_error_shape(client.post("/api/events", content=b"{oops", headers={"content-type": "application/json"}), 400)
    assert_error_shape(client.post("/api/events", content=b"x" * 100_000,
                                   headers={"content-type": "application/json"}), 413)


def test_openapi_spec_is_served_but_no_cdn_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/search" in spec["paths"] and "/healthz" in spec["paths"]
    assert client.get("/docs").status_code == 404


def test_config_exposes_contact_channels(client: TestClient) -> None:
    cfg = client.get("/api/config").json()
    urls = {c["channel"]: c["url"] for c in cfg["contacts"]}
    assert urls == {"whatsapp": "https://wa.me/8801712345678", "phone": "tel:+8809612345678",
                    "email": "mailto:help@nodi.example"}
    assert cfg["assistant"]["name"] == "Nodi Help"
    assert cfg["languages"] == ["bn", "en", "gu"]


def test_healthz_reports_the_loaded_index(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["index"]["chunks"] > 5 and body["index"]["model"] == MODEL


def test_without_an_index_the_api_says_how_to_fix_it(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path / "missing", tmp_path))
    with TestClient(app) as c:
        body = assert_error_shape(c.get("/api/search", params={"q": "refund"}), 503, "index_unavailable")
        assert "mkdocs build" in body["detail"]
        assert_error_shape(c.get("/healthz"), 503, "index_unavailable")


def test_rate_limit_answers_429_and_other_clients_still_get_answers(built) -> None:
    index, site, _ = built
    app = create_app(settings_for(index, site, rate_limit=1, rate_burst=3))
    with TestClient(app, client=("203.0.113.7", 4000)) as greedy, \
            TestClient(app, client=("198.51.100.2", 4000)) as other:
        codes = [greedy.get("/api/search", params={"q": "refund", "mode": "lexical"}).status_code
                 for _ in range(6)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429, 429]
        r = greedy.get("/api/search", params={"q": "refund"})
        assert_error_shape(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1
        assert other.get("/api/search", params={"q": "refund", "mode": "lexical"}).status_code == 200
        assert greedy.get("/index.html").status_code == 200  # the static site is not limited


def test_cors_lets_a_shop_call_the_api(built) -> None:
    index, site, _ = built
    app = create_app(settings_for(index, site, allowed_origins=("https://shop.example",)))
    with TestClient(app) as c:
        ok = c.get("/api/config", headers={"origin": "https://shop.example"})
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        other = c.get("/api/config", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


# -- static site and widget ------------------------------------------------------------------

def test_pages_have_etags_and_revalidate_with_304(client: TestClient) -> None:
    r = client.get("/returns/policy/", headers={"accept-encoding": "identity"})
    assert r.status_code == 200 and "Return policy" in r.text
    assert r.headers["cache-control"] == "no-cache"
    again = client.get("/returns/policy/", headers={"if-none-match": r.headers["etag"],
                                                    "accept-encoding": "identity"})
    assert again.status_code == 304 and again.content == b""


def test_text_is_gzipped(client: TestClient) -> None:
    r = client.get("/", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content) / 5  # httpx decoded it for us
    assert "Welcome to Nodi help." in r.text


def test_hashed_assets_are_cached_for_a_year_others_briefly(client: TestClient) -> None:
    hashed = client.get("/assets/javascripts/bundle.f55a23d4.min.js")
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = client.get("/assets/javascripts/plain.js")
    assert "immutable" not in plain.headers["cache-control"]
    assert plain.headers["content-type"].startswith("text/javascript")


def test_directories_redirect_and_paths_stay_inside_the_site(client: TestClient) -> None:
    r = client.get("/returns/policy", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"].endswith("/returns/policy/")
    for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/returns/..%2f..%2f..%2fetc/passwd"):
        assert client.get(path).status_code == 404
    page = client.get("/missing/", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Page not found" in page.text


def test_widget_bundle_inlines_css_and_labels_and_is_small(client: TestClient) -> None:
    r = client.get("/widget.js", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    js = r.text
    assert "__KB_WIDGET" not in js
    assert ":host" in js and "Still need help?" in js and "এখনও সাহায্য দরকার?" in js and "હજુ મદદ જોઈએ છે?" in js
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
    assert len(gzip.compress(r.content)) <= 25 * 1024
    assert client.get("/widget.js", headers={"if-none-match": r.headers["etag"]}).status_code == 304


def test_demo_shop_is_served_only_when_enabled(built) -> None:
    index, site, _ = built
    shop = Path(__file__).resolve().parent.parent / "examples" / "shop"
    with TestClient(create_app(settings_for(index, site))) as off:
        assert off.get("/examples/shop/").status_code == 404
    with TestClient(create_app(settings_for(index, site, demo_shop=True, shop_dir=shop))) as on:
        page = on.get("/examples/shop/")
        assert page.status_code == 200 and 'data-context="product:blender-x2"' in page.text
        assert on.get("/examples/shop", follow_redirects=False).headers["location"].endswith("/examples/shop/")
        assert "data-mount=" in on.get("/examples/shop/order-status.html").text


# -- a real server: oversized requests and the index hot-swap -------------------------------------

def wait_until(condition, what: str = "the expected state") -> None:
    """Poll `condition` until it holds; the deadline only turns a hang into a failure."""
    deadline = time.monotonic() + 300
    while not condition():
        assert time.monotonic() < deadline, f"never reached {what}"
        time.sleep(0.05)


def test_a_100_kb_query_string_gets_a_4xx_in_the_error_shape(built) -> None:
    index, site, _ = built
    with serving(create_app(settings_for(index, site))) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /api/search?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 422")
        assert json.loads(body)["error"] == "query_too_long"
        # and the server keeps answering others
        assert httpx.get(base + "/api/search", params={"q": "refund", "mode": "lexical"}).status_code == 200


def test_a_rebuild_while_serving_switches_index_without_failed_requests(tmp_path: Path) -> None:
    index, cache = tmp_path / "index", tmp_path / "cache"
    build(PAGES, index, cache)
    app = create_app(settings_for(index, make_site(tmp_path), rate_limit=0, reload_interval=0.1, cache_size=0))
    failures: list[str] = []
    answers: list[int] = []
    stop = threading.Event()

    def shopper(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(2000):  # bounded; ends much earlier when the test sets `stop`
                if stop.is_set():
                    return
                r = c.get("/api/search", params={"q": "warranty claim", "k": 3})
                if r.status_code != 200 or "hits" not in r.json():
                    failures.append(f"{r.status_code} {r.text[:200]}")
                answers.append(r.status_code)

    with serving(app) as base:
        app.state.service.index.warm_current()
        first = httpx.get(base + "/api/search", params={"q": "warranty claim", "k": 3}).json()["hits"]
        assert all(not h["url"].startswith("warranty/") for h in first)
        generation = app.state.service.index.current.generation
        threads = [threading.Thread(target=shopper, args=(base,)) for _ in range(3)]
        for t in threads:
            t.start()
        wait_until(lambda: len(answers) >= 6)  # the shoppers are searching
        build(PAGES + [page("warranty/claims/", "Warranty claims",
                            "<p>Make a warranty claim for a broken Blender X2 within two years.</p>",
                            category="products")], index, cache)
        wait_until(lambda: app.state.service.index.current.generation != generation)
        swapped = len(answers)
        wait_until(lambda: len(answers) >= swapped + 6)  # and keep searching on the new index
        stop.set()
        for t in threads:
            t.join(timeout=60)
        after = httpx.get(base + "/api/search", params={"q": "warranty claim", "k": 3}).json()["hits"]
    assert after[0]["url"] == "warranty/claims/"
    assert len(answers) > 10 and failures == []


def test_the_warm_up_builds_what_a_question_with_an_unknown_word_needs(built) -> None:
    """A word no page and no dictionary has (a typo, a model number) takes language detection's
    longest path; what it builds there the first time (the English word list's stems, some
    150 ms holding the GIL) is built before the index serves, not in a shopper's search."""
    from kb_tools.search import romanized
    from kb_tools.service.index import IndexHolder

    index, _, _ = built
    romanized._english_stems.cache_clear()
    holder = IndexHolder(index)
    assert holder.refresh()
    assert romanized._english_stems.cache_info().currsize == 1


def test_a_broken_new_index_keeps_the_old_one_serving(tmp_path: Path) -> None:
    index, cache = tmp_path / "index", tmp_path / "cache"
    build(PAGES, index, cache)
    app = create_app(settings_for(index, make_site(tmp_path)))
    with TestClient(app) as c:
        before = c.get("/api/search", params={"q": "refund", "mode": "lexical"}).json()["hits"]
        (index / "manifest.json").write_text('{"schema": 999}')
        assert app.state.service.index.refresh() is False
        r = c.get("/api/search", params={"q": "refund", "mode": "lexical"})
        assert r.status_code == 200 and r.json()["hits"] == before
        health = c.get("/healthz").json()
        assert "schema" in health["index"]["error"] and health["status"] == "ok"


# -- settings and the command ----------------------------------------------------------------

def test_settings_come_from_kb_env_vars_and_flags_win() -> None:
    env = {"KB_PORT": "9001", "KB_RATE_LIMIT": "5", "KB_ALLOWED_ORIGINS": "https://shop.example/, https://b.example",
           "KB_DEMO_SHOP": "false", "KB_CONTACT_EMAIL": "help@nodi.example"}
    s = ServiceSettings.from_env(env, port=9002)
    assert (s.port, s.rate_limit, s.contact_email) == (9002, 5.0, "help@nodi.example")
    assert s.allowed_origins == ("https://shop.example", "https://b.example")


@pytest.mark.parametrize(("env", "message"), [
    ({"KB_PORT": "eighty"}, "KB_PORT='eighty' is not valid"),
    ({"KB_PORT": "70000"}, "port 70000 is out of range"),
    ({"KB_CONTACT_WHATSAPP": "+880 17-1234"}, "digits with the country code"),
    ({"KB_DEMO_SHOP": "maybe"}, "KB_DEMO_SHOP='maybe' is not valid"),
])
def test_bad_settings_fail_at_start_with_the_variable_named(env: dict, message: str) -> None:
    from kb_tools.errors import ServiceError

    with pytest.raises(ServiceError, match=message.replace("+", r"\+").replace("(", r"\(")):
        ServiceSettings.from_env(env)


def test_kb_serve_reports_bad_settings_without_a_traceback(monkeypatch) -> None:
    from click.testing import CliRunner

    from kb_tools.cli import main

    monkeypatch.setenv("KB_RATE_LIMIT", "fast")
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code != 0
    assert "KB_RATE_LIMIT='fast' is not valid for rate_limit" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/api/search?q=%00%00%00", None),
    ("GET", "/api/search?q=" + "%F0%9F%98%80" * 50, None),
    ("GET", "/api/search?q=refund&k=-1", None),
    ("GET", "/api/search?q=refund&k=1e9", None),
    ("GET", "/api/search?q=refund&k=10&k=20&lang=en&lang=bn", None),
    ("GET", "/api/search?q=AND%20OR%20NOT%20*%20%3F%20(%20%22", None),
    ("GET", "/api/search?q=%ED%A0%80", None),  # a lone surrogate, percent-encoded
    ("GET", "/api/search?q=refund&context=" + "product:" + "x" * 300, None),
    ("GET", "/api/search?q=refund&context=lang:bn,product:,category:%00", None),
    ("POST", "/api/search", b'{"q": null}'),
    ("POST", "/api/search", b'{"q": ["refund"]}'),
    ("POST", "/api/search", b'{"q": "refund", "k": 1.5}'),
    ("POST", "/api/search", b"\xff\xfe\x00"),
    ("POST", "/api/search", b""),
    ("POST", "/api/events", b'{"events": "all"}'),
    ("GET", "/api/../../etc/passwd", None),
    ("GET", "/%00", None),
    ("DELETE", "/api/search", None),
])
def test_hostile_requests_get_4xx_never_500(client: TestClient, method: str, url: str, body: bytes | None) -> None:
    r = client.request(method, url, content=body, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert_error_shape(r, r.status_code)
    else:
        assert isinstance(r.json()["hits"], list)

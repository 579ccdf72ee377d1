"""Every error the HTTP API can give, walked one by one: each is `{"error": code, "detail":
message}` (plus documented extras), built by kb_tools.httpapi.error_body, with the status its
code is registered under, JSON, not cached, and never a traceback. A code added to
ERROR_CODES without a request here that produces it fails the last test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from kb_tools.analytics.collector import collector_app
from kb_tools.analytics.store import EventStore
from kb_tools.errors import AnalyticsError
from kb_tools.httpapi import ERROR_CODES
from kb_tools.records import PageRecord
from kb_tools.search.build import build_lexical_index
from kb_tools.service.app import create_app
from kb_tools.service.index import IndexHolder
from kb_tools.service.settings import ServiceSettings

EVENT = {"name": "page_view", "session": "k3J9abcdefghijklmnop", "ts": 1_764_000_000_000,
         "url": "/returns/policy/", "props": {"url": "/returns/policy/", "from": "direct"}}
JSON = {"content-type": "application/json"}
CASES = [
    ("POST", "/api/search", b"\xff\xfe\x00", 400, "bad_request"),
    ("POST", "/api/events", b"{oops", 400, "bad_events"),
    ("POST", "/api/events", json.dumps({"events": [{**EVENT, "name": "<script>"}]}).encode(), 400, "bad_events"),
    ("GET", "/api/nothing-here", None, 404, "not_found"),
    ("GET", "/no/such/page.json", None, 404, "not_found"),
    ("PUT", "/healthz", None, 405, "method_not_allowed"),
    ("POST", "/api/search", json.dumps({"q": "a" * 100_000}).encode(), 413, "payload_too_large"),
    ("POST", "/api/events", b"x" * 100_000, 413, "payload_too_large"),
    ("POST", "/api/search", b"{not json", 422, "invalid_json"),
    ("POST", "/api/search", b"[1, 2]", 422, "invalid_json"),
    ("POST", "/api/search", b"", 422, "missing_body"),
    ("GET", "/api/search", None, 422, "missing_parameter"),
    ("GET", "/api/search?q=refund&k=abc", None, 422, "invalid_parameter"),
    ("GET", "/api/search?q=refund&k=51", None, 422, "invalid_parameter"),
    ("GET", "/api/search?q=refund&mode=%3Cscript%3E", None, 422, "invalid_parameter"),
    ("GET", "/api/search?q=refund&lang=%3Cscript%3E", None, 422, "invalid_parameter"),
    ("POST", "/api/search", b'{"q": "refund", "admin": true}', 422, "invalid_parameter"),
    ("GET", "/api/search?q=%20%20", None, 422, "missing_query"),
    ("POST", "/api/search", json.dumps({"q": "refund " * 100}).encode(), 422, "query_too_long"),
    ("GET", "/api/search?q=refund&lang=fr", None, 422, "unknown_language"),
]
# Errors that need an app of their own, each produced by the test named.
OWN_TEST = {
    "unsupported_media_type": "test_an_unsupported_event_body_is_415",
    "rate_limited": "test_the_rate_limit_is_429_with_retry_after",
    "internal_error": "test_a_crash_is_a_500_without_the_exception",
    "index_unavailable": "test_no_index_is_503_on_search_and_healthz",
    "store_unavailable": "test_a_failing_store_is_503",
    "forbidden_origin": "test_events_from_a_site_not_allowed_are_403",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("error-shape")
    build_lexical_index([PageRecord(url="returns/policy/", title="Return policy",
                                    html="<p>Return any item within 7 days for a refund.</p>", lang="en")],
                        [], root / "index")
    (root / "site").mkdir()
    return root


def settings(root: Path, **kw: object) -> ServiceSettings:
    kw.setdefault("index_dir", root / "index")
    return ServiceSettings(site_dir=root / "site", database_url=f"sqlite:///{root / 'analytics.db'}", **kw)


@pytest.fixture(scope="module")
def api(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(root, rate_limit=0)), raise_server_exceptions=False) as c:
        yield c


def check(r: httpx.Response, status: int, code: str, *, root: Path | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["error"] == code and ERROR_CODES[code] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in r.text and "<script>" not in r.text
    if root is not None:
        assert str(root) not in r.text
    return body


@pytest.mark.parametrize(("method", "url", "content", "status", "code"), CASES)
def test_each_client_error_has_the_shape(api: TestClient, root: Path, method: str, url: str,
                                         content: bytes | None, status: int, code: str) -> None:
    check(api.request(method, url, content=content, headers=JSON), status, code, root=root)


def test_an_unsupported_event_body_is_415(api: TestClient) -> None:
    check(api.post("/api/events", content=b"<xml/>", headers={"content-type": "application/xml"}),
          415, "unsupported_media_type")


def test_the_rate_limit_is_429_with_retry_after(root: Path) -> None:
    with TestClient(create_app(settings(root, rate_limit=0.01, rate_burst=1))) as c:
        assert c.get("/api/config").status_code == 200
        r = c.get("/api/search", params={"q": "refund"})
    check(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) >= 1


def test_a_crash_is_a_500_without_the_exception(api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret driver message at /srv/internal/path")

    monkeypatch.setattr(IndexHolder, "search", boom)
    r = api.get("/api/search", params={"q": "crash please"})
    check(r, 500, "internal_error")
    assert "secret" not in r.text and "/srv/" not in r.text


def test_no_index_is_503_on_search_and_healthz(root: Path) -> None:
    with TestClient(create_app(settings(root, index_dir=root / "missing"))) as c:
        assert "mkdocs build" in check(c.get("/api/search", params={"q": "refund"}), 503, "index_unavailable")["detail"]
        health = check(c.get("/healthz"), 503, "index_unavailable")
    assert health["status"] == "no_index" and "index" in health  # documented extras


def test_a_failing_store_is_503(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: EventStore, batches: list) -> list[AnalyticsError]:
        return [AnalyticsError(f"analytics store sqlite:///{root}/events.db: writing events failed: "
                               "(sqlite3.OperationalError) disk I/O error")] * len(batches)

    monkeypatch.setattr(EventStore, "add_batches", refuse)
    store = EventStore(f"sqlite:///{root / 'events.db'}")
    with TestClient(collector_app(store, rate_limit=0)) as c:
        body = check(c.post("/api/events", json={"events": [EVENT]}), 503, "store_unavailable", root=root)
        assert "sqlite" not in body["detail"] and "I/O" not in body["detail"]  # for the log only
        check(c.get("/api/other"), 404, "not_found")  # the collector alone answers in the shape too
    store.close()


def test_events_from_a_site_not_allowed_are_403(root: Path) -> None:
    with TestClient(create_app(settings(root, rate_limit=0, allowed_origins=("https://shop.example",)))) as c:
        r = c.post("/api/events", json={"events": [EVENT]}, headers={"origin": "https://evil.example"})
        check(r, 403, "forbidden_origin", root=root)


def test_every_registered_code_is_walked() -> None:
    assert {case[-1] for case in CASES} | set(OWN_TEST) == set(ERROR_CODES)
    assert all(callable(globals()[name]) for name in OWN_TEST.values())

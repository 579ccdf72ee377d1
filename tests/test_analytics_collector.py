"""POST /api/events: what a browser (or a broken client) sees, and what ends up stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kb_tools.analytics.collector import EventCollector, collector_app
from kb_tools.analytics.store import EventStore, events

NOW = int(time.time() * 1000)
SESSION = "Qx7_k3J9aZ-0p1r2"


def event(name: str = "search", **props: object) -> dict:
    defaults = {
        "search": {"query": "return a blender", "results": 3, "top": ["/returns/start/"]},
        "page_view": {"url": "/returns/start/", "from": "search"},
        "feedback": {"url": "/returns/start/", "helpful": False, "comment": "call me on +880 1712 345678 or a@b.com"},
        "video_progress": {"video": "blender-x2-assembly", "percent": 50},
        "contact_click": {"channel": "whatsapp", "url": "/returns/start/"},
    }
    return {"name": name, "session": SESSION, "ts": NOW, "source": "site", "url": "/returns/start/?q=x",
            "lang": "en", "props": {**defaults.get(name, {}), **props}}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    s = EventStore(f"sqlite:///{tmp_path / 'analytics.db'}")
    yield s
    s.close()


@pytest.fixture
def client(store: EventStore) -> Iterator[TestClient]:
    with TestClient(collector_app(store, rate_limit=0)) as c:
        yield c


def stored(store: EventStore) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(events).order_by(events.c.id))]


def test_a_batch_is_stored_and_acknowledged_with_204(client: TestClient, store: EventStore) -> None:
    batch = [event("search"), event("page_view"), event("video_progress"), event("contact_click")]
    r = client.post("/api/events", json={"events": batch})
    assert r.status_code == 204
    rows = stored(store)
    assert [x["name"] for x in rows] == ["search", "page_view", "video_progress", "contact_click"]
    assert rows[0]["query"] == "return a blender" and rows[0]["results"] == 3
    assert rows[1]["origin"] == "search" and rows[1]["page"] == "/returns/start/"
    assert rows[1]["url"] == "/returns/start/"  # the query string is not kept
    assert rows[2]["percent"] == 50 and rows[3]["channel"] == "whatsapp"


def test_send_beacon_text_plain_body_is_accepted(client: TestClient, store: EventStore) -> None:
    r = client.post("/api/events", content=json.dumps({"events": [event("page_view")]}),
                    headers={"content-type": "text/plain;charset=UTF-8"})
    assert r.status_code == 204
    assert len(stored(store)) == 1


def test_personal_data_in_comments_and_queries_is_removed(client: TestClient, store: EventStore) -> None:
    batch = [event("feedback"), event("search", query="Refund to  Rahim.K@mail.com please")]
    assert client.post("/api/events", json={"events": batch}).status_code == 204
    row, search = stored(store)
    assert search["query"] == "refund to [email] please"
    assert "mail.com" not in search["props"]
    assert row["comment"] == "call me on [number] or [email]"
    assert "1712" not in row["props"] and "a@b.com" not in row["props"]
    assert row["helpful"] == 0


@pytest.mark.parametrize(("bad", "says"), [
    ({"name": "purchase"}, "events.1.name"),
    ({"session": "short"}, "events.1.session"),
    ({"ts": "1764000000000"}, "events.1.ts"),
    ({"ts": NOW + 10 * 86_400_000}, "more than a day in the future"),
    ({"source": "shop"}, "events.1.source"),
    ({"props": {"video": "x", "percent": 33}}, "events.1.props.percent"),
    ({"props": {"query": "x" * 501, "results": 1}}, "events.1.props.query"),
    ({"props": {"query": "x", "results": "3"}}, "events.1.props.results"),
])
def test_a_bad_event_rejects_the_batch_and_says_where(client: TestClient, store: EventStore,
                                                      bad: dict, says: str) -> None:
    name = "video_progress" if "percent" in str(bad) else "search"
    broken = {**event(name), **bad}
    r = client.post("/api/events", json={"events": [event("page_view"), broken]})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "bad_events"
    assert says in body["detail"]
    assert stored(store) == []  # nothing of the batch, not even the good event


def test_limits_on_batch_and_body_size(client: TestClient, store: EventStore) -> None:
    r = client.post("/api/events", json={"events": [event("page_view")] * 101})
    assert r.status_code == 400 and "at most 100" in r.json()["detail"]
    big = json.dumps({"events": [event("search", query="q" * 500)] * 100}).encode()
    assert len(big) > 64 * 1024
    r = client.post("/api/events", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body itself is counted
        for i in range(0, len(big), 8192):
            yield big[i:i + 8192]

    r = client.post("/api/events", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    r = client.post("/api/events", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.json()["detail"]
    r = client.post("/api/events", content=b"<xml/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415
    assert stored(store) == []


def test_rate_limit_per_client(store: EventStore) -> None:
    with TestClient(collector_app(store, rate_limit=0.01, rate_burst=3)) as c:
        codes = [c.post("/api/events", json={"events": [event("page_view")]}).status_code for _ in range(5)]
        r = c.post("/api/events", json={"events": [event("page_view")]})
    assert codes == [204, 204, 204, 429, 429]
    assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    assert len(stored(store)) == 3


def _standalone(monkeypatch: pytest.MonkeyPatch, store: EventStore, **env: str) -> FastAPI:
    """The uvicorn factory's app, configured by kb serve's variables."""
    from kb_tools.analytics.collector import standalone_app

    monkeypatch.setenv("KB_DATABASE_URL", store.url)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return standalone_app()


@pytest.mark.parametrize("factory", ["collector_app", "standalone_app"])
def test_the_standalone_collector_refuses_foreign_origins(store: EventStore, monkeypatch: pytest.MonkeyPatch,
                                                          factory: str) -> None:
    shop = "https://shop.example"
    app = (collector_app(store, rate_limit=0, allowed_origins=(shop,)) if factory == "collector_app"
           else _standalone(monkeypatch, store, KB_RATE_LIMIT="0", KB_ALLOWED_ORIGINS=shop + "/"))
    batch = {"events": [event("page_view")]}
    with TestClient(app) as c:
        foreign = c.post("/api/events", json=batch, headers={"origin": "https://evil.example"})
        beacon = c.post("/api/events", content=json.dumps(batch), headers={"origin": "https://evil.example",
                                                                          "content-type": "text/plain"})
        assert len(stored(store)) == 0
        ours = c.post("/api/events", json=batch, headers={"origin": shop})
        preflight = c.options("/api/events", headers={"origin": shop, "access-control-request-method": "POST",
                                                      "access-control-request-headers": "content-type"})
        no_origin = c.post("/api/events", json=batch)  # not a browser: nothing to check
    assert foreign.status_code == beacon.status_code == 403 and foreign.json()["error"] == "forbidden_origin"
    assert "access-control-allow-origin" not in foreign.headers
    assert ours.status_code == 204 and ours.headers["access-control-allow-origin"] == shop
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == shop
    assert no_origin.status_code == 204
    assert len(stored(store)) == 2


@pytest.mark.parametrize("factory", ["collector_app", "standalone_app"])
def test_the_standalone_collector_keys_its_rate_limit_within_the_trusted_hops(
        store: EventStore, monkeypatch: pytest.MonkeyPatch, factory: str) -> None:
    """Behind two proxies of ours, X-Forwarded-For ends with the client's address and our first
    proxy's: the client is the second entry from the right, whatever it wrote to the left."""
    app = (collector_app(store, rate_limit=0.01, rate_burst=2, trust_proxy=True, trusted_hops=2)
           if factory == "collector_app" else
           _standalone(monkeypatch, store, KB_RATE_LIMIT="0.01", KB_RATE_BURST="2", KB_TRUST_PROXY="true",
                       KB_TRUSTED_HOPS="2"))
    batch = {"events": [event("page_view")]}
    with TestClient(app) as c:
        def post(xff: str) -> int:
            return c.post("/api/events", json=batch, headers={"x-forwarded-for": xff}).status_code

        forged = [post(f"10.9.{i}.1, 203.0.113.7, 10.0.0.2") for i in range(6)]  # a fresh first hop each time
        other_client = post("198.51.100.9, 10.0.0.2")  # another shopper behind the same proxies
    assert forged == [204, 204, 429, 429, 429, 429]
    assert other_client == 204
    assert len(stored(store)) == 3


def test_the_standalone_collector_refuses_a_bad_hop_count(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from kb_tools.errors import AnalyticsError

    with pytest.raises(AnalyticsError, match="KB_TRUSTED_HOPS"):
        _standalone(monkeypatch, store, KB_TRUSTED_HOPS="0")


def test_the_future_is_measured_by_the_collectors_clock(store: EventStore) -> None:
    now = NOW / 1000
    clock = [now]
    batch = {"events": [event("page_view")]}
    with TestClient(collector_app(store, clock=lambda: clock[0], rate_limit=0)) as c:
        clock[0] = now - 2 * 86_400  # the collector's clock is two days behind the event
        r = c.post("/api/events", json=batch)
        assert r.status_code == 400 and "more than a day in the future" in r.json()["detail"]
        clock[0] = now
        assert c.post("/api/events", json=batch).status_code == 204
    assert len(stored(store)) == 1


def test_the_collector_is_installed_by_the_app_that_serves_it(store: EventStore) -> None:
    """kb serve installs it next to its own routes, under its own limits and error handlers."""
    app = FastAPI()
    collector = EventCollector(store)
    collector.install(app)
    with TestClient(app) as c:
        assert c.post("/api/events", json={"events": [event("page_view")]}).status_code == 204
    collector.close()
    assert len(stored(store)) == 1

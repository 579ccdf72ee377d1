"""The analytics store and the deflection metrics, on SQLite and on a real PostgreSQL server.

The PostgreSQL server is Debian's (initdb/pg_ctl run as the `postgres` user), started once per
session on 127.0.0.1 at a free port and stopped at the end; every test gets a fresh database.
Set KB_TEST_DATABASE_URL to use a server of your own instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from kb_tools.analytics import demo
from kb_tools.analytics.gaps import trigram_embed
from kb_tools.analytics.metrics import (
    DAY,
    HOUR,
    WEEK,
    ItemStats,
    Period,
    build_report,
    estimated_calls_deflected,
    item_metadata,
    item_table,
    publication_time,
)
from kb_tools.analytics.store import MIGRATIONS, EventStore, events, schema_version, sessions
from kb_tools.errors import AnalyticsError
from tests.event_rows import make_event
from tests.servers import free_port

SESSION = "s" * 20
ROOT = Path(__file__).resolve().parent.parent
T0 = 1_790_000_000_000


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    s = EventStore(store_url)
    yield s
    s.close()


def test_first_use_creates_the_schema_at_the_latest_version(store: EventStore) -> None:
    with store.connect() as conn:
        assert conn.execute(sa.select(schema_version.c.version)).scalars().all() == [len(MIGRATIONS)]
        tables = set(sa.inspect(conn).get_table_names())
    assert {"events", "calls", "content", "sessions", "schema_version"} <= tables
    # Opening it again changes nothing.
    again = EventStore(store.url)
    assert again.migrate() == len(MIGRATIONS)
    again.close()


def test_upgrade_from_version_1_backfills_sessions(store: EventStore) -> None:
    store.add_events([make_event("page_view", SESSION, T0 + 5, {"url": "/a/", "from": "direct"}),
                      make_event("page_view", SESSION, T0, {"url": "/b/", "from": "search"}),
                      make_event("page_view", "t" * 20, T0 + 9, {"url": "/a/", "from": "direct"})])
    with store.engine.begin() as conn:  # make it look like a store written by version 1
        sessions.drop(conn)
        conn.execute(sa.update(schema_version).values(version=1))
    upgraded = EventStore(store.url)
    with upgraded.connect() as conn:
        rows = sorted(conn.execute(sa.select(sessions.c.session, sessions.c.first_ts)).all())
        version = conn.execute(sa.select(schema_version.c.version)).scalar_one()
    upgraded.close()
    assert rows == [(SESSION, T0), ("t" * 20, T0 + 9)]
    assert version == len(MIGRATIONS)


def test_a_store_from_a_newer_version_is_refused(store: EventStore) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.update(schema_version).values(version=len(MIGRATIONS) + 1))
    with pytest.raises(AnalyticsError, match="newer than this kb-tools.*upgrade kb-tools"):
        EventStore(store.url)


def test_calls_are_deduplicated_by_row_hash(store: EventStore) -> None:
    row = {"row_hash": "h1", "ts": T0, "topic": "returns", "channel": "phone", "session": None, "order_ref": None}
    assert store.add_calls([row, {**row, "row_hash": "h2"}]) == 2
    assert store.add_calls([row, {**row, "row_hash": "h3"}]) == 1
    assert store.count(sa.table("calls")) == 3


def test_demo_traffic_effects_are_recovered_on_both_databases(store: EventStore) -> None:
    totals = demo.generate(store, scale=0.25, seed=7)
    assert totals["events"] > 15_000
    report = build_report(store, embed=trigram_embed)
    video = next(i for i in report.items if i.kind == "video" and i.key == demo.VIDEO["id"])
    article = next(i for i in report.items if i.key == demo.CHANGED_ARTICLE)
    # Built in: the video cuts calls on its topic by 30 %, the article changes nothing.
    assert video.change_pct == pytest.approx(-30, abs=5)
    assert article.change_pct == pytest.approx(0, abs=5)
    assert report.kpis["est_calls_deflected"] > 0
    assert [p["key"] for p in report.publications] == sorted([demo.CHANGED_ARTICLE, demo.VIDEO["id"]])
    assert len(report.weeks) == 8
    assert sum(w.sessions for w in report.weeks) == totals["sessions"]
    assert sum(w.calls for w in report.weeks) == totals["calls"]
    gap_topics = {(g["lang"], q) for g in report.gaps for q in g["examples"]}
    assert ("en", "gift wrapping") in gap_topics
    assert ("bn", "কিস্তিতে কেনা যাবে") in gap_topics


def test_articles_counted_on_their_own_thread_give_the_same_report(store: EventStore) -> None:
    """build_report counts the articles' viewing outcomes on a thread of its own; every figure
    of the articles and videos table, and its weekly rows, are those counted in line."""
    demo.generate(store, scale=0.1, seed=3)
    report = build_report(store, gaps=False)
    period = Period(report.since, report.until, int(report.window_hours * HOUR))
    weekly: dict[str, list[list[int]]] = {}
    with store.connect() as conn:
        items = item_table(conn, period, item_metadata(conn, None), weekly=weekly)

    def figures(it: ItemStats) -> tuple:
        return (it.views, it.sessions, it.contacted, it.potential_deflections, it.confirmed_deflections,
                it.feedback, it.helpful)

    assert sum(it.contacted for it in report.items) > 0 and sum(it.confirmed_deflections for it in report.items) > 0
    assert {(it.kind, it.key): figures(it) for it in report.items} == {k: figures(it) for k, it in items.items()}
    assert report.item_weeks == weekly


def test_session_outcomes_follow_the_definitions(store: EventStore) -> None:
    """Four sessions read the returns page: one clicks 'call us', one has a logged call with its
    session id on the page's topic, one says the page helped, one does nothing."""
    store.set_content([{"kind": "article", "key": "/returns/start/", "title": "Start a return",
                        "contact_topic": "returns", "lang": "en", "url": "/returns/start/", "published": None}])
    a, b, c, d, e = ("a" * 16, "b" * 16, "c" * 16, "d" * 16, "e" * 16)
    view = {"url": "/returns/start/", "from": "search"}
    store.add_events([
        make_event("page_view", a, T0, view), make_event("contact_click", a, T0 + 60_000,
                                                         {"channel": "phone", "url": "/returns/start/"}),
        make_event("page_view", b, T0, view),
        make_event("page_view", c, T0, view), make_event("feedback", c, T0 + 1000, {"url": "/returns/start/", "helpful": True}),
        make_event("page_view", d, T0, view),
        # e's call comes two days later: outside the 24 h window, so e is not "contacted".
        make_event("page_view", e, T0, view),
    ])
    store.add_calls([
        {"row_hash": "1", "ts": T0 + 3_600_000, "topic": "returns", "channel": "phone", "session": b, "order_ref": None},
        {"row_hash": "2", "ts": T0 + 48 * 3_600_000, "topic": "returns", "channel": "phone", "session": e, "order_ref": None},
        {"row_hash": "3", "ts": T0 + 3_600_000, "topic": "returns", "channel": "phone", "session": None, "order_ref": "X"},
    ])
    report = build_report(store, gaps=False)
    item = next(i for i in report.items if i.key == "/returns/start/")
    assert (item.title, item.views, item.sessions, item.contacted) == ("Start a return", 5, 5, 2)
    assert (item.potential_deflections, item.confirmed_deflections, item.helpful_pct) == (3, 1, 100.0)
    assert report.kpis["calls"] == 3
    assert report.weeks[0].self_service_score == pytest.approx(5 / 3, abs=0.01)


def test_without_a_call_log_contact_clicks_are_the_contacts(store: EventStore) -> None:
    a, b, c = ("a" * 16, "b" * 16, "c" * 16)
    view = {"url": "/returns/start/", "from": "direct"}
    store.add_events([make_event("page_view", s, T0, view) for s in (a, b, c)]
                     + [make_event("contact_click", a, T0 + 1000, {"channel": "chat", "url": "/returns/start/"})])
    report = build_report(store, gaps=False)
    (week,) = report.weeks
    assert (week.sessions, week.calls, week.contact_clicks, week.contacts) == (3, 0, 1, 1)
    assert week.self_service_score == 3.0 and report.kpis["self_service_score"] == 3.0


def test_a_page_the_project_does_not_know_takes_its_language_from_its_folder(store: EventStore) -> None:
    store.add_events([make_event("page_view", "a" * 16, T0, {"url": "/bn/returns/start/", "from": "direct"}),
                      make_event("video_play", "a" * 16, T0 + 1, {"video": "bn-intro", "url": "/bn/returns/start/"})])
    langs = {i.key: i.lang for i in build_report(store, gaps=False, languages=("en", "bn")).items}
    assert langs == {"/bn/returns/start/": "bn", "bn-intro": "en"}
    english_only = build_report(store, gaps=False, languages=("en",))
    assert {i.lang for i in english_only.items} == {"en"}  # no bn folder on this site

def test_the_reports_numpy_minilm_gives_sentence_transformers_vectors() -> None:
    """The report embeds failing queries without torch; its vectors share the store's cache
    with sentence-transformers', so they must be the same vectors."""
    import numpy as np

    from kb_tools.analytics.gaps import CLUSTER_MODEL, model_embed
    from kb_tools.search.embeddings import get_encoder

    texts = ["where is my refund", "EMI on the Blender X2?", "how do i change my delivery address",
             "amar order kothay", "আমার অর্ডার কোথায়", "", "return " * 400]
    mine = model_embed(texts)
    theirs = get_encoder(CLUSTER_MODEL).encode_queries(texts)
    assert mine.shape == theirs.shape == (len(texts), 384) and mine.dtype == np.float32
    np.testing.assert_allclose(mine, theirs, atol=1e-5)


def test_a_video_and_its_page_count_one_publication_once() -> None:
    published = T0 + 5 * WEEK
    video = ItemStats("video", "assembly", "Assembly", "en", "blender", published, est_calls_deflected=40.0)
    page = ItemStats("article", "/videos/assembly/", "Assembly", "en", "blender", published, est_calls_deflected=38.5)
    other = ItemStats("article", "/returns/", "Returns", "en", "returns", published, est_calls_deflected=12.5)
    worse = ItemStats("article", "/gifts/", "Gifts", "en", "gifts", published, est_calls_deflected=-7.0)
    assert estimated_calls_deflected([page, other, worse, video]) == 52.5


def test_an_undated_item_seen_from_the_first_week_on_predates_tracking() -> None:
    data = (T0, T0 + 8 * WEEK)
    item = ItemStats("article", "/returns/", "Returns", "en", "returns", None)
    assert publication_time(item, {("article", "/returns/"): T0 + 3 * DAY}, data) is None
    assert publication_time(item, {("article", "/returns/"): T0 + 2 * WEEK}, data) == T0 + 2 * WEEK
    assert publication_time(item, {}, data) is None
    dated = ItemStats("article", "/returns/", "Returns", "en", "returns", T0 + WEEK)
    assert publication_time(dated, {("article", "/returns/"): T0 + 3 * WEEK}, data) == T0 + WEEK


def search_event(query: str) -> dict:
    return {"name": "search", "session": "Qx7_k3J9aZ-0p1r2", "ts": int(time.time() * 1000), "source": "site",
            "url": "/", "lang": "en", "props": {"query": query, "results": 1}}


def _start_server(db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "KB_DATABASE_URL": db_url, "KB_RATE_LIMIT": "0",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "kb_tools.analytics.collector:standalone_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # a safety net against a hang, not a speed requirement
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("collector did not start in 300 s")


def test_every_acknowledged_event_survives_kill_9(store_url: str) -> None:
    """A real uvicorn server with the collector; clients post batches concurrently; the server
    is killed with SIGKILL mid-ingest. Every event that got a 204 must be stored."""
    db = store_url
    EventStore(db).close()
    port = free_port()
    proc = _start_server(db, port)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
            for n in range(400):  # bounded
                if stop.is_set():
                    return
                ids = [f"w{worker}-{n}-{i}" for i in range(20)]
                batch = {"events": [search_event(q) for q in ids]}
                try:
                    r = c.post("/api/events", json=batch)
                except httpx.TransportError:
                    return
                if r.status_code == 204:
                    with lock:
                        acked.extend(ids)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    # Kill once 2,000 events are acknowledged (or the bounded clients are done), however long
    # that takes on a busy machine.
    while any(t.is_alive() for t in threads):
        with lock:
            if len(acked) >= 2000:
                break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acked) >= 2000, "the server acknowledged too little before the kill to prove anything"
    store = EventStore(db)
    with store.connect() as conn:
        saved = set(conn.execute(sa.select(events.c.query)).scalars())
    store.close()
    missing = [q for q in acked if q not in saved]
    assert missing == []

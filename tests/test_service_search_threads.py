"""`kb serve`'s search threads: a thread that finishes a search takes the next one waiting
without the event loop's help, so a busy loop (HTTP work of other requests, waiting for the
GIL) never leaves a search thread idle while searches queue behind it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_tools.service.app import SearchRequest, create_app
from kb_tools.service.settings import ServiceSettings

WAIT = 120  # seconds: only turns a hang into a failure


def test_a_search_thread_takes_the_next_search_while_the_event_loop_is_busy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings(index_dir=tmp_path / "index", site_dir=tmp_path / "site", rate_limit=0,
                               search_threads=1, database_url=f"sqlite:///{tmp_path / 'analytics.db'}")
    app = create_app(settings)
    svc = app.state.service
    first_running, finish_first, second_queued, second_running = (threading.Event() for _ in range(4))

    def search(query) -> bytes:  # stands in for the index: the first search runs until told to finish
        if query.text == "first":
            first_running.set()
            assert finish_first.wait(WAIT)
        else:
            second_running.set()
        return b'{"hits": []}'

    to_query = SearchRequest.to_query

    def asked(req: SearchRequest, max_chars: int):  # the handler has the second search in hand
        query = to_query(req, max_chars)
        if query.text == "second":
            second_queued.set()
        return query

    svc.search = search
    monkeypatch.setattr(SearchRequest, "to_query", asked)
    answers: dict[str, int] = {}

    def shopper(q: str) -> None:
        answers[q] = c.get("/api/search", params={"q": q}).status_code

    def busy_loop() -> bool:  # runs on the event loop and holds it until the second search starts
        finish_first.set()
        return second_running.wait(WAIT)

    with TestClient(app) as c:
        shoppers = [threading.Thread(target=shopper, args=("first",))]
        shoppers[0].start()
        assert first_running.wait(WAIT)
        shoppers.append(threading.Thread(target=shopper, args=("second",)))
        shoppers[1].start()
        assert second_queued.wait(WAIT)
        assert c.portal.call(busy_loop), "the second search waited for the event loop"
        for t in shoppers:
            t.join(WAIT)
    assert answers == {"first": 200, "second": 200}


def test_the_search_threads_end_with_the_app_and_start_again_with_it(tmp_path: Path) -> None:
    """A stopped `kb serve` (or an app a test starts and stops) leaves no idle search thread
    behind, and an app started again searches on new ones."""
    settings = ServiceSettings(index_dir=tmp_path / "index", site_dir=tmp_path / "site", rate_limit=0,
                               search_threads=2, database_url=f"sqlite:///{tmp_path / 'analytics.db'}")
    app = create_app(settings)
    app.state.service.search = lambda query: b'{"hits": []}'

    def searching_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name.startswith("kb-search")}

    before = searching_threads()
    for _ in range(2):
        with TestClient(app) as c:
            assert c.get("/api/search", params={"q": "refund"}).status_code == 200
            ours = searching_threads() - before
            assert ours
        assert not any(t.is_alive() for t in ours)

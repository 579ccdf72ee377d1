"""Each chunk's heading (its page title and section heading), encoded as a question is, beside
the chunk vectors (build.HEADINGS): the answer decision compares a shopper's question with the
headings of the page search puts first. A rebuild encodes only headings it has not seen; an
index built before heading vectors still loads, searches and decides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb_tools.search import Searcher
from kb_tools.search.encoders import get_encoder
from tests.projects import SMALL_SHOP as ARTICLES
from tests.projects import build_in_process as build
from tests.projects import small_shop
from tests.projects import write_dedented as write

MODEL = "multilingual-e5-small"

HEADINGS = ["Help", "Your account", "Delivery", "Delivery Outside Dhaka", "Returns", "Returns Refunds"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return small_shop(tmp_path, MODEL)


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Every text the (process-wide) encoder encodes, as a passage or as a question."""
    encoder = get_encoder(MODEL)
    seen: dict[str, list[str]] = {"passages": [], "queries": []}
    passages, queries = type(encoder).encode_passages, type(encoder).encode_queries

    def as_passages(texts, *, progress: bool = False):  # type: ignore[no-untyped-def]
        seen["passages"].extend(texts)
        return passages(encoder, texts, progress=progress)

    def as_queries(texts):  # type: ignore[no-untyped-def]
        seen["queries"].extend(texts)
        return queries(encoder, texts)

    monkeypatch.setattr(encoder, "encode_passages", as_passages)
    monkeypatch.setattr(encoder, "encode_queries", as_queries)
    return seen



def headings_of(project: Path) -> np.ndarray:
    return np.load(project / "search_index" / "headings.npy")


def chunk_headings(project: Path) -> list[str]:
    chunks = json.loads((project / "search_index" / "chunks.json").read_text(encoding="utf-8"))
    return [f"{c['title']} {c['section']}" if c["section"] else c["title"] for c in chunks]


def test_each_heading_is_encoded_once_as_a_question(project: Path, encoded: dict[str, list[str]]) -> None:
    manifest = build(project)
    headings = chunk_headings(project)
    assert sorted(headings) == sorted(HEADINGS)  # one chunk per section, the introduction's heading is its title
    assert sorted(encoded["queries"]) == sorted(HEADINGS)
    assert manifest["headings_embedded"] == 0  # EmbeddingPrefetch encoded them while the pages rendered
    vectors = headings_of(project)
    assert vectors.shape == (manifest["chunks"], get_encoder(MODEL).dimension)
    assert np.allclose(vectors, get_encoder(MODEL).encode_queries(headings), atol=1e-5)  # the question form


def test_a_rebuild_encodes_only_a_changed_heading(project: Path, encoded: dict[str, list[str]]) -> None:
    first = build(project)
    before = dict(zip(chunk_headings(project), headings_of(project), strict=True))
    encoded["queries"].clear()
    again = build(project)
    assert encoded["queries"] == [] and again["built_at"] == first["built_at"]  # nothing changed: the index kept
    write(project, "docs/account.md", ARTICLES["docs/account.md"] + "\n        A new code can be sent by SMS.\n")
    edited = build(project)
    assert encoded["queries"] == [] and edited["headings_embedded"] == 0  # the text changed, not a heading
    assert edited["fingerprint"] != first["fingerprint"]
    assert all(np.array_equal(v, before[h]) for h, v in zip(chunk_headings(project), headings_of(project), strict=True))

    encoded["passages"].clear()
    write(project, "docs/delivery.md", ARTICLES["docs/delivery.md"].replace("# Delivery", "# Shipping"))
    retitled = build(project)
    assert sorted(encoded["queries"]) == ["Shipping", "Shipping Outside Dhaka"] and retitled["headings_embedded"] == 0
    # Its chunks carry the title and are embedded again; no other page's.
    assert len(encoded["passages"]) == 2 and all(t.startswith("Shipping") for t in encoded["passages"])
    for heading, vector in zip(chunk_headings(project), headings_of(project), strict=True):
        if heading.startswith("Shipping"):
            assert np.allclose(vector, get_encoder(MODEL).encode_queries([heading])[0], atol=1e-5)
        else:
            assert np.array_equal(vector, before[heading])


def test_the_decision_reads_the_first_pages_headings(project: Path) -> None:
    """The query model's heading_cosine: the question's best cosine to a heading of the first
    hit's page, both encoded as questions, each heading centred on the off-topic bank's mean
    for its script."""
    from kb_tools.search import answer

    build(project)
    s = Searcher(project / "search_index")
    question = "my parcel is going to another district, how long"
    features: list[dict[str, float]] = []
    hits = s.rank(s.candidates(question, "hybrid"), "hybrid", 5, features=features)
    assert hits[0].url.startswith("delivery/")
    encoder = s.encoder
    mine = ["Delivery", "Delivery Outside Dhaka"]
    rows = answer.heading_vectors(encoder, mine, encoder.encode_queries(mine))
    assert features[0]["heading_cosine"] == pytest.approx(float((rows @ encoder.encode_query(question)).max()), abs=1e-4)
    assert s.search(question).answered


def test_an_index_without_heading_vectors_still_searches_and_decides(project: Path) -> None:
    """An index built before heading vectors (no headings.npy) loads and answers as before,
    the heading signal read as the model's mean; the next build writes the headings."""
    build(project)
    (project / "search_index" / "headings.npy").unlink()
    s = Searcher(project / "search_index")
    results = s.search("when does the refund reach my card")
    assert results[0].url == "returns/#refunds" and results.answered
    assert not s.search("asdfgh").answered
    features: list[dict[str, float]] = []
    s.rank(s.candidates("when does the refund reach my card", "hybrid"), "hybrid", 5, features=features)
    assert "heading_cosine" not in features[0]
    manifest = build(project)
    assert (project / "search_index" / "headings.npy").exists() and manifest["headings_embedded"] == 0  # cached


def test_a_truncated_headings_file_is_a_broken_index_at_open(project: Path) -> None:
    """The heading vectors are read when the model loads, but a file cut short is reported
    when the index is opened, naming the folder and how to rebuild it."""
    from kb_tools.errors import SearchIndexError

    build(project)
    heads = project / "search_index" / "headings.npy"
    heads.write_bytes(heads.read_bytes()[:-100])
    with pytest.raises(SearchIndexError, match=r"search_index is broken .*mkdocs build"):
        Searcher(project / "search_index")

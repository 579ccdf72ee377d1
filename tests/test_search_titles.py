"""Each page's title, encoded as a question is, beside the chunk vectors (build.TITLES): the
answer decision compares a shopper's question with the title of the page search puts first.
A rebuild encodes only titles it has not seen; an index built before title vectors still
loads, searches and decides."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb_tools.search import Searcher
from kb_tools.search.encoders import get_encoder
from tests.projects import write_dedented as write

MODEL = "multilingual-e5-small"

ARTICLES = {
    "docs/returns.md": """\
        # Returns

        Send the item back within 14 days in its original box.

        ## Refunds

        The refund reaches your card 5 to 7 working days after we receive the item.
        """,
    "docs/delivery.md": """\
        # Delivery

        Orders inside Dhaka arrive the next day.

        ## Outside Dhaka

        Parcels to other districts take two to four days with our courier.
        """,
    "docs/account.md": """\
        # Your account

        Choose Forgot password on the sign-in page and follow the link in the e-mail.
        """,
}
TITLES = ["Help", "Your account", "Delivery", "Returns"]  # the home page first, then MkDocs' (alphabetical) order


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "mkdocs.yml", f"site_name: Shop help\nplugins:\n  - search\n  - kb:\n      model: {MODEL}\n")
    write(tmp_path, "docs/index.md", "# Help\n\nHow can we help?\n")
    for rel, text in ARTICLES.items():
        write(tmp_path, rel, text)
    return tmp_path


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


def build(project: Path) -> dict:
    """`mkdocs build` in this process, as each rebuild of `mkdocs serve` runs it."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    mkdocs_build(load_config(str(project / "mkdocs.yml")))
    return json.loads((project / "search_index" / "manifest.json").read_text(encoding="utf-8"))


def titles_of(project: Path) -> np.ndarray:
    return np.load(project / "search_index" / "titles.npy")


def test_each_page_title_is_encoded_once_as_a_question(project: Path, encoded: dict[str, list[str]]) -> None:
    manifest = build(project)
    assert sorted(encoded["queries"]) == sorted(TITLES) and manifest["titles_embedded"] == 4
    chunks = json.loads((project / "search_index" / "chunks.json").read_text(encoding="utf-8"))
    assert list(dict.fromkeys(c["title"] for c in chunks)) == TITLES
    titles = titles_of(project)
    assert titles.shape == (4, get_encoder(MODEL).dimension)
    assert np.allclose(titles, get_encoder(MODEL).encode_queries(TITLES), atol=1e-5)  # the question form


def test_a_rebuild_encodes_only_a_changed_title(project: Path, encoded: dict[str, list[str]]) -> None:
    first = build(project)
    before = titles_of(project)
    encoded["queries"].clear()
    write(project, "docs/account.md", ARTICLES["docs/account.md"] + "\n        A new code can be sent by SMS.\n")
    edited = build(project)
    assert encoded["queries"] == [] and edited["titles_embedded"] == 0  # the text changed, not the title
    assert edited["fingerprint"] != first["fingerprint"] and np.array_equal(titles_of(project), before)

    encoded["passages"].clear()
    write(project, "docs/delivery.md", ARTICLES["docs/delivery.md"].replace("# Delivery", "# Shipping and couriers"))
    retitled = build(project)
    assert encoded["queries"] == ["Shipping and couriers"] and retitled["titles_embedded"] == 1
    # Its chunks carry the title and are embedded again; no other page's.
    assert encoded["passages"] and all("Shipping and couriers" in t for t in encoded["passages"])
    after = titles_of(project)
    row = TITLES.index("Delivery")
    assert np.array_equal(np.delete(after, row, axis=0), np.delete(before, row, axis=0))
    assert np.allclose(after[row], get_encoder(MODEL).encode_queries(["Shipping and couriers"])[0], atol=1e-5)


def test_the_decision_reads_the_first_pages_title(project: Path) -> None:
    """The query model's title_cosine: the question's cosine to the first hit's page title,
    both encoded as questions, the title centred on the off-topic bank's mean for its script."""
    from kb_tools.search import answer
    from kb_tools.search.query import SearchQuery

    build(project)
    s = Searcher(project / "search_index")
    question = "how do I reset my password"
    cands = s.candidates(question, "hybrid")
    features: list[dict[str, float]] = []
    hits = s.rank(cands, "hybrid", 5, features=features)
    assert hits[0].url.startswith("account/")
    encoder = s.encoder
    title = answer.title_vectors(encoder, ["Your account"], encoder.encode_queries(["Your account"]))[0]
    assert features[0]["title_cosine"] == pytest.approx(float(title @ encoder.encode_query(question)), abs=1e-4)
    assert s.search(SearchQuery.parse(question)).answered


def test_an_index_without_title_vectors_still_searches_and_decides(project: Path) -> None:
    """An index built before title vectors (no titles.npy) loads and answers as before, the
    title signal read as the model's mean; the next build writes the titles."""
    build(project)
    (project / "search_index" / "titles.npy").unlink()
    s = Searcher(project / "search_index")
    results = s.search("when does the refund reach my card")
    assert results[0].url == "returns/#refunds" and results.answered
    assert not s.search("asdfgh").answered
    features: list[dict[str, float]] = []
    s.rank(s.candidates("when does the refund reach my card", "hybrid"), "hybrid", 5, features=features)
    assert "title_cosine" not in features[0]
    manifest = build(project)
    assert (project / "search_index" / "titles.npy").exists() and manifest["titles_embedded"] == 0  # cached

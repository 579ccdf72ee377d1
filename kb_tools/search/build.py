"""``build_index``: chunks -> whoosh index + vectors + manifest, swapped in atomically.

A rebuild first fingerprints every chunk and the settings. When the fingerprint equals the
one in the existing manifest, the index is kept as it is and neither torch nor
sentence-transformers is imported (that import alone costs seconds). Otherwise only chunks
whose text is not in the embedding cache are embedded.

Each chunk's heading is also encoded, as a question is (``headings.npy``: the page title and
the section's heading, the title alone for a page's introduction): the answer decision compares
a shopper's question with the headings of the page search puts first (``answer.py``,
``heading_cosine``). Headings are cached like the chunks (by text, in the encoder's query
form), so a retitled page costs one short encoder pass per section and an unchanged rebuild
none; they are short, a tenth of what embedding the chunks costs.

A site's own glossary, synonyms and question frames (the kb options ``glossary_file``,
``synonyms_file``, ``frames_file``) are checked and copied into the index folder, where
``LexicalIndex`` reads them: the index is self-contained, and a change to any is a new index
(its digest is in the inputs and the fingerprint).

Before that, the manifest's ``inputs`` (a digest of the page and video records, the encoder
settings and this package's code) tell a rebuild with nothing changed that the published index
is its own without chunking anything (nor importing whoosh).

``EmbeddingPrefetch`` starts that embedding early: the plugin hands it the pages once MkDocs
has converted them all (``on_env``) and it embeds what the cache lacks in a background thread
while MkDocs renders the templates (the encoder releases the GIL), so after editing one
article ``build_index`` finds the new chunks in the cache, and after retitling one the new
headings too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from kb_tools.errors import SearchIndexError
from kb_tools.records import PageRecord, VideoRecord

if TYPE_CHECKING:  # chunking imports the analyzer and whoosh: not needed by an unchanged rebuild
    from kb_tools.search.chunking import Chunk

SCHEMA_VERSION = 3
MANIFEST = "manifest.json"
CHUNKS = "chunks.json"
VECTORS = "vectors.npy"
HEADINGS = "headings.npy"  # each chunk's heading (chunk_heading) encoded as a question, one row per chunk
SITE_GLOSSARY = "glossary.yml"  # a site's own glossary, as the build copied it into the index
SITE_SYNONYMS = "synonyms.yml"  # ... and its own synonyms
SITE_FRAMES = "frames.yml"  # ... and its own question frames
_OWN = {MANIFEST, CHUNKS, VECTORS, HEADINGS, "vocab.json", "lengths.npy", "surface.json", "lexical"}
_SITE_WORDS = {SITE_GLOSSARY, SITE_SYNONYMS, SITE_FRAMES}  # the build's too, but only when the site has them


@dataclass(frozen=True)
class SiteWords:
    """A site's own glossary, synonyms and frames files, read once: the bytes checked are the bytes
    copied into the index, whatever happens to the files meanwhile."""

    files: dict[str, tuple[Path, bytes]]  # name in the index folder -> (the site's file, its bytes)

    @classmethod
    def read(cls, glossary: Path | None, synonyms: Path | None, frames: Path | None = None) -> SiteWords:
        files = {}
        for name, path in ((SITE_GLOSSARY, glossary), (SITE_SYNONYMS, synonyms), (SITE_FRAMES, frames)):
            if path is not None:
                try:
                    files[name] = (Path(path), Path(path).read_bytes())
                except OSError as e:
                    raise SearchIndexError(f"cannot read {path}: {e}") from e
        return cls(files)

    def digest(self) -> str:
        """The files' digest: "" without site words (such an index is as it was before sites
        could add any)."""
        if not self.files:
            return ""
        h = hashlib.sha256()
        for name, (_, data) in sorted(self.files.items()):
            h.update(name.encode() + b"\0" + data + b"\0")
        return h.hexdigest()

    def check(self) -> None:
        """Raise SearchIndexError with the file's `path:line: message` for a bad entry (kb check
        and the plugin report it earlier, as the writer's problem)."""
        if not self.files:
            return
        from kb_tools.search.lexical import GlossaryError, load_frames, load_glossary, load_synonyms

        load = {SITE_GLOSSARY: load_glossary, SITE_SYNONYMS: load_synonyms, SITE_FRAMES: load_frames}
        for name, (path, data) in self.files.items():
            try:
                load[name](path, data=data)
            except GlossaryError as e:
                raise SearchIndexError(str(e)) from e

    def write(self, folder: Path) -> None:
        for name, (_, data) in self.files.items():
            (folder / name).write_bytes(data)


def _fingerprint(chunks: list[Chunk], model_key: str, query_prefix: str, passage_prefix: str, words: str = "") -> str:
    h = hashlib.sha256()
    h.update(json.dumps([SCHEMA_VERSION, _analysis_digest(), model_key, query_prefix, passage_prefix,
                         *([words] if words else [])]).encode())
    for c in chunks:
        h.update(json.dumps(c.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def _read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _complete(out_dir: Path) -> bool:
    return all((out_dir / name).exists() for name in _OWN)


@cache
def _analysis_digest() -> str:
    """The code that turns a chunk's text into the lexical index's terms (the analyzer, the
    stemmer and its overrides, the index schema). Part of the fingerprint: the same chunks
    analysed by another version of it are another index, and a kb upgrade that stems a word
    otherwise must rebuild the lexical side (not re-embed: the vectors are cached by text), or
    its queries, analysed the new way, miss the old index's terms."""
    package = Path(__file__).parent
    return _files_digest([package / "analyzer.py", package / "lexical.py"])


@cache
def _code_digest() -> str:
    """The search package's code and the records' definitions: what turns records into an index."""
    package = Path(__file__).parent
    return _files_digest([*sorted(package.glob("*.py")), package.parent / "records.py",
                          package.parent / "content" / "languages.py"])


def _files_digest(paths: list[Path]) -> str:
    """A digest of the files' names and bytes, in the order given."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_digest(records: list[PageRecord] | list[VideoRecord], model_key: str, query_prefix: str,
                  passage_prefix: str) -> str:  # fmt: skip
    """A digest of everything the index is made from: the records (every field, in order), the
    encoder and its prefixes, and the code. Equal digests make the same index."""
    h = hashlib.sha256()
    h.update(json.dumps([SCHEMA_VERSION, _code_digest(), model_key, query_prefix, passage_prefix]).encode())
    for record in records:
        h.update(repr(record).encode("utf-8", "surrogatepass"))  # dataclass reprs: every field
        h.update(b"\0")
    return h.hexdigest()


def published_inputs(out_dir: Path) -> dict[str, str]:
    """The ``inputs`` digests of the complete index in ``out_dir`` ({} when there is none)."""
    old = _read_manifest(Path(out_dir))
    if not old or old.get("schema") != SCHEMA_VERSION or not _complete(Path(out_dir)):
        return {}
    inputs = old.get("inputs")
    return inputs if isinstance(inputs, dict) else {}


def build_index(
    pages: list[PageRecord],
    videos: list[VideoRecord],
    out_dir: Path,
    *,
    model: str,
    query_prefix: str = "",
    passage_prefix: str = "",
    cache_dir: Path,
    progress: bool = True,
    page_chunks: list[Chunk] | None = None,
    glossary: Path | None = None,
    synonyms: Path | None = None,
    frames: Path | None = None,
) -> dict:
    """Build the search index of ``pages`` and ``videos`` into ``out_dir`` and return its
    manifest. The previous index stays in place until the new one is complete.
    ``page_chunks``: the chunks of ``pages`` when already made (``EmbeddingPrefetch.wait()``).
    ``glossary``, ``synonyms``, ``frames``: the site's own files, added to the shipped ones (SiteWords)."""
    from kb_tools.search.embeddings import EncoderSpec, encoder_name, resolve_model

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    cache_dir = Path(cache_dir)
    spec = EncoderSpec(model, query_prefix, passage_prefix)
    folder = resolve_model(spec)
    key = encoder_name(spec)
    inputs = {"pages": inputs_digest(pages, key, query_prefix, passage_prefix),
              "videos": inputs_digest(videos, key, query_prefix, passage_prefix)}  # fmt: skip
    site_words = SiteWords.read(glossary, synonyms, frames)
    words = site_words.digest()
    if words:
        inputs["words"] = words
    old = _read_manifest(out_dir)
    if published_inputs(out_dir) == inputs and old is not None:
        return {**old, "embedded": 0, "reused": True}  # the same records, settings and code
    site_words.check()
    # Imported only now: chunking imports the analyzer and whoosh, which an unchanged rebuild
    # never needs (a tenth of a second of its start-up).
    from kb_tools.search.chunking import chunk_all
    from kb_tools.search.embeddings import text_hash

    chunks = (list(page_chunks) + chunk_all([], videos)) if page_chunks is not None else chunk_all(pages, videos)
    fingerprint = _fingerprint(chunks, key, query_prefix, passage_prefix, words)
    if old and old.get("schema") == SCHEMA_VERSION and old.get("fingerprint") == fingerprint and _complete(out_dir):
        if old.get("inputs") == inputs:
            return {**old, "embedded": 0, "reused": True}
        # The same chunks from other records or code (kb upgraded, a page's markup changed but
        # not its text): the index is the same, but its manifest learns the new inputs, or every
        # later rebuild would chunk every page again to find that out.
        return _record_inputs(out_dir, old, inputs)

    import numpy as np

    from kb_tools.search.embeddings import EmbeddingCache, get_encoder

    texts = [c.embed_text() for c in chunks]  # the encoder adds its passage prefix
    hashes = [text_hash(t) for t in texts]
    # The whoosh index is written (pure Python) while the model embeds (the GIL released),
    # so a cold build costs little more than the embedding itself.
    tmp = _new_tmp(out_dir)
    lexical = ThreadPoolExecutor(max_workers=1)
    written = lexical.submit(_write_lexical, chunks, tmp)
    cache = EmbeddingCache(cache_dir, key)

    def embed(todo: list[str]):  # type: ignore[no-untyped-def]
        if progress:
            print(f"kb search: embedding {len(todo)} of {len(chunks)} chunks", file=sys.stderr)
        return get_encoder(spec).encode_passages(todo, progress=progress)

    try:
        known, embedded = cache.encode_missing(dict(zip(hashes, texts, strict=True)), embed)
        if chunks:
            matrix = np.stack([np.frombuffer(known[h], dtype=np.float32) for h in hashes])
            dimension = int(matrix.shape[1])
        else:
            dimension = get_encoder(spec).dimension
            matrix = np.zeros((0, dimension), dtype=np.float32)
        headings, headings_embedded = _heading_vectors([chunk_heading(c) for c in chunks], spec, key, cache_dir,
                                                       dimension)
    except BaseException:
        _abandon(written, tmp)
        raise
    finally:
        cache.close()
        lexical.shutdown(wait=False)

    manifest = {
        "schema": SCHEMA_VERSION,
        "model": model,
        "model_path": str(folder) if folder else "",
        "model_key": key,  # Encoder.name: the embedding cache's key
        "dimension": dimension,
        "query_prefix": query_prefix,
        "passage_prefix": passage_prefix,
        "fingerprint": fingerprint,
        "inputs": inputs,
        "embedded": embedded,
        "headings_embedded": headings_embedded,
    }
    try:
        written.result()
    except BaseException:
        _abandon(written, tmp)
        raise
    return _finish(tmp, out_dir, chunks, matrix, manifest, t0, site_words, headings)


def chunk_heading(chunk: Chunk) -> str:
    """What a chunk says it is about: its page title and its section's heading ("Returns
    Refunds"; the heading alone is often no topic: "Outside Dhaka"), the title alone for the
    page's introduction."""
    return f"{chunk.title} {chunk.section}" if chunk.section else chunk.title


def _heading_vectors(headings: list[str], spec, key: str, cache_dir: Path, dimension: int):  # type: ignore[no-untyped-def]
    """``headings`` encoded as questions (the e5 query form: a heading reads like what a
    shopper asks) and how many texts the encoder ran on: those the cache lacks, each once."""
    import numpy as np

    from kb_tools.search.embeddings import EmbeddingCache, get_encoder, text_hash

    hashes = [text_hash(t) for t in headings]
    cache = EmbeddingCache(cache_dir, key, queries=True)
    try:
        known, encoded = cache.encode_missing(dict(zip(hashes, headings, strict=True)),
                                              lambda todo: get_encoder(spec).encode_queries(todo))
    finally:
        cache.close()
    if not headings:
        return np.zeros((0, dimension), dtype=np.float32), 0
    return np.stack([np.frombuffer(known[h], dtype=np.float32) for h in hashes]), encoded


def _record_inputs(out_dir: Path, old: dict, inputs: dict[str, str]) -> dict:
    """``old`` manifest with ``inputs``, written over ``out_dir``'s by a rename (its other files
    stay as they are, links to the published index included)."""
    manifest = {**old, "inputs": inputs}
    tmp = out_dir / f".{MANIFEST}.tmp-{os.getpid()}"
    try:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, out_dir / MANIFEST)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise SearchIndexError(f"could not write {out_dir / MANIFEST}: {e}") from e
    return {**manifest, "embedded": 0, "reused": False}


class EmbeddingPrefetch:
    """Embed the chunks of ``pages`` that the embedding cache lacks, and encode their
    headings (``chunk_heading``, as questions) that its question cache lacks, in a background thread.

    Call ``wait()`` before ``build_index`` reads the cache. A failure here is not reported:
    ``build_index`` embeds whatever is still missing and reports its own errors with context.
    """

    def __init__(self, pages: list[PageRecord], *, model: str, query_prefix: str = "",
                 passage_prefix: str = "", cache_dir: Path, index_dir: Path | None = None) -> None:
        """``index_dir``: the published index; pages it was built from need no chunking here."""
        self.embedded = 0
        self.headings_embedded = 0
        self.error: BaseException | None = None
        self.chunks: list[Chunk] | None = None  # the pages' chunks, for build_index(page_chunks=)
        self.unchanged = False  # the published index was built from these very pages
        self._index_dir = Path(index_dir) if index_dir is not None else None
        self._args = (list(pages), model, query_prefix, passage_prefix, Path(cache_dir))
        self._thread = threading.Thread(target=self._run, name="kb-embed-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pages, model, query_prefix, passage_prefix, cache_dir = self._args
        try:
            from kb_tools.search.embeddings import (
                EmbeddingCache,
                EncoderSpec,
                encoder_name,
                get_encoder,
                text_hash,
            )

            spec = EncoderSpec(model, query_prefix, passage_prefix)
            key = encoder_name(spec)
            if self._index_dir is not None:
                published = published_inputs(self._index_dir).get("pages")
                if published == inputs_digest(pages, key, query_prefix, passage_prefix):
                    self.unchanged = True
                    return  # every chunk of these pages is in the published index: nothing to embed
            from kb_tools.search.chunking import chunk_all

            chunks = chunk_all(pages, [])
            self.chunks = chunks
            texts = {text_hash(t): t for t in (c.embed_text() for c in chunks)}
            cache = EmbeddingCache(cache_dir, key)
            try:
                _, self.embedded = cache.encode_missing(texts, lambda todo: get_encoder(spec).encode_passages(todo))
            finally:
                cache.close()
            # And their headings, as build_index encodes them (_heading_vectors): a retitled
            # page's new headings are encoded here too, not after MkDocs has rendered.
            headings = {text_hash(h): h for h in (chunk_heading(c) for c in chunks)}
            cache = EmbeddingCache(cache_dir, key, queries=True)
            try:
                _, self.headings_embedded = cache.encode_missing(
                    headings, lambda todo: get_encoder(spec).encode_queries(todo))
            finally:
                cache.close()
        except BaseException as e:  # noqa: BLE001 - build_index redoes it and says what is wrong
            self.error = e

    def wait(self) -> list[Chunk] | None:
        """Wait until done; the pages' chunks (None when chunking failed)."""
        self._thread.join()
        return self.chunks


def build_lexical_index(pages: list[PageRecord], videos: list[VideoRecord], out_dir: Path, *,
                        glossary: Path | None = None, synonyms: Path | None = None,
                        frames: Path | None = None) -> dict:  # fmt: skip
    """An index without vectors (no model needed): every mode answers lexically.
    Used by tests and by sites that switch the semantic side off."""
    from kb_tools.search.chunking import chunk_all

    t0 = time.perf_counter()
    site_words = SiteWords.read(glossary, synonyms, frames)
    site_words.check()
    chunks = chunk_all(pages, videos)
    manifest = {"schema": SCHEMA_VERSION, "model": "", "model_path": "", "model_key": "",
                "dimension": 0, "query_prefix": "", "passage_prefix": "",
                "fingerprint": _fingerprint(chunks, "", "", "", site_words.digest()), "embedded": 0}
    return _write(Path(out_dir), chunks, None, manifest, t0, site_words)


def _new_tmp(out_dir: Path) -> Path:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def _write_lexical(chunks: list[Chunk], tmp: Path) -> None:
    from kb_tools.search import lexical

    lexical.write_index(chunks, tmp)


def _abandon(written: Future, tmp: Path) -> None:  # type: ignore[type-arg]
    try:
        written.result()
    except BaseException:  # the first error is the one to report
        pass
    shutil.rmtree(tmp, ignore_errors=True)


def _write(out_dir: Path, chunks: list[Chunk], matrix, manifest: dict, t0: float, site_words: SiteWords,  # type: ignore[no-untyped-def]
           headings=None) -> dict:  # fmt: skip
    tmp = _new_tmp(out_dir)
    try:
        _write_lexical(chunks, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _finish(tmp, out_dir, chunks, matrix, manifest, t0, site_words, headings)


def _finish(tmp: Path, out_dir: Path, chunks: list[Chunk], matrix, manifest: dict, t0: float,  # type: ignore[no-untyped-def]
            site_words: SiteWords, headings=None) -> dict:  # fmt: skip
    """Vectors, heading vectors, chunks, the site's words and the manifest beside the lexical
    index in ``tmp``, then the swap. Without vectors (``None``) each is written with no
    columns: the index has none, and search does without."""
    import numpy as np

    if matrix is None:
        matrix = np.zeros((len(chunks), 0), dtype=np.float32)
    if headings is None:
        headings = np.zeros((len(chunks), 0), dtype=np.float32)
    try:
        np.save(tmp / VECTORS, matrix)
        np.save(tmp / HEADINGS, headings)
        (tmp / CHUNKS).write_text(
            json.dumps([c.to_json() for c in chunks], ensure_ascii=False), encoding="utf-8"
        )
        manifest = {
            **manifest,
            "chunks": len(chunks),
            "pages": len({c.page_url for c in chunks}),
            "counts": {
                "lang": dict(Counter(c.lang for c in chunks)),
                "kind": dict(Counter(c.kind for c in chunks)),
            },
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - t0, 3),
        }
        site_words.write(tmp)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        # Keep what others put in the folder (e.g. a README) across the swap; the site words
        # of an earlier build are not kept (a site that drops its glossary has none).
        if out_dir.is_dir():
            for p in out_dir.iterdir():
                if p.name not in _OWN | _SITE_WORDS and p.is_file():
                    shutil.copy2(p, tmp / p.name)
        _swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {**manifest, "reused": False}


def _swap(new: Path, target: Path) -> None:
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError as e:
        if old.exists():
            os.replace(old, target)
        raise SearchIndexError(f"could not move the new search index into {target}: {e}") from e
    shutil.rmtree(old, ignore_errors=True)

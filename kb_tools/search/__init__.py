"""Hybrid search for the help center: whoosh (lexical) + sentence-transformers (semantic).

``build_index`` runs inside ``mkdocs build``; ``Searcher`` answers queries for the CLI and
the service. Importing this package imports neither torch nor sentence-transformers.

Modules, in the order data flows:

* ``analyzer``   Unicode-correct tokens (letters + combining marks + digits + ZWJ/ZWNJ, NFC,
                 case folding), Porter stemming for Latin words only, a light suffix
                 stripper for Bengali/Gujarati/Devanagari, script detection.
* ``chunking``   pages -> one chunk per heading section (anchor kept), long sections split
                 with overlap; videos -> title/summary, chapter-aligned windows of cues.
* ``lexical``    the whoosh index (fields title/heading/meta/body, boosted 3/2/1.2/1),
                 queries built from analysed tokens as ``whoosh.query`` objects, spelling
                 correction against the index vocabulary, prefix match for unknown Indic
                 words; scored as BM25F over posting lists read from the whoosh index.
* ``embeddings`` local model folders only, an SQLite cache of vectors by (model, text hash).
* ``build``      ``build_index``: fingerprint -> reuse (no torch import) or build + atomic swap.
* ``query``      ``SearchQuery`` (one request, every limit checked once, ``QueryError``),
                 ``Context`` (where the shopper is), ``SearchResults`` (a sequence of hits).
* ``ranking``    weighted score fusion (default) and reciprocal rank fusion, the language
                 and context boosts, grouping by page, snippets (escaped, then <mark>).
* ``searcher``   ``Searcher`` (the only reader of an index folder) / ``Hit``; ``cli``:
                 ``kb search``.

Index folder layout (schema in ``build.SCHEMA_VERSION``): ``manifest.json``, ``chunks.json``,
``vectors.npy`` (float32, L2-normalised), ``headings.npy`` (each chunk's heading encoded as a
question, for the answer decision; an index without it still loads), ``lexical/`` (whoosh),
``lengths.npy``, ``vocab.json``, ``surface.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb_tools.search.build import build_index
    from kb_tools.search.query import Context, QueryError, SearchQuery, SearchResults
    from kb_tools.search.searcher import Hit, Searcher

__all__ = ["Context", "Hit", "QueryError", "SearchQuery", "SearchResults", "Searcher", "build_index"]


def __getattr__(name: str) -> Any:
    if name == "build_index":
        from kb_tools.search.build import build_index

        return build_index
    if name in ("Hit", "Searcher"):
        from kb_tools.search import searcher

        return getattr(searcher, name)
    if name in ("Context", "QueryError", "SearchQuery", "SearchResults"):
        from kb_tools.search import query

        return getattr(query, name)
    raise AttributeError(name)

"""Hybrid search for the help center: whoosh (lexical) + sentence-transformers (semantic).

``build_index`` runs inside ``mkdocs build``; ``Searcher`` answers queries for the CLI and
the service. Importing this package imports neither torch nor sentence-transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb_tools.search.build import build_index
    from kb_tools.search.searcher import Hit, Searcher

__all__ = ["Hit", "Searcher", "build_index"]


def __getattr__(name: str) -> Any:
    if name == "build_index":
        from kb_tools.search.build import build_index

        return build_index
    if name in ("Hit", "Searcher"):
        from kb_tools.search import searcher

        return getattr(searcher, name)
    raise AttributeError(name)

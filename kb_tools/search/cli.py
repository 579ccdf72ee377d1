"""`kb search`: query the built index from the command line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb_tools.cli import project_options

if TYPE_CHECKING:
    from kb_tools.project import Project
    from kb_tools.search.query import SearchQuery

HELP_INDEX = "Index folder written by `mkdocs build` (default: index_dir of mkdocs.yml, search_index)."
HELP_QUERIES = "File of queries, one per line (or a YAML list of strings or of {q: ...}); with --json prints one JSON line per query."


def _read_queries(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml", ".json"):
        import yaml

        data = yaml.safe_load(text) or []
        if isinstance(data, dict):
            data = data.get("queries", [])
        out = []
        for item in data:
            out.append((item.get("query") or item.get("q") or "") if isinstance(item, dict) else str(item))
        return [q for q in out if q]
    return [line.strip() for line in text.splitlines() if line.strip()]


@click.command("search")
@click.argument("query", required=False)
@project_options()
@click.option("--index", "index_dir", default=None, type=click.Path(path_type=Path), help=HELP_INDEX)
@click.option("--lang", default=None, help="Only hits in this language (en, bn, gu, ...).")
@click.option("--k", "k", default=10, show_default=True, type=int, help="Number of hits (1-50).")
@click.option("--mode", default="hybrid", show_default=True, help="hybrid, lexical or semantic.")
@click.option("--queries", "queries_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path), help=HELP_QUERIES)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def search(query: str | None, project: Callable[[], Project], index_dir: Path | None, lang: str | None, k: int, mode: str,
           queries_file: Path | None, as_json: bool) -> None:
    """Search the built help-center index: kb search "how do I return an item"."""
    from kb_tools.search.searcher import Searcher

    if not query and not queries_file:
        raise click.UsageError('give a query (kb search "where is my order") or --queries FILE')
    texts = _read_queries(queries_file) if queries_file else [query or ""]
    queries = _parse_all(texts, queries_file, k=k, lang=lang, mode=mode)
    searcher = Searcher(index_dir or project().index_dir)
    for q in queries:
        hits = searcher.search(q)
        if as_json:
            click.echo(json.dumps({"query": q.text, **hits.to_dict()}, ensure_ascii=False))
            continue
        if len(queries) > 1:
            click.echo(f"# {q.text}")
        if not hits:
            click.echo("no results")
        elif not hits.answered:
            click.echo("No answer in the help center; the nearest pages:")
        for rank, h in enumerate(hits, 1):
            where = f"{h.title} › {h.section}" if h.section else h.title
            click.echo(f"{rank:>2}. {where}\n    {h.url}\n    {_plain(h.snippet)}")


def _parse_all(texts: list[str], source: Path | None, **options: object) -> list[SearchQuery]:
    """Every query checked before the index is opened; a bad one in a file is named by number."""
    from kb_tools.search.query import QueryError, SearchQuery

    out = []
    for i, text in enumerate(texts, 1):
        try:
            out.append(SearchQuery.parse(text, **options))  # type: ignore[arg-type]
        except QueryError as e:
            if source is None:
                raise
            raise QueryError(e.code, f"{source}: query {i}: {e.message}") from None
    return out


def _plain(snippet: str) -> str:
    import html

    return html.unescape(re.sub(r"</?mark>", "", snippet))

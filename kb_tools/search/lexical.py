"""The lexical side: a whoosh index of chunks and queries built from analysed tokens.

User text never reaches whoosh's query parser: a query is an ``Or`` of ``Term`` objects made
from our own analyser's tokens, so ``AND``, quotes, ``*``, ``?``, ``:`` and brackets are just
characters. A word that is not in the index vocabulary is corrected against it (one edit,
symmetric-delete lookup, most frequent candidates first); an unknown Bengali, Gujarati or
Hindi word also matches indexed words that start with it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from whoosh import fields, index, query
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.scoring import BM25F

from kb_tools.search.analyzer import KbTokenizer, script_of, terms
from kb_tools.search.chunking import Chunk

FIELD_BOOSTS = {"title": 3.0, "heading": 2.0, "meta": 1.2, "body": 1.0}
TEXT_FIELDS = tuple(FIELD_BOOSTS)
VOCAB_FILE = "vocab.json"
LEXICAL_DIR = "lexical"


def schema() -> fields.Schema:
    ana = KbTokenizer()
    return fields.Schema(
        cid=fields.NUMERIC(stored=True),
        title=fields.TEXT(analyzer=ana),
        heading=fields.TEXT(analyzer=ana),
        meta=fields.TEXT(analyzer=ana),
        body=fields.TEXT(analyzer=ana),
        lang=fields.ID,
        kind=fields.ID,
        category=fields.ID,
        products=fields.KEYWORD(commas=True),
    )


def write_index(chunks: list[Chunk], folder: Path) -> dict[str, int]:
    """Write the whoosh index of ``chunks`` into ``folder`` plus the term vocabulary."""
    lexdir = folder / LEXICAL_DIR
    lexdir.mkdir(parents=True)
    ix = index.create_in(str(lexdir), schema())
    writer = ix.writer()
    vocab: dict[str, int] = defaultdict(int)
    for cid, c in enumerate(chunks):
        meta = " ".join([c.summary, " ".join(c.tags), " ".join(p.replace("-", " ") for p in c.products)])
        heading = " ".join(c.heading_path)
        writer.add_document(
            cid=cid, title=c.title, heading=heading, meta=meta, body=c.text, lang=c.lang,
            kind=c.kind, category=c.category, products=",".join(c.products),
        )
        for t in set(terms(" ".join([c.title, heading, meta, c.text]))):
            vocab[t] += 1
    writer.commit()
    (folder / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    return dict(vocab)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class LexicalQuery:
    query: query.Query | None
    terms: set[str]  # terms to highlight
    prefixes: set[str]  # prefixes to highlight (unknown Indic words)


class LexicalIndex:
    """A read-only whoosh index held in memory, so a later rebuild cannot pull files away."""

    def __init__(self, folder: Path) -> None:
        src = FileStorage(str(folder / LEXICAL_DIR))
        ram = RamStorage()
        for name in src.list():
            with src.open_file(name) as f:
                ram.files[name] = f.read()
        self.ix = ram.open_index()
        self.vocab: dict[str, int] = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        self._delete_map: dict[str, list[str]] | None = None
        self._pool: list[object] = []

    # -- vocabulary ---------------------------------------------------------------------
    def _corrections(self, word: str, limit: int = 2) -> list[str]:
        if len(word) < 4 or word.isdigit():
            return []
        if self._delete_map is None:
            dm: dict[str, list[str]] = defaultdict(list)
            for term in self.vocab:
                if len(term) >= 3:
                    dm[term].append(term)
                    for d in _deletes(term):
                        dm[d].append(term)
            self._delete_map = dict(dm)
        cands: set[str] = set(self._delete_map.get(word, ()))
        for d in _deletes(word):
            cands.update(self._delete_map.get(d, ()))
        cands.discard(word)
        return sorted(cands, key=lambda t: -self.vocab.get(t, 0))[:limit]

    def build_query(self, text: str) -> LexicalQuery:
        words = list(dict.fromkeys(terms(text)))[:32]
        clauses: list[query.Query] = []
        hl: set[str] = set()
        prefixes: set[str] = set()
        for w in words:
            if w in self.vocab:
                clauses.append(self._term_clause(w, 1.0))
                hl.add(w)
                continue
            alts = self._corrections(w)
            for alt in alts:
                clauses.append(self._term_clause(alt, 0.7))
                hl.add(alt)
            if script_of(w[0]) in ("bn", "gu", "hi") and len(w) >= 3 and not alts:
                clauses.append(query.Or([query.Prefix(f, w, boost=b * 0.8) for f, b in FIELD_BOOSTS.items()]))
                prefixes.add(w)
        if not clauses:
            return LexicalQuery(None, hl, prefixes)
        return LexicalQuery(query.Or(clauses, scale=0.5), hl, prefixes)

    @staticmethod
    def _term_clause(term: str, boost: float) -> query.Query:
        return query.Or([query.Term(f, term, boost=b * boost) for f, b in FIELD_BOOSTS.items()])

    def search(self, q: query.Query, *, limit: int = 50, filters: dict[str, str] | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25F score) best first."""
        fq = None
        if filters:
            parts = [query.Term(k, v) for k, v in filters.items() if v]
            fq = query.And(parts) if len(parts) > 1 else (parts[0] if parts else None)
        searcher = self._pool.pop() if self._pool else self.ix.searcher(weighting=BM25F())
        try:
            results = searcher.search(q, limit=limit, filter=fq)
            return [(hit["cid"], float(hit.score)) for hit in results]
        finally:
            self._pool.append(searcher)

    def close(self) -> None:
        for s in self._pool:
            s.close()  # type: ignore[attr-defined]
        self._pool.clear()


def analysed(text: str) -> Iterable[str]:
    return terms(text)

"""The cache of chunk embeddings keyed by (encoder, text hash) that survives rebuilds, and
the encoder interface (``encoders``) re-exported where the contract names it.

Nothing here imports torch or a model at module import time: a rebuild with no content
change never needs them (see ``build.build_index``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kb_tools.search.encoders import (  # noqa: F401 - the contract's import path
    DEFAULT_MODEL,
    Encoder,
    EncoderSpec,
    encoder_name,
    get_encoder,
    model_key,
    resolve_model,
)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Append-only store of vectors by text hash, one SQLite file per model and form: texts
    encoded as passages (chunks), or as questions (``queries=True``: chunk headings, read the
    way a shopper's question is). One text has another vector in each form."""

    def __init__(self, cache_dir: Path, key: str, *, queries: bool = False) -> None:
        folder = cache_dir / "embeddings" / key
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / ("queries.sqlite" if queries else "vectors.sqlite")
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS vec (h TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def get_many(self, hashes: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        hs = list(dict.fromkeys(hashes))
        for i in range(0, len(hs), 500):
            part = hs[i : i + 500]
            q = f"SELECT h, v FROM vec WHERE h IN ({','.join('?' * len(part))})"
            out.update(self.db.execute(q, part).fetchall())
        return out

    def encode_missing(self, texts: Mapping[str, str], encode: Callable[[list[str]], Any]) -> tuple[dict[str, bytes], int]:
        """The stored vectors of ``texts`` (hash -> text), after ``encode`` has run on those the
        cache lacks, each once, and they are stored; and how many that was."""
        known = self.get_many(list(texts))
        todo = {h: t for h, t in texts.items() if h not in known}
        if todo:
            new = [(h, v.tobytes()) for h, v in zip(todo, encode(list(todo.values())), strict=True)]
            self.put_many(new)
            known.update(new)
        return known, len(todo)

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec (h, v) VALUES (?, ?)", items)

    def close(self) -> None:
        self.db.close()

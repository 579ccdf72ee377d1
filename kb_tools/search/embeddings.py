"""The cache of chunk embeddings keyed by (encoder, text hash) that survives rebuilds, and
the encoder interface (``encoders``) re-exported where the contract names it.

Nothing here imports torch or a model at module import time: a rebuild with no content
change never needs them (see ``build.build_index``).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

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
    encoded as passages (chunks), or as questions (``queries=True``: page titles, read the
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

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO vec (h, v) VALUES (?, ?)", items)

    def close(self) -> None:
        self.db.close()

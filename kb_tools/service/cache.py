"""Answers kept in memory for repeated searches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class AnswerCache:
    """query -> hits for repeated queries (the launcher's popular questions, a shopper
    retyping). Keyed by index generation, so a new index never serves old answers."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        if self.size <= 0:
            return None
        with self._lock:
            body = self._data.get(key)
            if body is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = body
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

"""A small thread-safe in-process cache with expiry, for hot read paths of the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """Values live `ttl_seconds` (0 disables caching); the oldest entries go past `max_entries`."""

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        if self.ttl <= 0:
            return load()
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()  # errors propagate and are not cached
        with self._lock:
            if len(self._items) >= self.max_entries:
                for old in list(self._items)[: self.max_entries // 10 + 1]:
                    self._items.pop(old, None)
            self._items[key] = (now + self.ttl, value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)

"""Recently used sessions kept in memory, so a step reads the database only on a miss.

It holds what the store holds (the engine state under the HMAC key, with its revision) and
nothing more. It is write-through: an entry is put only after the store accepted the save.
It is safe with several replicas: a replica whose copy is stale saves with an old revision,
the store refuses, the entry is dropped and the step is retried from the database.
Entries expire after ``idle_seconds`` without use (minutes, far below the store's TTL of
days, so a purged session is never still cached) and the least recently used go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.conversation.state import State


class SessionCache:
    """(state, revision) by session key, bounded in size and idle time."""

    def __init__(self, size: int = 10_000, idle_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[State, int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def held_keys(self) -> list[str]:
        """The session keys held now (HMAC keys, never chat ids)."""
        return list(self._entries)

    def get(self, key: str) -> tuple[State, int] | None:
        """The cached state and revision for ``key``, or None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        state, rev, used = entry
        if self._clock() - used > self.idle_seconds:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return state, rev

    def put(self, key: str, state: State, rev: int) -> None:
        """Remember that the store now holds ``state`` at ``rev`` for ``key``."""
        if self.size <= 0:
            return
        self._entries[key] = (state, rev, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        """Forget ``key`` (deleted, or found stale)."""
        self._entries.pop(key, None)

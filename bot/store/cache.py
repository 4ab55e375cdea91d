"""Recently used sessions kept in memory, so a step reads the database only on a miss.

It holds what the store holds (the engine state under the HMAC key, with its revision) and
nothing more. It is write-through: an entry is put only after the store accepted the save.
It is safe with several replicas: a replica whose copy is stale saves with an old revision,
the store refuses, the entry is dropped and the step is retried from the database.
Entries expire after ``idle_seconds`` without use (minutes, far below the store's TTL of
days, so a purged session is never still cached) and the least recently used go first, so that
there are at most ``size`` entries taking at most ``max_bytes`` together: a long trail or many
facts cost more, and memory stays bounded whatever sessions look like.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Callable

from bot.conversation.state import State


class SessionCache:
    """(state, revision) by session key, bounded in size and idle time."""

    def __init__(self, size: int = 10_000, idle_seconds: float = 900.0,
                 clock: Callable[[], float] = time.monotonic, max_bytes: int = 2 * 1024 * 1024) -> None:
        self.size = size
        self.idle_seconds = idle_seconds
        self.max_bytes = max_bytes
        self.bytes = 0  # what the entries take, as estimated by entry_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[State, int, float, int]] = OrderedDict()

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
        state, rev, used, _cost = entry
        if self._clock() - used > self.idle_seconds:
            self.drop(key)
            return None
        self._entries.move_to_end(key)
        return state, rev

    def put(self, key: str, state: State, rev: int) -> None:
        """Remember that the store now holds ``state`` at ``rev`` for ``key``."""
        if self.size <= 0:
            return
        cost = entry_bytes(key, state)
        if cost > self.max_bytes:
            self.drop(key)
            return
        old = self._entries.get(key)
        self.bytes += cost - (old[3] if old is not None else 0)
        self._entries[key] = (state, rev, self._clock(), cost)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size or self.bytes > self.max_bytes:
            _key, (*_rest, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def drop(self, key: str) -> None:
        """Forget ``key`` (deleted, or found stale)."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry[3]


_ENTRY = sys.getsizeof((None, 0, 0.0, 0)) + sys.getsizeof(0.0) + 100  # + the dict's slot and links


def entry_bytes(key: str, state: State) -> int:
    """What one entry takes in memory, counting every string as its own (an upper bound)."""
    size = _ENTRY + sys.getsizeof(key) + sys.getsizeof(state) + sys.getsizeof(state.lang)
    size += sys.getsizeof(state.node) + sys.getsizeof(state.version) + _facts_bytes(state.facts)
    size += sys.getsizeof(state.trail) + sys.getsizeof(state.aside) + sys.getsizeof(state.messages)
    size += len(state.messages) * (56 + 2 * 32)  # each (message id, minute) pair and its ints
    for node, facts in state.trail:
        size += 56 + sys.getsizeof(node) + _facts_bytes(facts)  # 56: the (node, facts) pair
    return size


def _facts_bytes(facts: tuple[tuple[str, str], ...]) -> int:
    return sys.getsizeof(facts) + sum(56 + sys.getsizeof(k) + sys.getsizeof(v) for k, v in facts)

"""The in-memory session cache: bounded in size and in idle time."""

from __future__ import annotations

from bot.conversation.state import State
from bot.store.cache import SessionCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_put_get_and_drop() -> None:
    cache = SessionCache(size=10)
    assert cache.get("k") is None
    cache.put("k", State(lang="es", node="tc-start"), 3)
    assert cache.get("k") == (State(lang="es", node="tc-start"), 3)
    cache.put("k", State(lang="es", node="tc-fear"), 4)
    assert cache.get("k") == (State(lang="es", node="tc-fear"), 4)
    cache.drop("k")
    cache.drop("never-there")
    assert cache.get("k") is None and len(cache) == 0


def test_least_recently_used_go_first() -> None:
    cache = SessionCache(size=3)
    for i in range(3):
        cache.put(f"k{i}", State(lang="en"), 1)
    assert cache.get("k0") is not None  # k0 is now the most recently used
    cache.put("k3", State(lang="en"), 1)
    assert len(cache) == 3
    assert cache.get("k1") is None
    assert all(cache.get(k) is not None for k in ("k0", "k2", "k3"))


def test_entries_expire_after_idle_time() -> None:
    clock = Clock()
    cache = SessionCache(size=10, idle_seconds=60, clock=clock)
    cache.put("k", State(lang="fr"), 1)
    clock.now += 59
    assert cache.get("k") is not None
    clock.now += 2
    assert cache.get("k") is None and len(cache) == 0


def test_size_zero_turns_the_cache_off() -> None:
    cache = SessionCache(size=0)
    cache.put("k", State(lang="en"), 1)
    assert cache.get("k") is None


def test_bounded_in_bytes_whatever_the_sessions_hold() -> None:
    from bot.store.cache import entry_bytes

    short = State(lang="en", node="start")
    long = State(lang="en", node="n", facts=(("k", "v" * 50),) * 10,
                 trail=tuple((f"node-{i}", (("k", "v" * 50),)) for i in range(30)))
    assert entry_bytes("k" * 64, long) > 5 * entry_bytes("k" * 64, short)
    budget = 20 * entry_bytes("k" * 64, long)
    cache = SessionCache(size=10_000, max_bytes=budget)
    for i in range(1000):
        cache.put(f"{i:064d}", long, 1)
        assert cache.bytes <= budget
    assert len(cache) == 20  # the entry count alone would have kept all 1000
    assert cache.get(f"{999:064d}") is not None and cache.get(f"{0:064d}") is None
    for key in cache.held_keys():
        cache.drop(key)
    assert cache.bytes == 0 and len(cache) == 0


def test_replacing_an_entry_counts_its_bytes_once() -> None:
    cache = SessionCache(size=10)
    cache.put("k", State(lang="en"), 1)
    first = cache.bytes
    cache.put("k", State(lang="en"), 2)
    assert cache.bytes == first
    cache.put("big", State(lang="en", facts=(("k", "v" * 10_000),)), 1)
    tiny = SessionCache(size=10, max_bytes=first * 2)
    tiny.put("big", State(lang="en", facts=(("k", "v" * 10_000),)), 1)
    assert len(tiny) == 0 and tiny.bytes == 0  # larger than the whole budget: not kept


def test_the_messages_a_session_remembers_count_too() -> None:
    from bot.store.cache import entry_bytes

    plain = State(lang="en")
    remembering = State(lang="en", messages=tuple((1000 + i, 29_000_000 + i) for i in range(50)))
    assert entry_bytes("k", remembering) > entry_bytes("k", plain) + 50 * 100

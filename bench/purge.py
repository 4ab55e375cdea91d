"""The hourly purge on a large SQLite store: does the event loop stall, does the file shrink?

Usage::

    .venv/bin/python bench/purge.py                   # 100,000 expired sessions (+ 1,000 live)
    .venv/bin/python bench/purge.py --expired 20000

Builds one store, then purges a copy of it two ways while a task ticks every millisecond (the
longest gap is the event loop's worst stall) and another saves a live session every 5 ms, as
users' steps would:

- **previous**: what the purge did before (one transaction: every expired row read, its JSON
  parsed on the event loop, then one DELETE), on a file without incremental vacuum;
- **now**: ``SessionStore.purge`` (batches on the store's thread, then the file shrinks).

Prints the worst stall, the slowest save, the time taken and the file size (database +
write-ahead log) before and after, with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import create_async_engine

import bot.store.sessions as sessions_module
from bot.store.sessions import SessionStore
from bot.store.tables import SESSIONS

TODAY = date(2026, 6, 1)
TTL_DAYS = 30


def state(rng: random.Random) -> str:
    """A realistic stored state: a trail of a few steps and a couple of facts."""
    nodes = [f"tc-step-{rng.randrange(60)}" for _ in range(rng.randrange(2, 9))]
    data = {"lang": rng.choice(("en", "es", "fr")), "node": nodes[-1], "version": "a1b2c3d4",
            "trail": [[n, []] for n in nodes[:-1]], "facts": [["country", "x"], ["detained", "no"]]}
    return json.dumps(data, separators=(",", ":"))


async def build(path: Path, expired: int, live: int) -> None:
    """A store with ``expired`` sessions past the TTL and ``live`` recent ones."""
    store = SessionStore(f"sqlite+aiosqlite:///{path}", today=lambda: TODAY)
    await store.open()
    await store.close()
    rng = random.Random(1)
    old = (TODAY - timedelta(days=TTL_DAYS + 5)).isoformat()
    new = TODAY.isoformat()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.executemany("INSERT INTO sessions (key, state, rev, created_day, updated_day) VALUES "
                   "(?, ?, 1, ?, ?)", ((f"{i:064x}", state(rng), old, old) for i in range(expired)))
    db.executemany("INSERT INTO sessions (key, state, rev, created_day, updated_day) VALUES "
                   "(?, ?, 1, ?, ?)", ((f"live{i:060x}", state(rng), new, new) for i in range(live)))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def file_mb(path: Path) -> float:
    """Database file plus write-ahead log, in MB."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 1e6


async def previous_purge(store: SessionStore) -> int:
    """The purge as it was: one transaction through SQLAlchemy, JSON parsed on the event loop."""
    cutoff = TODAY - timedelta(days=TTL_DAYS)
    engine = create_async_engine(store.url)
    async with engine.begin() as conn:
        rows = (await conn.execute(select(SESSIONS.c.state).where(SESSIONS.c.updated_day < cutoff))).all()
        for (payload,) in rows:
            try:
                data = json.loads(payload)
                store.count(str(data["lang"]), str(data["node"]), "stop")
            except (ValueError, KeyError, TypeError):
                continue
        await conn.execute(delete(SESSIONS).where(SESSIONS.c.updated_day < cutoff))
    await engine.dispose()
    await store.flush_counts()
    return len(rows)


async def measure(name: str, path: Path, purge: Callable[[SessionStore], Awaitable[int]]) -> None:
    """Purge the store at ``path`` while ticking and saving; print what was seen."""
    store = SessionStore(f"sqlite+aiosqlite:///{path}", today=lambda: TODAY)
    await store.open()
    before = file_mb(path)
    stall = 0.0
    slowest_save = 0.0
    saves = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal stall
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            stall = max(stall, time.perf_counter() - started - 0.001)

    async def save() -> None:
        nonlocal slowest_save, saves
        while not done.is_set():
            started = time.perf_counter()
            key = f"user{saves % 50:060d}"  # a user's step: read the session, save it
            _data, rev = await store.load(key)
            await store.save(key, {"lang": "en", "node": "start"}, rev)
            slowest_save = max(slowest_save, time.perf_counter() - started)
            saves += 1
            await asyncio.sleep(0.005)

    tasks = [asyncio.create_task(tick()), asyncio.create_task(save())]
    await asyncio.sleep(0.1)
    started = time.perf_counter()
    count = await purge(store)
    seconds = time.perf_counter() - started
    done.set()
    await asyncio.gather(*tasks)
    await store.close()
    print(f"{name:<10}{count:>9}{seconds:>9.2f}{stall * 1000:>16.1f}{slowest_save * 1000:>18.1f}"
          f"{saves:>7}{before:>12.1f}{file_mb(path):>11.1f}{os.getloadavg()[0]:>9.2f}", flush=True)


async def main_async(args: argparse.Namespace) -> None:
    """Build the store once, then measure both purges on copies of it."""
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-purge-"))
    try:
        base = temp / "base.db"
        started = time.perf_counter()
        await build(base, args.expired, args.live)
        print(f"built {args.expired} expired + {args.live} live sessions in "
              f"{time.perf_counter() - started:.1f} s ({file_mb(base):.1f} MB); load "
              f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"{'purge':<10}{'deleted':>9}{'seconds':>9}{'max stall ms':>16}{'slowest save ms':>18}"
              f"{'saves':>7}{'MB before':>12}{'MB after':>11}{'load 1m':>9}")
        for _ in range(args.repeat):
            previous = temp / "previous.db"
            shutil.copy(base, previous)
            db = sqlite3.connect(previous, isolation_level=None)
            db.execute("PRAGMA auto_vacuum=NONE")  # the file as the previous version made it
            db.execute("VACUUM")
            db.close()
            real = sessions_module.ensure_incremental_vacuum
            sessions_module.ensure_incremental_vacuum = lambda path: False  # keep it as it was
            try:
                await measure("previous", previous, previous_purge)
            finally:
                sessions_module.ensure_incremental_vacuum = real
            now = temp / "now.db"
            shutil.copy(base, now)
            await measure("now", now, lambda store: store.purge(TTL_DAYS))
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="purge of many expired sessions: stalls and file size")
    parser.add_argument("--expired", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=1)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

"""Benchmark: latency of users pressing while a 5,000-step content reload is built.

Usage::

    .venv/bin/python bench/reload.py [--nodes 5000] [--users 200] [--seconds 8]

The real service (``BotService.create`` on a generated tree, SQLite in a temp folder) is driven
in process through a local Bot API session (``bench/inprocess.py``'s harness): ``--users`` users each
pressing about once a second. Phase *normal*: nothing else runs. Phase *reloading*: reloads of
the same tree are requested back to back for the whole phase (``request_reload``, as SIGHUP
does). It prints p50/p99 latency of both phases, their ratio (target: p99 while reloading at
most twice the normal p99) and how long each reload took.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_tree import generate_tree  # isort: skip
from bench.inprocess import (
    PACED_THINK,
    LocalDriver,
    LocalSession,
    Stats,
    local_bot,
    make_users,
    run_users,
    settings_for,
)
from bot.telegram.runner import BotService

TARGET_RATIO = 2.0


async def reload_forever(service: BotService, stop: asyncio.Event, took: list[float]) -> None:
    """Request a reload, wait until it is served, again, until ``stop``."""
    while not stop.is_set():
        started = time.perf_counter()
        service.request_reload()
        while service._reloader is not None:
            await asyncio.sleep(0.01)
        took.append(time.perf_counter() - started)


async def main_async(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING)
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-reload-"))
    content = generate_tree(temp / "content", nodes=args.nodes)
    service = await BotService.create(settings_for(content, temp / "data"))
    await service.bot.session.close()
    session = LocalSession()
    service.bot = local_bot(session)
    driver = LocalDriver(service.bot, service.updates, session)
    users = make_users(args.users, 10_000, seed=7)
    await run_users("warm-up", driver, users, 3, PACED_THINK, 3)
    normal = await run_users("normal", driver, users, 10**9, PACED_THINK, args.seconds)
    stop = asyncio.Event()
    took: list[float] = []
    reloads = asyncio.create_task(reload_forever(service, stop, took))
    reloading = await run_users("reloading", driver, users, 10**9, PACED_THINK, args.seconds)
    stop.set()
    await reloads
    await service.runtime.store.close()
    rows: list[Stats] = [normal, reloading]
    print(f"{args.users} users pressing about once a second; tree of {args.nodes} steps per language")
    print(f"{'phase':<10} {'updates':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'GC runs':>8} {'GC max ms':>10}")
    for stats in rows:
        print(f"{stats.name:<10} {stats.updates:>8} {stats.ms(0.5):>8.1f} {stats.ms(0.99):>8.1f} "
              f"{stats.ms(1.0):>8.1f} {stats.gc_count:>8} {stats.gc_max * 1000:>10.1f}")
    ratio = reloading.ms(0.99) / normal.ms(0.99)
    print(f"reloads completed: {len(took)}, each {min(took, default=0):.2f}-{max(took, default=0):.2f} s")
    print(f"p99 reloading / normal: {ratio:.2f} (target <= {TARGET_RATIO}: "
          f"{'holds' if ratio <= TARGET_RATIO else 'DOES NOT HOLD'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())

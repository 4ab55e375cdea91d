"""Peak RSS of ``kyr-bot run`` while many distinct users each use it once.

Usage::

    .venv/bin/python bench/memory.py                  # 100,000 distinct users (a few minutes)
    .venv/bin/python bench/memory.py --users 20000    # shorter

``kyr-bot run`` (production defaults, SQLite, long polling) runs as its own process against
``tests/fake_telegram``. Every simulated user is new: the bot's menu is on their screen (as if
they had sent /start earlier) and they tap one button, so each creates a session the bot
stores and may cache. ``--concurrent`` users tap at once. Prints the process's resident memory
as the users go by and its peak (VmHWM), with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (
    BenchTelegram,
    Driver,
    Run,
    Target,
    drive,
    make_users,
    process_peak_rss,
    seed_menu,
    start,
    stop,
)
from bench.run import (
    parse_args as run_args,
)
from bench.simusers import LANGUAGE_CODES, SimUser

TARGET_MB = 130.0


def rss_now(pid: int) -> float:
    """Resident set size of a process now (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main_async(args: argparse.Namespace) -> int:
    """Drive ``--users`` distinct users through one kyr-bot process and report its memory."""
    temp = Path(tempfile.mkdtemp(prefix="kyr-bench-memory-"))
    fake = BenchTelegram()
    await fake.start()
    options = run_args(["--transport", "polling"])
    target = Target("kyr-bot", "kyr-bot")
    process = await start(target, fake, temp / "data", 0, True, options, "memory")
    driver = Driver(fake, 2)
    try:
        warm = make_users(10, 9_000_000, 1)
        await drive(driver, warm, 0.0, 0.5, Run("", "", ""))
        templates = {u.lang: fake.user(u.chat_id).keyboard_message() for u in warm}
        print(f"kyr-bot run: RSS {rss_now(process.pid):.1f} MB after start and warm-up; "
              f"{args.users} distinct users, {args.concurrent} at a time; load "
              f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        ids = iter(range(args.users))
        done = itertools.count(1)
        started = time.perf_counter()

        async def worker() -> None:
            for i in ids:
                user = SimUser(10_000_000 + i, LANGUAGE_CODES[i % len(LANGUAGE_CODES)], random.Random(i))
                seed_menu(fake, templates, [user])
                await driver.step(user)
                fake.store.pop(user.chat_id, None)  # the harness forgets the chat; the bot must too
                fake._users.pop(user.chat_id, None)
                n = next(done)
                if n % args.every == 0:
                    print(f"  {n:>7} users  {n / (time.perf_counter() - started):5.0f}/s  RSS "
                          f"{rss_now(process.pid):6.1f} MB  peak {process_peak_rss(process.pid):6.1f} MB"
                          f"  load {os.getloadavg()[0]:.2f}", flush=True)

        await asyncio.gather(*(worker() for _ in range(args.concurrent)))
        peak = process_peak_rss(process.pid)
        print(f"peak RSS of kyr-bot run with {args.users} distinct users: {peak:.1f} MB "
              f"(target < {TARGET_MB:.0f} MB: {'HOLDS' if peak < TARGET_MB else 'MISSED'}); "
              f"fake server violations {len(fake.violations)}; load "
              f"{'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0 if not fake.violations else 1
    finally:
        await driver.close()
        await stop(process)
        await fake.stop()
        shutil.rmtree(temp, ignore_errors=True)


def main() -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="peak RSS of kyr-bot run with many distinct users")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--concurrent", type=int, default=500)
    parser.add_argument("--every", type=int, default=10_000, help="print memory every N users")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

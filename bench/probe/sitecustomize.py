"""Loaded by every bot ``bench/run.py`` starts (kyr-bot and baselines alike), via PYTHONPATH.

When ``BENCH_PROBE_OUT`` is set, it records each garbage collection of the process (start on
the system-wide monotonic clock, duration, generation, through ``gc.callbacks``) and writes
them to that file as JSON lines at exit, and every second meanwhile, so a process stopped by a
signal still leaves them. It changes nothing else in the process.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import time

_OUT = os.environ.get("BENCH_PROBE_OUT", "")
_pauses: list[tuple[float, float, int]] = []
_started = [0.0]
_written = [0]  # pauses already in the file
_last_write = [time.perf_counter()]


def _flush() -> None:
    new = _pauses[_written[0]:]
    if not new:
        return
    with open(_OUT, "a", encoding="utf-8") as out:
        out.writelines(json.dumps(p) + "\n" for p in new)
    _written[0] += len(new)


def _on_gc(phase: str, info: dict[str, int]) -> None:
    now = time.perf_counter()
    if phase == "start":
        _started[0] = now
        return
    _pauses.append((_started[0], now - _started[0], info["generation"]))
    if now - _last_write[0] > 1.0:
        _last_write[0] = now
        _flush()


if _OUT:
    gc.callbacks.append(_on_gc)
    atexit.register(_flush)


def _install_profiler(path: str) -> None:
    """``BENCH_PROFILE=path``: SIGUSR1 starts cProfile, a second SIGUSR1 writes its stats."""
    import cProfile
    import signal

    profile = cProfile.Profile()
    running = [False]

    def toggle(_signum: int, _frame: object) -> None:
        if running[0]:
            profile.disable()
            profile.dump_stats(path)
        else:
            profile.enable()
        running[0] = not running[0]

    signal.signal(signal.SIGUSR1, toggle)


if os.environ.get("BENCH_PROFILE"):
    _install_profiler(os.environ["BENCH_PROFILE"])

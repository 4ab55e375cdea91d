"""Run CPU-heavy work in a thread that steps aside while users' updates are being handled.

Python runs one thread at a time. A thread building a new content tree (a reload) would hold
the interpreter for up to a switch interval each time the event loop wants it back, and an
update gives it back many times (every await, every SQLite call), so presses slowed down by a
few times during a reload. Here the builder checks, at each Python call it makes, whether an
update is in flight, and if so waits (without the interpreter) until none is, or at most
``max_wait``; it then runs at least ``min_run`` before stepping aside again, so a bot that is
never idle still finishes its reload.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")


def run_courteously(quiet: threading.Event, job: Callable[..., T], *args: Any,
                    max_wait: float = 0.010, min_run: float = 0.002) -> T:
    """Run ``job(*args)`` in this thread, pausing while ``quiet`` is not set (see above)."""
    clock = time.perf_counter
    run_until = 0.0

    def step_aside(_frame: FrameType, event: str, _arg: object) -> None:
        nonlocal run_until
        if event != "call" or quiet.is_set():
            return
        now = clock()
        if now < run_until:
            return
        quiet.wait(max_wait)
        run_until = clock() + min_run

    sys.setprofile(step_aside)  # this thread only
    try:
        return job(*args)
    finally:
        sys.setprofile(None)

"""Updates handled as tasks, at most a bounded number at once: for polling and the webhook alike.

``MAX_UPDATES_IN_FLIGHT`` bounds what a burst adds to memory: beyond it, the poller stops
fetching and a webhook request waits, so Telegram slows its deliveries instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


class UpdateTasks:
    """Starts each update's handling as a task once a slot is free; :meth:`drain` waits for them."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, handling: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Wait for a free slot, then run ``handling()`` as a task (in the caller's context)."""
        await self._slots.acquire()
        task = asyncio.create_task(handling())
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the tasks started so far to finish."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)

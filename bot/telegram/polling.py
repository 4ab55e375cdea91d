"""Long polling: take updates from ``getUpdates`` and start a task for each, a bounded number at once.

What aiogram's ``Dispatcher.start_polling`` does (offsets, backoff after failures, a limit on
updates in flight), with Telegram's answer left as JSON for :func:`~bot.telegram.incoming.read_update`
instead of being built into ``Update`` objects first. On stop, the updates already taken are
confirmed to Telegram, so a restart does not receive them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiogram import Bot
from aiogram.methods import GetUpdates
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.telegram.incoming import Incoming, Malformed, read_update
from bot.telegram.tasks import UpdateTasks

log = logging.getLogger("kyr_bot.polling")

# aiogram's own (Dispatcher's DEFAULT_BACKOFF_CONFIG): 1 s, growing by 1.3 up to 5 s.
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class GetRawUpdates(GetUpdates):
    """``getUpdates`` whose answer stays a list of JSON objects."""

    __returning__ = Any  # type: ignore[assignment]


class Poller:
    """Polls until :meth:`stop`; ``feed`` handles one update (and never raises)."""

    def __init__(self, bot: Bot, feed: Callable[[Incoming], Coroutine[Any, Any, None]], *,
                 allowed_updates: list[str], limit: int, timeout: int = 10,
                 backoff: BackoffConfig = BACKOFF) -> None:
        self.bot = bot
        self.feed = feed
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.offset: int | None = None
        self._tasks = UpdateTasks(limit)
        self._backoff = Backoff(backoff)
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Take updates and start their tasks until stopped; then confirm what was taken.

        The next ``getUpdates`` goes out as soon as a batch arrives, while its updates are
        started (each waits for a free slot): updates do not wait in Telegram's queue for a
        round trip after every batch. Telegram forgets a batch only when that next call
        reaches it, and every update of a batch received is started, even during a stop.
        """
        waiter = asyncio.create_task(self._stopping.wait())
        fetch = asyncio.create_task(self._fetch())
        try:
            while True:
                await asyncio.wait({fetch, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():  # stopped during the poll: what it brings is not taken
                    break
                items = fetch.result()
                if items is None:
                    await self._pause(waiter)
                    if self._stopping.is_set():
                        break
                    fetch = asyncio.create_task(self._fetch())
                    continue
                self._advance(items)
                if not self._stopping.is_set():
                    fetch = asyncio.create_task(self._fetch())
                await self._start(items)
                if self._stopping.is_set():
                    break
        finally:
            waiter.cancel()
            if not fetch.done():
                fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
        await self._confirm()

    def stop(self) -> None:
        """Stop taking updates (those taken are still handled)."""
        self._stopping.set()

    async def _fetch(self) -> list[Any] | None:
        """One ``getUpdates``: its items, or None after a failure (logged)."""
        try:
            items = await self.bot(GetRawUpdates(offset=self.offset, timeout=self.timeout,
                                                 allowed_updates=self.allowed_updates),
                                   request_timeout=int(self.bot.session.timeout + self.timeout))
        except Exception as exc:  # Telegram unreachable, a bad token...: keep trying, slower
            log.error("getUpdates failed error=%s retry_in=%.1f s", type(exc).__name__,
                      self._backoff.next_delay)
            return None
        if not isinstance(items, list):
            log.error("getUpdates answered without a list of updates retry_in=%.1f s",
                      self._backoff.next_delay)
            return None
        if self._backoff.counter:
            log.info("getUpdates works again after=%d failures", self._backoff.counter)
            self._backoff.reset()
        return items

    async def _pause(self, waiter: asyncio.Task[Any]) -> None:
        """Wait the backoff's next delay, or less if stopped meanwhile."""
        delay = next(self._backoff)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), delay)

    def _advance(self, items: list[Any]) -> None:
        """Move the offset past every update of a batch, readable or not."""
        for item in items:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                self.offset = max(self.offset or 0, update_id + 1)

    async def _start(self, items: list[Any]) -> None:
        """A task per readable update, at most ``limit`` running at once."""
        malformed = 0
        for item in items:
            try:
                incoming = read_update(item)
            except Malformed:
                malformed += 1
                continue
            await self._tasks.start(functools.partial(self.feed, incoming))
        if malformed:
            log.warning("ignored malformed updates count=%d", malformed)

    async def _confirm(self) -> None:
        """Tell Telegram the updates taken so far are done with (a short poll at the offset)."""
        if self.offset is None:
            return
        try:
            await self.bot(GetRawUpdates(offset=self.offset, timeout=0, limit=1,
                                         allowed_updates=self.allowed_updates))
        except Exception as exc:  # only means they may come again after a restart
            log.warning("could not confirm the last updates error=%s", type(exc).__name__)

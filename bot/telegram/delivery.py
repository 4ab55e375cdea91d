"""Getting messages to Telegram reliably: retries, per-chat pacing, a tolerant session.

- :class:`Retries` retries a Bot API call after 429 (waiting the full ``retry_after``,
  on every method, ``getUpdates`` too), after network errors and after 5xx answers (a proxy's
  HTML error page included), with exponential backoff.
- :class:`ChatPacer` paces new messages (per chat and overall) as token buckets; taps are never paced.
- :class:`TolerantSession` sends with those retries, and takes a proxy's HTML error page for
  the server error it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.telegram.methods import JsonRequests

log = logging.getLogger("kyr_bot.delivery")


class MakeRequest(Protocol[TelegramType]):
    """What sends one call: the session's ``make_request``."""

    def __call__(self, bot: Bot, method: TelegramMethod[TelegramType],
                 timeout: int | None = None) -> Awaitable[TelegramType]: ...


class Retries:
    """Retry Bot API calls that failed for reasons that pass: 429, network errors, 5xx."""

    def __init__(self, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 30.0) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay

    async def send(self, make_request: MakeRequest[TelegramType], bot: Bot,
                   method: TelegramMethod[TelegramType], timeout: int | None = None) -> TelegramType:
        """``make_request(bot, method, timeout)``, tried again as long as it is worth it."""
        if _is_polling(method):
            return await self._poll(make_request, bot, method, timeout)
        # A callback answer is useless after ~15 s: try it fewer times.
        attempts = 2 if isinstance(method, AnswerCallbackQuery) else self.attempts
        delay = self.base_delay
        for attempt in range(1, attempts + 1):
            try:
                return await make_request(bot, method, timeout)
            except TelegramRetryAfter as exc:
                if attempt == attempts:
                    raise
                # Waiting less than Telegram asked only earns another 429 and a longer ban.
                log.warning("telegram asked to slow down method=%s retry_after=%s",
                            method.__api_method__, exc.retry_after)
                await asyncio.sleep(float(exc.retry_after))
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt == attempts:
                    raise
                log.warning("telegram call failed method=%s error=%s attempt=%d",
                            method.__api_method__, type(exc).__name__, attempt)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _poll(make_request: MakeRequest[TelegramType], bot: Bot,
                    method: TelegramMethod[TelegramType], timeout: int | None) -> TelegramType:
        """getUpdates: wait as long as Telegram asks; other failures go to the poller's backoff."""
        while True:
            try:
                return await make_request(bot, method, timeout)
            except TelegramRetryAfter as exc:
                log.warning("telegram asked to slow down method=getUpdates retry_after=%s",
                            exc.retry_after)
                await asyncio.sleep(float(exc.retry_after))


class ChatPacer:
    """Paces new messages where Telegram limits them: per chat and for the whole bot.

    Telegram allows about one new message a second to one chat, with short bursts, and about
    30 a second overall. Each limit is a token bucket (kept as the time its budget is used up
    until, the "generic cell rate" form): a chat may get ``burst`` messages at once, then one
    every ``interval`` seconds; the bot may send ``global_burst`` at once, then
    ``global_rate`` a second. Edits of the message a button is on and callback answers are not
    paced at all: they answer a tap and Telegram does not limit them like new messages.
    """

    def __init__(self, interval: float = 1.0, burst: int = 3, global_rate: float = 30.0,
                 global_burst: int = 30, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.interval = interval
        self.burst = max(1, burst)
        self.global_interval = 1.0 / global_rate if global_rate > 0 else 0.0
        self.global_burst = max(1, global_burst)
        self._clock = clock
        self._sleep = sleep
        self._chats: dict[str, float] = {}  # key -> when the chat's bucket is full again
        self._all = 0.0

    def book(self, key: str) -> float:
        """Book the next new message to the chat behind ``key``; seconds to wait before sending."""
        if self.interval <= 0:
            return 0.0
        now = self._clock()
        chat_full = self._chats.get(key, now)
        slot = max(now, chat_full - (self.burst - 1) * self.interval)
        if self.global_interval > 0:
            slot = max(slot, self._all - (self.global_burst - 1) * self.global_interval)
            self._all = max(self._all, slot) + self.global_interval
        self._chats[key] = max(chat_full, slot) + self.interval
        if len(self._chats) > 10_000:  # a chat whose bucket is full again needs no entry
            self._chats = {k: v for k, v in self._chats.items() if v > now}
        return slot - now

    async def wait(self, key: str) -> None:
        """Sleep until a new message may go to the chat behind ``key`` (booking its slot)."""
        delay = self.book(key)
        if delay > 0:
            await self._sleep(delay)


class TolerantSession(JsonRequests):
    """An aiohttp session (JSON bodies) with retries, reading a proxy's error page as a 5xx.

    Malformed updates are the poller's to skip (``polling.py``): ``getUpdates`` is called as
    ``GetRawUpdates`` and its answer is left as JSON.

    Retries run in :meth:`__call__` itself, not as an aiogram request middleware: aiogram
    builds the middleware chain again for every call (partials and wrapper copies), and
    :class:`Retries` is the only one the bot has. Request middlewares registered with
    ``session.middleware(...)`` are therefore not called.
    """

    def __init__(self, retries: Retries | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retries = retries or Retries()

    async def __call__(self, bot: Bot, method: TelegramMethod[TelegramType],
                       timeout: int | None = None) -> TelegramType:
        """Send ``method``, retried as :class:`Retries` says."""
        return await self.retries.send(self.make_request, bot, method, timeout)

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        try:
            return super().check_response(bot, method, status_code, content)
        except ClientDecodeError as exc:
            if status_code >= 500 or status_code == 429:
                # Not Telegram's JSON but a proxy's error page (502/503/504 from nginx or a
                # load balancer): a server error like any other 5xx, so it is retried.
                raise TelegramServerError(method=method,
                                          message=f"HTTP {status_code} without a JSON body") from exc
            raise


def _is_polling(method: TelegramMethod[Any]) -> bool:
    """Whether ``method`` is ``getUpdates`` (a test that keeps the method's type for the checker)."""
    return isinstance(method, GetUpdates)

"""Getting messages to Telegram reliably: retries, per-chat pacing, a tolerant session.

- :class:`RetryMiddleware` retries a Bot API call after 429 (waiting the full ``retry_after``,
  on every method, ``getUpdates`` too), after network errors and after 5xx answers (a proxy's
  HTML error page included), with exponential backoff.
- :class:`ChatPacer` keeps at least ``interval`` seconds between messages to one chat.
- :class:`TolerantSession` drops malformed updates from ``getUpdates`` instead of letting one
  bad update stall polling for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update
from pydantic import ValidationError

log = logging.getLogger("kyr_bot.delivery")


class RetryMiddleware(BaseRequestMiddleware):
    """Retry Bot API calls that failed for reasons that pass: 429, network errors, 5xx."""

    def __init__(self, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 30.0) -> None:
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if _is_polling(method):
            return await self._poll(make_request, bot, method)
        # A callback answer is useless after ~15 s: try it fewer times.
        attempts = 2 if isinstance(method, AnswerCallbackQuery) else self.attempts
        delay = self.base_delay
        for attempt in range(1, attempts + 1):
            try:
                return await make_request(bot, method)
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
    async def _poll(make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                    method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        """getUpdates: wait as long as Telegram asks; other failures go to aiogram's backoff."""
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                log.warning("telegram asked to slow down method=getUpdates retry_after=%s",
                            exc.retry_after)
                await asyncio.sleep(float(exc.retry_after))


class ChatPacer:
    """Keeps messages to one chat at least ``interval`` seconds apart (Telegram's ~1/s)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}

    async def wait(self, key: str) -> None:
        """Sleep until a message may go to the chat behind ``key`` and book the slot."""
        if self.interval <= 0:
            return
        now = time.monotonic()
        slot = max(now, self._next.get(key, 0.0))
        self._next[key] = slot + self.interval
        if len(self._next) > 10_000:
            self._next = {k: v for k, v in self._next.items() if v > now}
        if slot > now:
            await asyncio.sleep(slot - now)


class TolerantSession(AiohttpSession):
    """An aiohttp session that replaces malformed updates in ``getUpdates`` by empty ones.

    The empty update keeps its ``update_id`` so polling moves past it; the dispatcher then
    ignores it. Nothing of its content is logged.
    """

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
            if not _is_polling(method):
                raise
            cleaned = self._clean_updates(bot, content)
            if cleaned is None:
                raise
            return super().check_response(bot, method, status_code, cleaned)

    def _clean_updates(self, bot: Bot, content: str) -> str | None:
        try:
            data: Any = self.json_loads(content)
            items = data["result"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(items, list):
            return None
        kept: list[Any] = []
        dropped = 0
        for item in items:
            try:
                Update.model_validate(item, context={"bot": bot})
                kept.append(item)
            except ValidationError:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                if isinstance(update_id, int):
                    kept.append({"update_id": update_id})
                dropped += 1
        log.warning("ignored malformed updates count=%d", dropped)
        return self.json_dumps({**data, "result": kept})


def _is_polling(method: TelegramMethod[Any]) -> bool:
    """Whether ``method`` is ``getUpdates`` (a test that keeps the method's type for the checker)."""
    return isinstance(method, GetUpdates)

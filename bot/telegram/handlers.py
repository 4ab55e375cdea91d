"""Thin Telegram handlers: turn an update into an engine action and hand it to the conversation.

Only private chats are served. Edited messages, channel posts, group messages and update
types we do not use are ignored. Every update is logged on one line with its timing, and
never with a chat id, user id, name or text.

Updates arrive as :class:`~bot.telegram.incoming.Incoming` (the fields the bot reads) from the
poller or the webhook, and :class:`UpdateHandler` calls the handler for their type directly.
aiogram's router tree would resolve each update through two outer middlewares, a router, its
observers, filters and each handler's signature: about 14 % of the bot's CPU per update
(sampled with py-spy during ``bench/run.py``), for a table of two entries.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot

from bot.conversation import actions
from bot.conversation.commands import parse_text
from bot.telegram.incoming import CALLBACK_QUERY, MESSAGE, Incoming
from bot.telegram.steps import CALLBACK_ANSWERED, LOG_FIELDS, Conversation, Origin

log = logging.getLogger("kyr_bot.updates")

# The update types the bot asks Telegram for (polling's and the webhook's allowed_updates).
USED_UPDATES = (MESSAGE, CALLBACK_QUERY)


def message_action(text: str | None) -> actions.Action:
    """The action a private message asks for: a command, words to search, or unsupported."""
    if text is None:
        return actions.Invalid("unsupported")
    return parse_text(text)


async def on_message(conversation: Conversation, bot: Bot, update: Incoming) -> bool:
    """A typed message in a private chat; False (ignored) anywhere else."""
    if not update.private or update.chat_id is None:
        return False
    await conversation.handle(bot, update.chat_id, update.language, message_action(update.text),
                              Origin(incoming=update.message_id, update_id=update.update_id))
    return True


async def on_button(conversation: Conversation, bot: Bot, update: Incoming) -> bool:
    """A button pressed on one of the bot's messages; outside a private chat only answered."""
    callback_id = update.callback_id
    assert callback_id is not None  # read_update requires it of a callback query
    if not update.private or update.chat_id is None:
        if not CALLBACK_ANSWERED.get():
            await bot.answer_callback_query(callback_id)
        return False
    await conversation.handle(bot, update.chat_id, update.language, actions.decode(update.data),
                              Origin(callback_id, update.message_id, update_id=update.update_id))
    return True


class InFlight:
    """Counts updates being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # The same, for a thread: a reload's builder steps aside while it is clear (courtesy.py).
        self.quiet = threading.Event()
        self.quiet.set()

    def enter(self) -> None:
        """An update started."""
        self.count += 1
        self._idle.clear()
        self.quiet.clear()

    def leave(self) -> None:
        """An update finished."""
        self.count -= 1
        if self.count == 0:
            self._idle.set()
            self.quiet.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until no update is in flight; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


async def logged(in_flight: InFlight, kind: str, handle: Callable[[], Awaitable[bool]]) -> None:
    """Run one update's handler: time it, log one line, and never let an error escape."""
    fields: dict[str, Any] = {}
    token = LOG_FIELDS.set(fields)
    in_flight.enter()
    started = time.perf_counter()
    status = "ok"
    try:
        if not await handle():
            status = "ignored"
    except Exception as exc:  # the bot never crashes on a user
        status = "error"
        fields["error"] = type(exc).__name__
        # Only the type and where it happened: an exception's message or a traceback's values
        # may quote what the user typed, which must never reach the log.
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        log.error("update failed type=%s error=%s at=%s", kind, type(exc).__name__, where)
    finally:
        in_flight.leave()
        LOG_FIELDS.reset(token)
    if status == "ok" and not fields:
        status = "ignored"
    extra = " ".join(f"{k}={v}" for k, v in fields.items())
    log.info("update type=%s status=%s ms=%.1f %s", kind, status,
             (time.perf_counter() - started) * 1000, extra)


async def _ignored() -> bool:
    return False


class UpdateHandler:
    """Routes each update straight to the bot's handler for its type, logged and contained."""

    def __init__(self, conversation: Conversation, in_flight: InFlight) -> None:
        self.conversation = conversation
        self.in_flight = in_flight

    async def feed(self, bot: Bot, update: Incoming) -> None:
        """Handle one update (from polling or the webhook); never raises."""
        conversation = self.conversation
        if update.kind == CALLBACK_QUERY:
            await logged(self.in_flight, CALLBACK_QUERY, lambda: on_button(conversation, bot, update))
        elif update.kind == MESSAGE:
            await logged(self.in_flight, MESSAGE, lambda: on_message(conversation, bot, update))
        else:  # edited messages, channel posts...: not asked for, ignored if they come
            await logged(self.in_flight, update.kind, _ignored)

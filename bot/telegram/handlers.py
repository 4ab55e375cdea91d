"""Thin Telegram handlers: turn an update into an engine action and hand it to the conversation.

Only private chats are served. Edited messages, channel posts, group messages and update
types we do not use are ignored. Every update is logged on one line with its timing, and
never with a chat id, user id, name or text.

:class:`BotDispatcher` keeps aiogram's ``Dispatcher`` for what it does well (long polling,
offsets, backoff, start-up and shutdown hooks) but calls the bot's two handlers directly. The
router tree would resolve each update through two outer middlewares, a router, its observers,
filters and each handler's signature: about a tenth of the bot's CPU per update
(``bench/run.py --profile``), for a table of two entries.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, Update, User

from bot.conversation import actions
from bot.conversation.commands import parse_text
from bot.telegram.steps import CALLBACK_ANSWERED, LOG_FIELDS, Conversation, Origin

log = logging.getLogger("kyr_bot.updates")

# The update types the bot asks Telegram for (polling's and the webhook's allowed_updates).
USED_UPDATES = ("message", "callback_query")


def message_action(message: Message) -> actions.Action:
    """The action a private message asks for: a command, words to search, or unsupported."""
    text = message.text
    if text is None:
        return actions.Invalid("unsupported")
    return parse_text(text)


def _language(user: User | None) -> str | None:
    return user.language_code if user is not None else None


async def on_message(conversation: Conversation, bot: Bot, message: Message, update_id: int) -> bool:
    """A typed message in a private chat; False (ignored) anywhere else."""
    if message.chat.type != ChatType.PRIVATE:
        return False
    await conversation.handle(bot, message.chat.id, _language(message.from_user),
                              message_action(message),
                              Origin(incoming=message.message_id, update_id=update_id))
    return True


async def on_button(conversation: Conversation, bot: Bot, query: CallbackQuery, update_id: int) -> bool:
    """A button pressed on one of the bot's messages; outside a private chat only answered."""
    message = query.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        if not CALLBACK_ANSWERED.get():
            await bot.answer_callback_query(query.id)
        return False
    await conversation.handle(bot, message.chat.id, _language(query.from_user),
                              actions.decode(query.data),
                              Origin(query.id, message.message_id, update_id=update_id))
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


def update_kind(update: Update) -> str:
    """The update's type (``message``, ``callback_query``...), or ``unknown``."""
    try:
        return update.event_type
    except LookupError:
        return "unknown"


async def _ignored() -> bool:
    return False


class BotDispatcher(Dispatcher):
    """aiogram's dispatcher, routing each update straight to the bot's handler for its type."""

    def __init__(self, conversation: Conversation, in_flight: InFlight) -> None:
        # Sessions live in the store: aiogram's FSM would only keep a record per chat and user
        # in memory, never freed.
        super().__init__(disable_fsm=True)
        self.conversation = conversation
        self.in_flight = in_flight

    async def feed_update(self, bot: Bot, update: Update, **kwargs: Any) -> None:
        """Handle one update (polling and the webhook both come here); nothing is returned."""
        conversation = self.conversation
        update_id = update.update_id
        if (query := update.callback_query) is not None:
            await logged(self.in_flight, "callback_query",
                         lambda: on_button(conversation, bot, query, update_id))
        elif (message := update.message) is not None:
            await logged(self.in_flight, "message",
                         lambda: on_message(conversation, bot, message, update_id))
        else:  # edited messages, channel posts, an empty update left by a malformed one...
            await logged(self.in_flight, update_kind(update), _ignored)

    def resolve_used_update_types(self, skip_events: set[str] | None = None) -> list[str]:
        """The update types the bot handles, for ``allowed_updates``."""
        return [kind for kind in USED_UPDATES if not skip_events or kind not in skip_events]


def build_dispatcher(conversation: Conversation, in_flight: InFlight) -> BotDispatcher:
    """The dispatcher that serves the bot's updates."""
    return BotDispatcher(conversation, in_flight)

"""Thin aiogram handlers: turn an update into an engine action and hand it to the conversation.

Only private chats are served. Edited messages, channel posts, group messages and update
types we do not use are ignored. Every update is logged on one line with its timing, and
never with a chat id, user id, name or text.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from bot.conversation import actions
from bot.conversation.commands import parse_text
from bot.telegram.steps import CALLBACK_ANSWERED, LOG_FIELDS, Conversation, Origin

log = logging.getLogger("kyr_bot.updates")

def message_action(message: Message) -> actions.Action:
    """The action a private message asks for: a command, words to search, or unsupported."""
    text = message.text
    if text is None:
        return actions.Invalid("unsupported")
    return parse_text(text)


def _language(user: User | None) -> str | None:
    return user.language_code if user is not None else None


async def in_private_chat(message: Message) -> bool:
    """Whether a message was sent in a private chat with the bot."""
    # A coroutine, not ``F.chat.type == ...``: aiogram runs a plain function or magic filter in
    # a thread (``asyncio.to_thread``), a hop per typed message for one comparison.
    return message.chat.type == ChatType.PRIVATE


def build_router(conversation: Conversation) -> Router:
    """The router with the message and button handlers."""
    router = Router(name="kyr-bot")

    @router.message(in_private_chat)
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        await conversation.handle(bot, message.chat.id, _language(message.from_user),
                                  message_action(message),
                                  Origin(incoming=message.message_id, update_id=event_update.update_id))

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        message = query.message
        if message is None or message.chat.type != ChatType.PRIVATE:
            if not CALLBACK_ANSWERED.get():
                await bot.answer_callback_query(query.id)
            return
        await conversation.handle(bot, message.chat.id, _language(query.from_user),
                                  actions.decode(query.data),
                                  Origin(query.id, message.message_id, update_id=event_update.update_id))

    return router


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


def update_logger(in_flight: InFlight) -> Callable[..., Awaitable[Any]]:
    """Outer middleware: time each update, log one line, and never let an error escape."""

    async def middleware(handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                         event: TelegramObject, data: dict[str, Any]) -> Any:
        fields: dict[str, Any] = {}
        token = LOG_FIELDS.set(fields)
        in_flight.enter()
        started = time.perf_counter()
        kind = _safe_kind(event)
        result: Any = None
        status = "ok"
        try:
            result = await handler(event, data)
        except Exception as exc:  # the bot never crashes on a user
            status = "error"
            fields["error"] = type(exc).__name__
            # Only the type and where it happened: an exception's message or a traceback's
            # values may quote what the user typed, which must never reach the log.
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
        return result

    return middleware


def _safe_kind(event: TelegramObject) -> str:
    try:
        return event.event_type if isinstance(event, Update) else type(event).__name__
    except LookupError:
        return "unknown"


def build_dispatcher(conversation: Conversation, in_flight: InFlight) -> Dispatcher:
    """A dispatcher with the router and the logging middleware."""
    # Sessions live in the store: aiogram's FSM would only add a middleware per update and keep
    # a record per chat and user in memory, never freed.
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.update.outer_middleware(update_logger(in_flight))
    dispatcher.include_router(build_router(conversation))
    return dispatcher

"""One user step on Telegram: load the anonymous session, run the engine, save, deliver.

Handlers call :meth:`Conversation.handle` with an engine action; nothing here branches on
node ids or holds legal wording. Steps of one session are serialised in this process, and
across replicas by the store (a lock on PostgreSQL, the revision check everywhere).

The user always gets an answer: when storage fails, when a step keeps losing races, or when
Telegram keeps failing after every retry, they are told (in their language) to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import DeleteMessages
from aiogram.types import BufferedInputFile

from bot.conversation import actions
from bot.conversation.engine import Engine
from bot.conversation.screen import Effect, Screen, ScreenKind
from bot.conversation.state import State
from bot.store.cache import SessionCache
from bot.store.health import StorageHealth, storage_errors
from bot.store.keys import SessionKeyer
from bot.store.rows import AlreadyApplied
from bot.store.sessions import SessionStore
from bot.telegram.delivery import ChatPacer
from bot.telegram.methods import EditText, SendText, keyboard_json
from bot.words.i18n import N_

log = logging.getLogger("kyr_bot.conversation")

# Facts about the update being handled, for the one log line per update (never ids or text).
LOG_FIELDS: ContextVar[dict[str, Any] | None] = ContextVar("kyr_log_fields", default=None)
SAVE_ATTEMPTS = 5
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids per call
TRY_AGAIN = N_("Sorry, something went wrong on our side. Your answers so far are safe. "
               "Please try again in a minute.")
PRESS_AGAIN = N_("Sorry, too many presses arrived at once and this one was not saved. "
                 "Please press the button again.")
DELIVERY_ERRORS = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


# True while handling an update whose callback query the webhook's HTTP answer already answers.
CALLBACK_ANSWERED: ContextVar[bool] = ContextVar("kyr_callback_answered", default=False)


class SessionBusy(Exception):
    """A step lost the race to save its session every time: nothing was saved."""


def note(**fields: Any) -> None:
    """Add fields to this update's log line."""
    current = LOG_FIELDS.get()
    if current is not None:
        current.update(fields)


@dataclass(frozen=True)
class Origin:
    """Where the action came from: a typed message, or a button on a message."""

    callback_id: str | None = None
    message_id: int | None = None  # the bot message whose button was pressed
    incoming: int | None = None  # the person's own message, remembered only so /forget deletes it
    update_id: int | None = None  # Telegram's, to apply an update delivered twice only once


class KeyedLocks:
    """One asyncio lock per session key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock for ``key`` for the duration of the block."""
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


@dataclass
class Runtime:
    """What the handlers need; ``engine`` is swapped atomically when content is reloaded."""

    engine: Engine
    store: SessionStore
    keyer: SessionKeyer
    pacer: ChatPacer
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    sessions: SessionCache = field(default_factory=SessionCache)
    clock: Callable[[], float] = time.time  # wall clock: Telegram's 48-hour limit on deleting
    health: StorageHealth = field(default_factory=StorageHealth)

    def minute(self) -> int:
        """The current minute, the precision message send times are kept at."""
        return int(self.clock() // 60)


class Conversation:
    """Runs one action for one chat and delivers the resulting screen."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle(self, bot: Bot, chat_id: int, language_code: str | None, action: actions.Action,
                     origin: Origin) -> None:
        """Step the chat's session with ``action`` and show the result."""
        note(action=type(action).__name__)
        # The tap is answered at once, alongside the step, not before it: the spinner stops
        # and the edit leaves one round trip to Telegram sooner.
        answer = None
        if origin.callback_id is not None and not CALLBACK_ANSWERED.get():
            answer = asyncio.create_task(self._answer_callback(bot, origin.callback_id))
        try:
            await self._handle(bot, chat_id, language_code, action, origin)
        finally:
            if answer is not None:
                await answer

    async def _handle(self, bot: Bot, chat_id: int, language_code: str | None,
                      action: actions.Action, origin: Origin) -> None:
        """The step and the delivery of its screen (``handle`` answers the tap)."""
        key = self.runtime.keyer.key(chat_id)
        try:
            async with self.runtime.locks.hold(key), self.runtime.store.hold(key, origin.update_id):
                old, state, screen = await self._step(key, language_code, action, origin)
        except AlreadyApplied:  # Telegram delivered this update again: it was shown already
            note(outcome="repeat")
            return
        except SessionBusy:
            self.runtime.sessions.drop(key)
            note(outcome="busy")
            await self._apologise(bot, chat_id, key, language_code, PRESS_AGAIN)
            return
        except storage_errors() as exc:
            self.runtime.sessions.drop(key)  # what it holds may never have been committed
            note(storage=self.runtime.health.failed(exc))
            await self._apologise(bot, chat_id, key, language_code, TRY_AGAIN)
            return
        self.runtime.health.worked()
        note(lang=state.lang, node=state.node, screen=screen.kind)
        try:
            if screen.effect is Effect.DELETE_SESSION:
                await self._forget(bot, chat_id, key, old, screen, origin)
                return
            if old.aside == ScreenKind.SHEET:  # a press under the summary: keep the summary
                origin = Origin(origin.callback_id, None, origin.incoming)
            sent = await self._deliver(bot, chat_id, key, screen, origin, state)
        except DELIVERY_ERRORS as exc:  # every retry failed: the step is saved, the screen not shown
            note(outcome="undelivered", error=type(exc).__name__)
            await self._apologise(bot, chat_id, key, state.lang, TRY_AGAIN)
            return
        if sent:
            try:
                await self._remember(key, sent)
            except storage_errors() as exc:  # the screen is shown; only /forget's list misses it
                note(storage=self.runtime.health.failed(exc))

    async def _apologise(self, bot: Bot, chat_id: int, key: str, language: str | None,
                         msgid: str) -> None:
        """Tell the user, in their language, that this step did not go through."""
        engine = self.runtime.engine
        cached = self.runtime.sessions.get(key)
        lang = cached[0].lang if cached is not None else engine.new_state(language).lang
        try:
            await self.runtime.pacer.wait(key)
            await bot(SendText(chat_id=chat_id, text=engine.i18n.gettext(lang, msgid)))
            note(apology="sent")
        except (*DELIVERY_ERRORS, TelegramBadRequest, TelegramForbiddenError) as exc:
            note(apology=type(exc).__name__)  # nothing can reach them now

    async def _step(self, key: str, language_code: str | None, action: actions.Action,
                    origin: Origin) -> tuple[State, State, Screen]:
        """The state before, the state after and the screen; the session saved or deleted."""
        engine = self.runtime.engine
        store = self.runtime.store
        cache = self.runtime.sessions
        received = [origin.incoming] if origin.incoming is not None else []
        for _attempt in range(SAVE_ATTEMPTS):
            state, rev = await self._load(key, language_code)
            new_state, screen = engine.step(state, action)
            if screen.effect is Effect.DELETE_SESSION:
                cache.drop(key)
                await store.delete(key)
                store.count(state.lang, state.node, "stop")
                return state, new_state, screen
            new_state = new_state.with_messages(received, self.runtime.minute())
            if await store.save(key, new_state.to_dict(), rev):
                cache.put(key, new_state, rev + 1)
                if screen.kind is ScreenKind.NODE and screen.node:
                    store.count(new_state.lang, screen.node)
                elif screen.kind is ScreenKind.SEARCH_NONE:
                    store.count_search_miss(new_state.lang)  # language and day only, never the words
                return state, new_state, screen
            cache.drop(key)  # another step or replica saved first: read it again
            note(conflict=True)
        raise SessionBusy  # never show a step that was not saved

    async def _remember(self, key: str, sent: list[int]) -> None:
        """Add the ids of messages just sent to the session, so /forget can delete them."""
        store = self.runtime.store
        async with self.runtime.locks.hold(key):
            for _attempt in range(SAVE_ATTEMPTS):
                cached = self.runtime.sessions.get(key)
                if cached is not None:
                    state, rev = cached
                else:
                    data, rev = await store.load(key)
                    if data is None:
                        return  # no session (deleted meanwhile): nothing to add to
                    try:
                        state = State.from_dict(data)
                    except ValueError:
                        return
                new_state = state.with_messages(sent, self.runtime.minute())
                if await store.save(key, new_state.to_dict(), rev):
                    self.runtime.sessions.put(key, new_state, rev + 1)
                    return
                self.runtime.sessions.drop(key)

    async def _forget(self, bot: Bot, chat_id: int, key: str, old: State, screen: Screen,
                      origin: Origin) -> None:
        """Delete the chat's messages Telegram still allows, then say what was and was not."""
        ids, older = old.deletable(self.runtime.minute())
        if origin.incoming is not None and origin.incoming not in ids:
            ids.append(origin.incoming)
        deleted = 0
        for start in range(0, len(ids), DELETE_BATCH):
            batch = ids[start:start + DELETE_BATCH]
            try:
                if await bot(DeleteMessages(chat_id=chat_id, message_ids=batch)):
                    deleted += len(batch)
                else:
                    older += len(batch)
            except TelegramForbiddenError:
                note(outcome="blocked")
                return
            except TelegramAPIError as exc:  # refused or unreachable: say so, never crash
                note(delete_failed=type(exc).__name__)
                older += len(batch)
        note(deleted=deleted, not_deleted=older)
        report = self.runtime.engine.forget_report(old.lang, deleted, older)
        screen = replace(screen, text=f"{screen.text}\n\n{report}")
        # Always a new message: the one pressed may just have been deleted.
        await self._deliver(bot, chat_id, key, screen, Origin(origin.callback_id), old)

    async def _load(self, key: str, language_code: str | None) -> tuple[State, int]:
        """The session's state and revision: from memory if cached, else from the store."""
        cached = self.runtime.sessions.get(key)
        if cached is not None:
            return cached
        data, rev = await self.runtime.store.load(key)
        if data is not None:
            try:
                return State.from_dict(data), rev
            except ValueError:
                note(state="unreadable")
        return self.runtime.engine.new_state(language_code), rev

    async def _answer_callback(self, bot: Bot, callback_id: str) -> None:
        try:
            await bot.answer_callback_query(callback_id)
        except TelegramBadRequest:  # "query is too old": the press is still handled
            note(callback="too-old")
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
            note(callback=type(exc).__name__)  # only stops the spinner: go on with the step

    async def _deliver(self, bot: Bot, chat_id: int, key: str, screen: Screen, origin: Origin,
                       state: State) -> list[int]:
        """Show the screen (an edit when possible); the ids of the new messages sent."""
        markup = keyboard_json(screen.rows)
        sent: list[int] = []
        try:
            # Editing the message a button is on answers a tap: never paced. New messages are.
            if (origin.message_id is not None and screen.effect is not Effect.ATTACH_SHEET
                    and await self._edit(bot, chat_id, origin.message_id, screen.text, markup)):
                note(outcome="edit")
                return sent
            await self.runtime.pacer.wait(key)
            answer = await bot(SendText(chat_id=chat_id, text=screen.text, reply_markup=markup))
            sent.append(_message_id(answer))
            note(outcome="send")
            if screen.effect is Effect.ATTACH_SHEET:
                name, content, caption = self.runtime.engine.sheet.document(
                    state.lang, state.facts, reviews=self.runtime.engine.reviews(state))
                await self.runtime.pacer.wait(key)
                document = await bot.send_document(
                    chat_id, BufferedInputFile(content, filename=name), caption=caption)
                sent.append(document.message_id)
                note(document=True)
        except TelegramForbiddenError:  # the user blocked the bot
            note(outcome="blocked")
        return [i for i in sent if i > 0]

    async def _edit(self, bot: Bot, chat_id: int, message_id: int, text: str,
                    markup: str | None) -> bool:
        """Edit in place; False when the message is gone or too old, so a new one is sent."""
        try:
            await bot(EditText(text=text, chat_id=chat_id, message_id=message_id,
                               reply_markup=markup))
            return True
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                note(outcome="unchanged")
                return True
            note(edit_failed=_reason(exc.message))
            return False


def _message_id(answer: Any) -> int:
    """The message id in Telegram's answer to sendMessage (kept as plain JSON); 0 if absent."""
    try:
        return int(answer["message_id"])
    except (KeyError, TypeError, ValueError):
        return 0


def _reason(message: str) -> str:
    text = message.lower()
    for reason in ("not found", "can't be edited", "too old"):
        if reason in text:
            return reason.replace(" ", "-").replace("'", "")
    return "other"

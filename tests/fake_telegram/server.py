"""A fake Telegram Bot API server for tests.

The real aiogram client talks HTTP to this server on 127.0.0.1 instead of api.telegram.org.
It answers like Telegram (same JSON shapes, same refusals and wording), records every call,
keeps a per-chat message store, lets a test play a user (send text, press buttons), and can
inject faults (429, 5xx, dropped connections, delays).

Refusals that mean the bot did something Telegram never accepts (bad HTML, too long text,
bad callback data...) land in ``violations``; refusals a well-behaved bot still meets and
must handle ("message is not modified", "query is too old", "chat not found"...) land in
``expected_errors``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bot.content.telegram_html import (
    MAX_BUTTON_CHARS,
    MAX_CALLBACK_BYTES,
    telegram_length,
    validate_html,
)
from fake_telegram.entities import byte_offset, html_to_entities
from fake_telegram.methods import BotApiMethods
from fake_telegram.records import ApiError, BotMessage, Call, CallbackRecord, Fault, Outgoing, UploadedFile
from fake_telegram.rules import (
    BLOCKED,
    BUTTON_ACTIONS,
    BUTTON_DATA_INVALID,
    BUTTON_NO_ACTION,
    BUTTON_TEXT_EMPTY,
    CAPTION_TOO_LONG,
    CHAT_NOT_FOUND,
    EDIT_NOT_FOUND,
    MAX_UPLOAD_BYTES,
    METHOD_NOT_FOUND,
    TEXT_EMPTY,
    TOKEN_PATTERN,
    TOO_LONG,
    canonical,
    normalise,
)
from fake_telegram.updates import UpdatesMixin
from fake_telegram.users import FakeUser


class LocalAiohttpSession(AiohttpSession):
    """aiogram's AiohttpSession; ``close()`` skips its 250 ms SSL grace sleep (plain HTTP)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegram(UpdatesMixin, BotApiMethods):
    """A local Bot API server; point aiogram at ``TelegramAPIServer.from_base(base_url)``."""

    def __init__(
        self,
        *,
        callback_ttl: float = 15.0,
        bot_first_name: str = "KyR Test Bot",
        bot_username: str = "kyr_test_bot",
    ) -> None:
        self.callback_ttl = callback_ttl
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.bot_id = 123456
        self.requests: list[Call] = []
        self.violations: list[tuple[str, str]] = []
        self.expected_errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.store: dict[int, dict[int, BotMessage]] = {}
        self.outbox: dict[int, list[Outgoing]] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.my_commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.filtered_updates: list[dict[str, Any]] = []
        self.delivered_webhooks: list[tuple[str, dict[str, Any], int]] = []
        self._users: dict[int, FakeUser] = {}
        self._user_messages: dict[int, set[int]] = {}
        self._user_message_dates: dict[int, dict[int, int]] = {}
        self.clock_offset = 0.0  # seconds added to the wall clock: advance() makes time pass
        self.descriptions: dict[str, str] = {}  # setMyDescription, by language ("" = default)
        self.short_descriptions: dict[str, str] = {}
        self.deleted: dict[int, list[int]] = {}  # ids deleteMessages deleted, per chat
        self._deleted_user_messages: dict[int, set[int]] = {}
        self._next_message_id: dict[int, int] = {}
        self._send_times: dict[int, list[float]] = {}
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 0
        self._allowed_updates: list[str] | None = None
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._files: dict[str, UploadedFile] = {}
        self._faults: dict[str, list[Fault]] = {}
        self._changed = asyncio.Event()
        self._poll_owner: object | None = None
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods: dict[str, Callable[[Call], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
            "close": lambda call: True,
            "logOut": lambda call: True,
        }
        self._canonical_names = {name.lower(): name for name in self._methods}

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """Base for ``TelegramAPIServer.from_base``, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api(self) -> TelegramAPIServer:
        """The aiogram API server description pointing at this fake."""
        return TelegramAPIServer.from_base(self.base_url)

    def session(self, **kwargs: Any) -> AiohttpSession:
        """A real aiogram HTTP session aimed at this fake (closes without the 250 ms sleep)."""
        return LocalAiohttpSession(api=self.api, **kwargs)

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's User object as getMe returns it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ----------------------------------------------------------------- queries for tests

    def now(self) -> int:
        """Telegram's clock (Unix seconds), moved on by :meth:`advance`."""
        return int(time.time() + self.clock_offset)

    def advance(self, seconds: float) -> None:
        """Make ``seconds`` pass for Telegram (message ages, the 48-hour deletion limit)."""
        self.clock_offset += seconds

    def user_message_deleted(self, chat_id: int, message_id: int) -> bool:
        """Whether the bot deleted this message the user sent."""
        return message_id in self._deleted_user_messages.get(chat_id, set())

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Recorded requests, optionally only one method and/or one chat."""
        return [
            c
            for c in self.requests
            if (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
        ]

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """Bot messages in a chat, oldest first, in their current state."""
        msgs = sorted(self.store.get(chat_id, {}).values(), key=lambda m: m.message_id)
        return [m for m in msgs if include_deleted or not m.deleted]

    def documents(self, chat_id: int | None = None) -> list[BotMessage]:
        """Document messages the bot sent (all chats or one)."""
        chats = [chat_id] if chat_id is not None else list(self.store)
        return [m for c in chats for m in self.messages(c) if m.document or m.file_id]

    def send_times(self, chat_id: int) -> list[float]:
        """Monotonic times of successful sends/edits to a chat."""
        return list(self._send_times.get(chat_id, []))

    def min_gap(self, chat_id: int) -> float | None:
        """Smallest time between two consecutive sends/edits to a chat (None if < 2)."""
        times = self._send_times.get(chat_id, [])
        return min((b - a for a, b in itertools.pairwise(times)), default=None)

    def commands(
        self, language_code: str = "", scope: dict[str, Any] | None = None
    ) -> list[dict[str, Any]] | None:
        """Commands stored by setMyCommands for a language and scope (None if unset)."""
        return self.my_commands.get((canonical(scope or {"type": "default"}), language_code))

    def unanswered_callbacks(self) -> list[CallbackRecord]:
        """Callback queries the bot never answered."""
        return [c for c in self.callbacks.values() if not c.answered]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Queued updates the bot has not yet confirmed."""
        return list(self._updates)

    # ----------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
        body: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with an error.

        ``body`` replaces the JSON answer with raw text (e.g. an nginx HTML error page).
        """
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                403: BLOCKED,
            }.get(status) or HTTPStatus(status).phrase
            if status == 400:
                description = "Bad Request"
        fault = Fault(
            "fail",
            status=status,
            retry_after=retry_after if status == 429 else None,
            description=description,
            body=body,
        )
        self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` calls of ``method``."""
        self._faults.setdefault(method.lower(), []).extend([Fault("drop")] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before handling them."""
        self._faults.setdefault(method.lower(), []).extend([Fault("delay", seconds=seconds)] * times)

    def _take_fault(self, method: str) -> Fault | None:
        for key in (method.lower(), "*"):
            queue = self._faults.get(key)
            if queue:
                return queue.pop(0)
        return None

    # ----------------------------------------------------------------- HTTP plumbing

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    @staticmethod
    async def _wait(event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("JSON body is not an object")
                params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
                    else:
                        params[key] = value
        return normalise(params)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        raw = request.match_info["method"]
        method = self._canonical_names.get(raw.lower(), raw)
        polling = method == "getUpdates"
        if not polling:
            self._inflight += 1
            self._touch()
        try:
            try:
                params = await self._read_params(request)
            except (ValueError, web.HTTPException):
                params = {}
                bad_body = True
            else:
                bad_body = False
            chat_id = params.get("chat_id")
            call = Call(method, params, time.monotonic(), chat_id)
            call.content_type = request.content_type if request.body_exists else ""
            self.requests.append(call)
            if not TOKEN_PATTERN.match(token):
                return self._error(call, ApiError(401, "Unauthorized"))
            self.bot_id = int(token.split(":", 1)[0])
            if bad_body:
                return self._error(call, ApiError(400, "Bad Request: can't parse request body"))
            fault = self._take_fault(method)
            if fault is not None:
                call.fault = fault.kind
                if fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                elif fault.kind == "drop":
                    call.status, call.description = 0, "connection dropped"
                    if request.transport is not None:
                        request.transport.abort()
                    raise asyncio.CancelledError
                else:
                    return self._fault_response(call, fault)
            call.alive = lambda: request.transport is not None and not request.transport.is_closing()
            status, body = await self._run(call)
            return web.json_response(body, status=status)
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()

    def _error(self, call: Call, error: ApiError) -> web.Response:
        _, body = self._record_error(call, error)
        return web.json_response(body, status=error.status)

    def _fault_response(self, call: Call, fault: Fault) -> web.Response:
        call.status, call.description = fault.status, fault.description
        if fault.body is not None:
            return web.Response(text=fault.body, status=fault.status, content_type="text/html")
        body: dict[str, Any] = {
            "ok": False,
            "error_code": fault.status,
            "description": fault.description,
        }
        if fault.retry_after is not None:
            body["parameters"] = {"retry_after": fault.retry_after}
        return web.json_response(body, status=fault.status)

    def _record_error(self, call: Call, error: ApiError) -> tuple[int, dict[str, Any]]:
        call.status, call.description = error.status, error.description
        target = self.expected_errors if error.expected else self.violations
        target.append((call.method, error.description))
        body = {"ok": False, "error_code": error.status, "description": error.description}
        return error.status, body

    async def _run(self, call: Call) -> tuple[int, dict[str, Any]]:
        handler = self._methods.get(call.method)
        try:
            if handler is None:
                raise ApiError(404, METHOD_NOT_FOUND)
            result = handler(call)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return self._record_error(call, error)
        call.result = result
        return 200, {"ok": True, "result": result}

    # ----------------------------------------------------------------- validation helpers

    def _chat(self, params: dict[str, Any]) -> int:
        """The chat_id of a send, refusing unknown and blocked chats."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            found = [cid for cid, c in self.chats.items() if f"@{c.get('username', '')}" == chat_id]
            if not found:
                raise ApiError(400, CHAT_NOT_FOUND, expected=True)
            chat_id = found[0]
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED, expected=True)
        if chat_id not in self.chats:
            raise ApiError(400, CHAT_NOT_FOUND, expected=True)
        return int(chat_id)

    def _render(
        self, text: Any, parse_mode: str | None, entities: Any, limit: int, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """Check text like Telegram and return (plain, entities)."""
        text = "" if text is None else str(text)
        if parse_mode and parse_mode.lower() == "html":
            problems = validate_html(text)
            if problems:
                p = problems[0]
                raise ApiError(
                    400,
                    f"Bad Request: can't parse entities: {p.message} "
                    f"at byte offset {byte_offset(text, p.offset)}",
                )
            plain, ents = html_to_entities(text)
        else:
            plain, ents = text, entities if isinstance(entities, list) else []
        if not caption and not plain.strip():
            raise ApiError(400, TEXT_EMPTY)
        if telegram_length(plain) > limit:
            raise ApiError(400, CAPTION_TOO_LONG if caption else TOO_LONG)
        return plain, ents

    def _markup(self, method: str, markup: Any) -> dict[str, Any] | None:
        """Check reply_markup like Telegram; returns it decoded."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
                "should be an Array of Arrays",
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button")
                label = button.get("text")
                if not isinstance(label, str) or not label.strip():
                    raise ApiError(400, BUTTON_TEXT_EMPTY)
                if not any(button.get(k) is not None for k in BUTTON_ACTIONS):
                    raise ApiError(400, BUTTON_NO_ACTION)
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES:
                        raise ApiError(400, BUTTON_DATA_INVALID)
                if "url" in button and (not isinstance(button["url"], str) or not button["url"].strip()):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
                if len(label) > MAX_BUTTON_CHARS:
                    self.warnings.append(
                        (method, f"button label longer than {MAX_BUTTON_CHARS} chars: {label!r}")
                    )
        return markup

    def _message_dict(self, msg: BotMessage) -> dict[str, Any]:
        """The Message object Telegram returns for a bot message."""
        out: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user,
            "chat": self.chats.get(msg.chat_id, {"id": msg.chat_id, "type": "private"}),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            out["edit_date"] = msg.edit_date
        if msg.file_id is not None:
            doc = msg.document
            out["document"] = {
                "file_id": msg.file_id,
                "file_unique_id": f"AgAD{msg.file_id}",
                **(
                    {"file_name": doc.filename, "mime_type": doc.content_type, "file_size": len(doc.data)}
                    if doc is not None
                    else {}
                ),
            }
            if msg.plain:
                out["caption"] = msg.plain
                if msg.entities:
                    out["caption_entities"] = msg.entities
        else:
            out["text"] = msg.plain
            if msg.entities:
                out["entities"] = msg.entities
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            out["reply_markup"] = msg.reply_markup
        return out

    def _record_out(self, event: str, msg: BotMessage) -> None:
        now = time.monotonic()
        self._send_times.setdefault(msg.chat_id, []).append(now)
        snapshot = dataclasses.replace(
            msg, entities=list(msg.entities), reply_markup=json.loads(canonical(msg.reply_markup))
        )
        self.outbox.setdefault(msg.chat_id, []).append(Outgoing(event, snapshot, now))
        self._notify()

    def _find_for_edit(self, params: dict[str, Any]) -> BotMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, EDIT_NOT_FOUND, expected=True)
        chat_id = self._chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        msg = self.store.get(chat_id, {}).get(message_id)
        if (
            msg is None
            and message_id in self._user_messages.get(chat_id, set())
            and (message_id not in self._deleted_user_messages.get(chat_id, set()))
        ):
            raise ApiError(400, "Bad Request: message can't be edited")
        if msg is None or msg.deleted:
            raise ApiError(400, EDIT_NOT_FOUND, expected=True)
        return msg


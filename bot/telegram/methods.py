"""Bot API methods for the hot path: keyboards sent ready-serialised, answers left as JSON.

For every ``sendMessage`` and ``editMessageText`` aiogram walks the keyboard's objects to
serialise them, then builds a ``Message`` (about a dozen pydantic objects with our keyboards)
from Telegram's answer. The bot uses neither the objects nor the answer, so :class:`SendText`
and :class:`EditText` take the keyboard as the JSON text Telegram wants, serialised once per
distinct keyboard, and keep the answer as plain JSON. Errors are raised exactly as before.

:data:`RESPONSE_MODELS` holds the ``Response[...]`` models of the methods the bot calls.
pydantic caches generic models in a weak dictionary, so without a strong reference each one
is rebuilt (several milliseconds) after every garbage collection that frees it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendDocument,
    SendMessage,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiohttp import FormData, JsonPayload

from bot.conversation import actions
from bot.conversation.screen import Button
from bot.telegram.lazy_aiogram import resolve_names

Rows = tuple[tuple[Button, ...], ...]
_PLAIN = frozenset({str, int, bool, float})  # sent as they are (prepare_value returns them)


class SendText(SendMessage):
    """``sendMessage`` with a keyboard given as JSON text; the answer stays plain JSON."""

    __returning__ = Any  # type: ignore[assignment]
    reply_markup: str | None = None  # type: ignore[assignment]


class EditText(EditMessageText):
    """``editMessageText`` with a keyboard given as JSON text; the answer stays plain JSON."""

    __returning__ = Any  # type: ignore[assignment]
    reply_markup: str | None = None  # type: ignore[assignment]


class JsonRequests(AiohttpSession):
    """Sends a Bot API call without files as a JSON body instead of multipart form data.

    aiogram builds every request as ``multipart/form-data`` with each nested value serialised
    to JSON text on its own; one JSON document is cheaper to build here and to read at the
    other end. Calls with files (a document) still go as multipart, the only way to upload.
    """

    def build_form_data(self, bot: Bot, method: TelegramMethod[TelegramType]) -> FormData:
        """A JSON body when there is no file to upload, else aiogram's multipart form."""
        data = self.json_fields(bot, method)
        if data is None:
            return super().build_form_data(bot, method)
        # aiohttp posts any payload given as ``data``; aiogram's annotation names only forms.
        return JsonPayload(data, dumps=self.json_dumps)  # type: ignore[return-value]

    def json_fields(self, bot: Bot, method: TelegramMethod[TelegramType]) -> dict[str, Any] | None:
        """The method's fields as Telegram reads them, or None if one of them is a file.

        What ``prepare_value`` makes of ``model_dump()``, without the dump: the fields are read
        as they are, and only values that are not plain text or numbers (defaults, objects,
        lists, enums, dates) go through ``prepare_value``. Empty values are left out.
        """
        files: dict[str, Any] = {}
        data: dict[str, Any] = {}
        fields = method.__dict__
        if method.__pydantic_extra__:
            fields = {**fields, **method.__pydantic_extra__}
        for key, value in fields.items():
            if type(value) not in _PLAIN:
                value = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if value is not None and value != "":
                data[key] = value
        return None if files else data


@functools.lru_cache(maxsize=4096)
def keyboard_json(rows: Rows) -> str | None:
    """The ``reply_markup`` JSON of an inline keyboard with these rows (None if no buttons)."""
    built = [[{"text": b.label, "callback_data": actions.encode(b.action)} for b in row]
             for row in rows if row]
    if not built:
        return None
    return json.dumps({"inline_keyboard": built}, ensure_ascii=False, separators=(",", ":"))


def _response_models(methods: tuple[type[TelegramMethod[Any]], ...]) -> tuple[type[Any], ...]:
    return tuple(Response[method.__returning__] for method in methods)  # type: ignore[name-defined]


resolve_names()  # aiogram is imported: let its deferred types find the names they use
RESPONSE_MODELS = _response_models((
    SendText, EditText, AnswerCallbackQuery, SendDocument, GetMe, GetUpdates, SetMyCommands,
    SetWebhook, DeleteWebhook,
))

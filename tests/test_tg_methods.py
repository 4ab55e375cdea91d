"""The hot-path Bot API methods, sent by a real aiogram Bot to the fake Bot API server."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    BanChatMember,
    DeleteMessages,
    GetUpdates,
    SendDocument,
    SendMessage,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
)

from bot.conversation import actions
from bot.conversation.screen import Button
from bot.telegram.methods import RESPONSE_MODELS, EditText, JsonRequests, SendText, keyboard_json
from fake_telegram import FakeTelegram

TOKEN = "123456:TEST"
ROWS = ((Button("Sí, tengo miedo 😟", actions.Go("tc-fear")),),
        (Button("◀️ Atrás", actions.Back()), Button("🏠 Menú", actions.Home())))


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(token=TOKEN, session=fake_telegram.session(),
              default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
    try:
        yield bot
    finally:
        await bot.session.close()


def test_keyboard_json_is_what_aiogram_would_send() -> None:
    expected = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=b.label, callback_data=actions.encode(b.action)) for b in row]
        for row in ROWS])
    assert json.loads(keyboard_json(ROWS) or "") == expected.model_dump(exclude_none=True)
    assert keyboard_json(((), ())) is None
    assert keyboard_json(ROWS) is keyboard_json(ROWS)  # serialised once


async def test_send_and_edit_reach_telegram_with_the_keyboard(bot: Bot,
                                                               fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(77)
    sent = await bot(SendText(chat_id=77, text="<b>Hola</b>", reply_markup=keyboard_json(ROWS)))
    assert isinstance(sent, dict) and sent["message_id"] > 0  # the answer is left as JSON
    message = user.last_message()
    assert message is not None and message.plain == "Hola"
    assert message.callback_data == ["1:g:tc-fear", "1:b", "1:h"]
    (call,) = fake_telegram.calls("sendMessage", chat_id=77)
    assert call.params["parse_mode"] == "HTML"  # the bot's defaults still apply
    assert call.params["link_preview_options"] == {"is_disabled": True}

    edited = await bot(EditText(chat_id=77, message_id=sent["message_id"], text="<i>Adiós</i>",
                                reply_markup=None))
    assert isinstance(edited, dict)
    message = user.last_message()
    assert message is not None and message.plain == "Adiós" and message.callback_data == []
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot(EditText(chat_id=77, message_id=sent["message_id"], text="<i>Adiós</i>"))
    with pytest.raises(TelegramBadRequest, match="not found"):
        await bot(EditText(chat_id=77, message_id=999_999, text="x"))
    assert fake_telegram.violations == []


def test_response_models_survive_garbage_collection() -> None:
    # pydantic keeps parametrised generics in a weak cache; without RESPONSE_MODELS each
    # Bot API answer type would be rebuilt after a collection.
    gc.collect()
    assert Response[EditText.__returning__] in RESPONSE_MODELS
    assert Response[AnswerCallbackQuery.__returning__] in RESPONSE_MODELS


def _aiogram_fields(session: JsonRequests, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
    """What aiogram's own path makes of a method: ``prepare_value`` over ``model_dump()``."""
    files: dict[str, Any] = {}
    data = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = session.prepare_value(value, bot=bot, files=files, _dumps_json=False)
        if prepared is not None and prepared != "":
            data[key] = prepared
    return data


def test_json_fields_are_what_aiogram_would_send() -> None:
    session = JsonRequests()
    bot = Bot(token=TOKEN, session=session,
              default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True))
    methods: list[TelegramMethod[Any]] = [
        SendText(chat_id=77, text="<b>Hola</b>", reply_markup=keyboard_json(ROWS)),
        EditText(chat_id=77, message_id=5, text="x", reply_markup=None),
        EditText(chat_id=77, message_id=5, text="", parse_mode=None),  # empty and None left out
        AnswerCallbackQuery(callback_query_id="q1"),
        AnswerCallbackQuery(callback_query_id="q1", show_alert=False, cache_time=0),
        SendMessage(chat_id=77, text="t", parse_mode=ParseMode.MARKDOWN_V2,
                    entities=[MessageEntity(type="bold", offset=0, length=1)],
                    reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                        [InlineKeyboardButton(text="a", callback_data="1:h")]])),
        SetMyCommands(commands=[BotCommand(command="start", description="Start")],
                      language_code="es"),
        DeleteMessages(chat_id=77, message_ids=[1, 2, 3]),
        SetWebhook(url="https://example.org/hook", secret_token="s", allowed_updates=["message"]),
        GetUpdates(offset=3, timeout=10, allowed_updates=["message", "callback_query"]),
        BanChatMember(chat_id=77, user_id=5, until_date=datetime(2030, 1, 2, tzinfo=UTC)),
        SendMessage(chat_id=77, text="t", some_future_field={"a": None, "b": 1}),  # an extra
    ]
    for method in methods:
        assert session.json_fields(bot, method) == _aiogram_fields(session, bot, method), method
    upload = SendDocument(chat_id=77, document=BufferedInputFile(b"x", filename="a.html"))
    assert session.json_fields(bot, upload) is None  # a file: aiogram's multipart form

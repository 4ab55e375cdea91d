"""The hot-path Bot API methods, sent by a real aiogram Bot to the fake Bot API server."""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import actions
from bot.conversation.screen import Button
from bot.telegram.methods import RESPONSE_MODELS, EditText, SendText, keyboard_json
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

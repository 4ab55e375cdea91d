"""Incoming updates trimmed to what the bot reads, before aiogram builds objects from them."""

from __future__ import annotations

import json

import pytest
from aiogram.types import Update
from pydantic import ValidationError

from bot.telegram.trim import trim_update
from fake_telegram import Call, FakeTelegram

CHAT = 4242


def test_a_press_keeps_what_the_handler_reads_and_drops_the_message_it_is_on() -> None:
    fake = FakeTelegram()
    user = fake.user(CHAT, language_code="es", username="ana_test", first_name="Ana")
    message = fake._send_message(Call("sendMessage", {
        "chat_id": CHAT, "text": "<b>Hola</b> mundo", "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Sí", "callback_data": "1:g:x"}]]}}, 0.0, CHAT))
    raw = fake.make_callback_update(CHAT, message["message_id"], "1:g:x", user=user.as_dict())
    full = Update.model_validate(raw)
    trimmed = trim_update(raw)
    update = Update.model_validate(trimmed)
    query, whole = update.callback_query, full.callback_query
    assert query is not None and whole is not None and query.message is not None
    assert (query.id, query.data, query.message.message_id, query.message.chat.id,
            query.message.chat.type, query.from_user.id, query.from_user.language_code) == (
        whole.id, whole.data, message["message_id"], CHAT, "private", CHAT, "es")
    assert update.update_id == full.update_id and update.event_type == "callback_query"
    text = json.dumps(trimmed)
    for gone in ("Hola", "inline_keyboard", "entities", "Ana", "ana_test"):
        assert gone not in text
    assert raw["callback_query"]["message"]["text"] == "Hola mundo"  # the original is untouched


def test_a_typed_message_keeps_its_text_chat_and_language() -> None:
    fake = FakeTelegram()
    user = fake.user(CHAT, language_code="fr", username="ana_test", first_name="Ana")
    raw = fake.make_message_update(CHAT, "/start fr-third-country", user=user.as_dict())
    update = Update.model_validate(trim_update(raw))
    message = update.message
    assert message is not None and message.from_user is not None
    assert (message.text, message.chat.id, message.chat.type, message.message_id,
            message.from_user.language_code) == (
        "/start fr-third-country", CHAT, "private", raw["message"]["message_id"], "fr")
    assert message.entities is None and message.from_user.username is None
    assert message.from_user.first_name == "" and message.chat.first_name is None


def test_other_updates_are_left_as_they_are_and_malformed_ones_still_refused() -> None:
    edited = {"update_id": 7, "edited_message": {"message_id": 1, "date": 0, "text": "x",
                                                 "chat": {"id": 1, "type": "private"}}}
    assert trim_update(edited) is edited
    assert trim_update([1]) == [1]
    for odd in ({"update_id": 8, "message": "x"}, {"update_id": 8, "message": {"chat": 3}},
                {"update_id": 9, "callback_query": {"id": "1", "from": "?", "chat_instance": "1"}},
                {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}):
        with pytest.raises(ValidationError):
            Update.model_validate(odd)
        with pytest.raises(ValidationError):
            Update.model_validate(trim_update(odd))

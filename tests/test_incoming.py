"""Incoming updates read straight from Telegram's JSON: the fields the bot uses, and nothing else."""

from __future__ import annotations

import pytest
from aiogram.types import Update
from pydantic import ValidationError

from bot.telegram.incoming import Incoming, Malformed, read_update
from fake_telegram import Call, FakeTelegram

CHAT = 4242


def test_a_press_gives_what_aiogram_reads_of_it_and_nothing_of_the_message() -> None:
    fake = FakeTelegram()
    user = fake.user(CHAT, language_code="es", username="ana_test", first_name="Ana")
    message = fake._send_message(Call("sendMessage", {
        "chat_id": CHAT, "text": "<b>Hola</b> mundo", "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": [[{"text": "Sí", "callback_data": "1:g:x"}]]}}, 0.0, CHAT))
    raw = fake.make_callback_update(CHAT, message["message_id"], "1:g:x", user=user.as_dict())
    whole = Update.model_validate(raw)
    query = whole.callback_query
    assert query is not None and query.message is not None
    update = read_update(raw)
    assert update == Incoming(whole.update_id, "callback_query", CHAT, True, message["message_id"],
                              "es", None, query.id, "1:g:x")
    for gone in ("Hola", "Ana", "ana_test"):  # no field of the update holds them
        assert gone not in repr(update)


def test_a_typed_message_gives_its_text_chat_and_language() -> None:
    fake = FakeTelegram()
    user = fake.user(CHAT, language_code="fr", username="ana_test", first_name="Ana")
    raw = fake.make_message_update(CHAT, "/start fr-third-country", user=user.as_dict())
    message = Update.model_validate(raw).message
    assert message is not None
    assert read_update(raw) == Incoming(raw["update_id"], "message", CHAT, True, message.message_id,
                                        "fr", "/start fr-third-country")
    sticker = fake.make_message_update(CHAT, None, user=user.as_dict())
    assert read_update(sticker).text is None  # answered "only text and buttons"


def test_group_chats_inline_buttons_and_other_types_are_read_as_such() -> None:
    group = read_update({"update_id": 5, "message": {
        "message_id": 1, "date": 0, "chat": {"id": -100, "type": "group"}, "text": "/start"}})
    assert group.kind == "message" and not group.private
    inline = read_update({"update_id": 6, "callback_query": {
        "id": "q", "from": {"id": 1, "is_bot": False, "first_name": "A"}, "chat_instance": "1",
        "inline_message_id": "i", "data": "1:h"}})
    assert inline.kind == "callback_query" and inline.chat_id is None and inline.callback_id == "q"
    edited = read_update({"update_id": 7, "edited_message": {"message_id": 1, "date": 0, "text": "x",
                                                             "chat": {"id": 1, "type": "private"}}})
    assert edited == Incoming(7, "edited_message")
    assert read_update({"update_id": 8}).kind == "unknown"
    assert read_update({"update_id": 9, "<b>odd key</b>": {}}).kind == "unknown"  # never logged


@pytest.mark.parametrize("odd", [
    [1],
    {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
    {"update_id": 8, "message": "x"},
    {"update_id": 8, "message": {"chat": 3}},
    {"update_id": 8, "message": {"message_id": 1, "date": 0}},
    {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}},
    {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                 "text": 5}},
    {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                 "from": "?"}},
    {"update_id": 9, "callback_query": {"id": "1", "from": "?", "chat_instance": "1"}},
    {"update_id": 9, "callback_query": {"chat_instance": "1", "from": {"id": 1}}},
    {"update_id": 9, "callback_query": {"id": "1", "chat_instance": "1"}},
    {"update_id": 9, "callback_query": {"id": "1", "from": {"id": 1}, "data": ["1:h"]}},
    {"update_id": 9, "callback_query": {"id": "1", "from": {"id": 1}, "message": {"message_id": 1}}},
])
def test_what_aiogram_refuses_is_malformed_here_too(odd: object) -> None:
    with pytest.raises(ValidationError):
        Update.model_validate(odd)
    with pytest.raises(Malformed):
        read_update(odd)


@pytest.mark.parametrize("odd", [
    {"update_id": "8", "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
    {"update_id": True, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}},
    {"update_id": 8, "message": {"message_id": 1, "date": 0, "chat": {"id": "1", "type": "private"}}},
    {"update_id": 8, "message": {"message_id": 1.5, "date": 0, "chat": {"id": 1, "type": "private"}}},
])
def test_an_id_sent_as_text_a_boolean_or_a_fraction_is_malformed(odd: object) -> None:
    # Stricter than pydantic's lax mode, which would read "1" or True as 1: Telegram's ids
    # are JSON integers, and anything else did not come from it.
    with pytest.raises(Malformed):
        read_update(odd)

"""What the bot reads of an incoming update, read straight from Telegram's JSON.

The handlers read seven fields of an update: its id, the chat's id and type, the message's id,
the sender's language, and the typed text or the pressed button's id and data. aiogram would
first build an ``Update`` of pydantic objects (about 32 µs for a trimmed button press, 56 µs
for a whole one: ``bench/run.py --profile``), and names and usernames would live on in them.
:func:`read_update` takes only those fields, each checked for its type, so nothing else of
the update (names, usernames, the text of the message a button is on) reaches an object.

An update that lacks a field the bot needs, or has one of the wrong type, raises
:class:`Malformed`; the caller ignores it and logs that it did, never its content. An update
of a type the bot does not handle is read as its kind only, and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGE = "message"
CALLBACK_QUERY = "callback_query"


class Malformed(ValueError):
    """An update the bot cannot read (the reason names a field, never its value)."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update, as much of it as the bot reads."""

    update_id: int
    kind: str  # "message", "callback_query", or the name of a type the bot ignores
    chat_id: int | None = None
    private: bool = False  # a private chat with the bot (the only chats it serves)
    message_id: int | None = None  # the typed message, or the bot's message a button is on
    language: str | None = None  # the sender's Telegram language, if it says
    text: str | None = None  # what was typed (None for a sticker, a photo...)
    callback_id: str | None = None
    data: str | None = None  # the pressed button's callback data


def _field(data: dict[str, Any], key: str, kind: type, where: str, *, required: bool = True) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise Malformed(f"{where} has no {key}")
        return None
    # bool is an int in Python, never a Telegram id.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Malformed(f"{where}.{key} is not {kind.__name__}")
    return value


def _chat(message: dict[str, Any], where: str) -> tuple[int, bool, int]:
    """The chat id, whether it is private, and the message id of a message."""
    chat = _field(message, "chat", dict, where)
    chat_id = _field(chat, "id", int, f"{where}.chat")
    kind = _field(chat, "type", str, f"{where}.chat")
    return chat_id, kind == "private", _field(message, "message_id", int, where)


def _language(data: dict[str, Any], where: str) -> str | None:
    sender = _field(data, "from", dict, where, required=False)
    if sender is None:
        return None
    return _field(sender, "language_code", str, f"{where}.from", required=False)


def read_update(raw: Any) -> Incoming:
    """The fields the bot reads from one update of ``getUpdates`` or the webhook."""
    if not isinstance(raw, dict):
        raise Malformed("the update is not an object")
    update_id = _field(raw, "update_id", int, "update")
    if (message := raw.get(MESSAGE)) is not None:
        if not isinstance(message, dict):
            raise Malformed("update.message is not an object")
        chat_id, private, message_id = _chat(message, MESSAGE)
        return Incoming(update_id, MESSAGE, chat_id, private, message_id,
                        _language(message, MESSAGE), _field(message, "text", str, MESSAGE, required=False))
    if (query := raw.get(CALLBACK_QUERY)) is not None:
        if not isinstance(query, dict):
            raise Malformed("update.callback_query is not an object")
        callback_id = _field(query, "id", str, CALLBACK_QUERY)
        _field(query, "from", dict, CALLBACK_QUERY)  # Telegram always says who pressed
        data = _field(query, "data", str, CALLBACK_QUERY, required=False)
        language = _language(query, CALLBACK_QUERY)
        pressed = _field(query, "message", dict, CALLBACK_QUERY, required=False)
        if pressed is None:  # a button on an inline message: not one of the bot's chats
            return Incoming(update_id, CALLBACK_QUERY, language=language, callback_id=callback_id,
                            data=data)
        chat_id, private, message_id = _chat(pressed, f"{CALLBACK_QUERY}.message")
        return Incoming(update_id, CALLBACK_QUERY, chat_id, private, message_id, language,
                        callback_id=callback_id, data=data)
    kind = next((key for key in raw if key != "update_id"), "unknown")
    # Logged: a name Telegram gives a type, never anything longer or stranger.
    return Incoming(update_id, kind if kind.isidentifier() and len(kind) <= 40 else "unknown")

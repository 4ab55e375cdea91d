"""Keep of an incoming update only what the bot reads, before aiogram builds objects from it.

A button press carries the whole message the button is on: its text, formatting entities and
keyboard (a dozen pydantic objects per update, each with aiogram's per-object set-up), and
the bot reads only the message's id and chat. A typed message carries entities, and the
sender's and chat's names. Trimming the raw JSON before validation saves that work on every
update (``bench/run.py --profile``) and means the sender's name and username never reach an
object in memory (``first_name``, which Telegram's User type requires, is kept empty).

What is kept is what the handlers read: the chat's id and type, the message's id and date,
the typed text, the sender's id and language, a press's id and data. An update of a type the
bot does not handle is left as it is (the dispatcher ignores it).
"""

from __future__ import annotations

from typing import Any

CHAT_KEYS = ("id", "type")
USER_KEYS = ("id", "is_bot", "language_code")
PRESSED_MESSAGE_KEYS = ("message_id", "date")  # the bot's own message a button is on
MESSAGE_KEYS = ("message_id", "date", "text")  # a message the person sent
QUERY_KEYS = ("id", "chat_instance", "data", "inline_message_id")


def _pick(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if k in data}


def _user(data: Any) -> Any:
    if not isinstance(data, dict):
        return data  # malformed: left for validation to refuse
    return {**_pick(data, USER_KEYS), "first_name": ""}


def _message(data: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("chat"), dict):
        return data
    message = _pick(data, keys)
    message["chat"] = _pick(data["chat"], CHAT_KEYS)
    if "from" in data:
        message["from"] = _user(data["from"])
    return message


def trim_update(update: Any) -> Any:
    """The update with only what the bot reads (a new dict; anything unexpected unchanged)."""
    if not isinstance(update, dict):
        return update
    if isinstance(message := update.get("message"), dict):
        return {**_pick(update, ("update_id",)), "message": _message(message, MESSAGE_KEYS)}
    if isinstance(query := update.get("callback_query"), dict):
        trimmed = _pick(query, QUERY_KEYS)
        if "from" in query:
            trimmed["from"] = _user(query["from"])
        if "message" in query:
            trimmed["message"] = _message(query["message"], PRESSED_MESSAGE_KEYS)
        return {**_pick(update, ("update_id",)), "callback_query": trimmed}
    return update

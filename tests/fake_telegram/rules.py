"""What Telegram accepts and how it refuses: limits, parameter kinds and error texts."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from aiogram.enums import UpdateType

from fake_telegram.records import UploadedFile

MAX_CAPTION_CHARS = 1024
MAX_CALLBACK_ANSWER_CHARS = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DESCRIPTION_CHARS = 512
MAX_SHORT_DESCRIPTION_CHARS = 120
MAX_DELETE_IDS = 100  # deleteMessages takes 1-100 ids
DELETE_WINDOW_SECONDS = 48 * 3600  # a bot may delete a message for 48 hours after it was sent

TOKEN_PATTERN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
COMMAND_PATTERN = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
INT_PATTERN = re.compile(r"^-?\d+$")

KNOWN_UPDATE_TYPES = frozenset(t.value for t in UpdateType)
DEFAULT_UPDATE_TYPES = KNOWN_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "message_ids",
    }
)
INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "message_thread_id",
    }
)
BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
DELETE_CANT = "Bad Request: message can't be deleted"
CHAT_NOT_FOUND = "Bad Request: chat not found"
BLOCKED = "Forbidden: bot was blocked by the user"
TOO_LONG = "Bad Request: message is too long"
TEXT_EMPTY = "Bad Request: message text is empty"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_TEXT_EMPTY = "Bad Request: text buttons are unallowed in the inline keyboard"
BUTTON_NO_ACTION = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
METHOD_NOT_FOUND = "Not Found: method not found"


def canonical(value: Any) -> str:
    """JSON with sorted keys, to compare values as Telegram would."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def update_type(update: dict[str, Any]) -> str | None:
    """The kind of an update: its one key besides ``update_id``."""
    return next((k for k in update if k != "update_id"), None)


def normalise(params: dict[str, Any]) -> dict[str, Any]:
    """Decode form values the way the Bot API does: JSON fields, integers, booleans."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in JSON_PARAMS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in INT_PARAMS and INT_PATTERN.match(value):
                value = int(value)
            elif key in BOOL_PARAMS and value in ("true", "false"):
                value = value == "true"
        out[key] = value
    # Resolve attach://name references to the uploaded file part.
    for key, value in list(out.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = out.get(value.removeprefix("attach://"))
            if isinstance(part, UploadedFile):
                out[key] = part
                del out[part.field]
    return out

"""What the fake Bot API records: calls, messages the bot sent, callbacks, errors, faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """A Bot API refusal; ``expected`` marks refusals a correct bot still has to handle."""

    def __init__(self, status: int, description: str, *, expected: bool = False) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.expected = expected


@dataclass
class UploadedFile:
    """A file part of a multipart request (sendDocument)."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Call:
    """One request the bot made; ``status`` is the HTTP status it got (0 = dropped)."""

    method: str
    params: dict[str, Any]
    time: float
    chat_id: int | str | None
    status: int = 200
    description: str | None = None
    result: Any = None
    via: str = "http"  # "http", or "webhook-reply" for a method returned in a webhook answer
    fault: str | None = None  # "fail", "drop" or "delay" when a fault was injected
    content_type: str = ""  # of the request body: "application/json", "multipart/form-data"...
    alive: Callable[[], bool] = field(default=lambda: True, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when Telegram would have executed the call."""
        return self.status == 200


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits applied)."""

    chat_id: int
    message_id: int
    text: str | None  # as sent: raw HTML when parse_mode is HTML; the caption for documents
    parse_mode: str | None
    plain: str  # what the reader sees (tags removed, entities decoded)
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int
    document: UploadedFile | None = None
    file_id: str | None = None
    deleted: bool = False
    edits: int = 0
    edit_date: int | None = None

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (empty without an inline keyboard)."""
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard") or []

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons, row by row."""
        return [b.get("text", "") for row in self.keyboard for b in row]

    @property
    def callback_data(self) -> list[str]:
        """callback_data of the inline buttons that have one."""
        return [b["callback_data"] for row in self.keyboard for b in row if "callback_data" in b]


@dataclass(frozen=True)
class Outgoing:
    """One send or edit the bot made to a chat, with a snapshot of the message after it."""

    event: str  # "send", "edit", "edit_markup" or "document"
    message: BotMessage
    time: float

    @property
    def text(self) -> str | None:
        return self.message.text

    @property
    def plain(self) -> str:
        return self.message.plain

    @property
    def buttons(self) -> list[str]:
        return self.message.buttons


@dataclass
class CallbackRecord:
    """A callback query the fake user produced, and the bot's answer if any."""

    id: str
    chat_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class Fault:
    kind: str  # "fail", "drop", "delay"
    status: int = 0
    retry_after: int | None = None
    description: str = ""
    body: str | None = None
    seconds: float = 0.0



"""A fake Telegram Bot API server for tests (see ``server``); the names tests import."""

from fake_telegram.entities import html_to_entities
from fake_telegram.records import ApiError, BotMessage, Call, CallbackRecord, Outgoing, UploadedFile
from fake_telegram.rules import NOT_MODIFIED, TOO_OLD
from fake_telegram.server import FakeTelegram, LocalAiohttpSession
from fake_telegram.users import FakeUser

__all__ = ["NOT_MODIFIED", "TOO_OLD", "ApiError", "BotMessage", "Call", "CallbackRecord", "FakeTelegram",
           "FakeUser", "LocalAiohttpSession", "Outgoing", "UploadedFile", "html_to_entities"]

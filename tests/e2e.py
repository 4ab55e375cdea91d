"""Running the real bot (in process) against the fake Bot API server, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from bot.settings import Settings
from bot.telegram.runner import BotService
from fake_telegram import FakeTelegram, FakeUser
from helpers import CONTENT, LOCALES

TOKEN = "123456:TEST-token"
# The end-to-end tests run on SQLite, and again on PostgreSQL when .ci/run sets these.
PG_URL = os.environ.get("DATABASE_URL_PG", "")
ON_PG = os.environ.get("KYR_TEST_BACKEND") == "postgresql" and bool(PG_URL)
SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_settings(fake: FakeTelegram, data: Path, **extra: str) -> Settings:
    env = {
        "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake.base_url, "DATA_DIR": str(data),
        "DATABASE_URL": PG_URL if ON_PG else f"sqlite+aiosqlite:///{data / 'kyr.db'}",
        "CONTENT_DIR": str(CONTENT),
        "LOCALES_DIR": str(LOCALES), "CHAT_MIN_INTERVAL": "0",
    }
    env.update(extra)
    return Settings.from_env(env)


@contextlib.asynccontextmanager
async def running(settings: Settings, webhook: bool = False) -> AsyncIterator[BotService]:
    """Run the bot until the block ends, then stop it the way SIGTERM does."""
    service = await BotService.create(settings)
    task = asyncio.create_task(service.run(webhook))
    ready = asyncio.create_task(service.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()
    assert ready in done, "the bot did not become ready"
    try:
        yield service
    finally:
        service.request_stop()
        await asyncio.wait_for(task, 15)


async def clear_pg() -> None:
    """Empty the PostgreSQL tables so each test starts from nothing."""
    from bot.store.sessions import SessionStore

    store = SessionStore(PG_URL)
    await store.open()
    for table in ("sessions", "daily_counts", "recent_updates"):
        await store.rows.execute(f"DELETE FROM {table}")
    await store.close()


def content_buttons(fake: FakeTelegram, user: FakeUser) -> list[tuple[str, str]]:
    """(label, data) of the newest keyboard's buttons that open a step."""
    message = user.keyboard_message()
    return [(b["text"], b["callback_data"]) for row in message.keyboard for b in row
            if b.get("callback_data", "").startswith(("1:g:", "1:o:"))]


def button_data(user: FakeUser, data: str) -> bool:
    """Whether the newest keyboard has a button with this callback data."""
    return data in user.keyboard_message().callback_data

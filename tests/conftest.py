"""Shared pytest fixtures."""

from collections.abc import AsyncIterator

import pytest

from e2e import ON_PG, clear_pg
from fake_telegram import FakeTelegram


@pytest.fixture(autouse=True)
async def _clean_postgres() -> None:
    """On the PostgreSQL pass, every test starts with empty tables."""
    if ON_PG:
        await clear_pg()


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A fake Telegram Bot API server on 127.0.0.1, stopped after the test."""
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()

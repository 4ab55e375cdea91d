"""The webhook under abuse: odd headers, deep JSON, silent and slow clients, too many connections."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.telegram import runner
from bot.telegram.runner import BotService
from bot.telegram.webhook_guard import OutOfFilesLog
from e2e import SECRET, bot_settings, free_port, running
from fake_telegram import FakeTelegram


@asynccontextmanager
async def webhook(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[tuple[BotService, int]]:
    port = free_port()
    settings = bot_settings(fake, tmp_path / "data", WEBHOOK_URL="https://bot.example.org/webhook",
                            WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
    async with running(settings, webhook=True) as service:
        yield service, port


async def raw_request(port: int, head: bytes, body: bytes = b"") -> int:
    """Send bytes as they are; the HTTP status of the answer (0 if the connection was closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(line.split()[1]) if line else 0


def post_head(secret: bytes) -> bytes:
    return (b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n")


async def test_non_utf8_secret_and_deep_json(fake_telegram: FakeTelegram, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    async with webhook(fake_telegram, tmp_path) as (_service, port):
        assert await raw_request(port, post_head(b"\xff\xfe\xc3("), b"{}") == 401
        deep = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        assert await raw_request(port, post_head(SECRET.encode()), deep) == 400
        assert await raw_request(port, post_head(SECRET.encode()), b'{"update_id": 5}') == 200
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


async def test_silent_and_slow_connections_are_closed(fake_telegram: FakeTelegram, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "WEBHOOK_READ_TIMEOUT", 0.5)
    async with webhook(fake_telegram, tmp_path) as (service, port):
        silent_reader, silent = await asyncio.open_connection("127.0.0.1", port)
        slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
        slow.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")  # headers that never end
        await slow.drain()
        # Both are closed by the bot (EOF), instead of holding a file descriptor for ever.
        assert await asyncio.wait_for(silent_reader.read(), 5) == b""
        assert await asyncio.wait_for(slow_reader.read(), 5) == b""
        silent.close()
        slow.close()
        assert service._guard is not None
        for _ in range(50):
            if service._guard.open == 0:
                break
            await asyncio.sleep(0.02)
        assert service._guard.open == 0
        # A request that arrives in time on a fresh connection is still served.
        assert await raw_request(port, post_head(SECRET.encode()), b'{"update_id": 6}') == 200


async def test_open_connections_are_bounded(fake_telegram: FakeTelegram, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "WEBHOOK_MAX_CONNECTIONS", 5)
    async with webhook(fake_telegram, tmp_path) as (service, port):
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        await asyncio.sleep(0.1)
        extra_reader, extra = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(extra_reader.read(), 5) == b""  # closed at once
        assert service._guard is not None and service._guard.open == 5 and service._guard.refused >= 1
        extra.close()
        for _reader, writer in held:
            writer.close()
        for _ in range(50):
            if service._guard.open == 0:
                break
            await asyncio.sleep(0.02)
        assert await raw_request(port, post_head(SECRET.encode()), b'{"update_id": 7}') == 200


def test_running_out_of_file_descriptors_is_logged_once_per_interval(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = [0.0]
    handler = OutOfFilesLog(interval=60, clock=lambda: clock[0])
    loop = asyncio.new_event_loop()
    try:
        for _ in range(300):  # what asyncio reports on each failed accept()
            handler(loop, {"message": "socket.accept() out of system resource",
                           "exception": OSError(errno.EMFILE, "Too many open files")})
        clock[0] = 61
        handler(loop, {"message": "socket.accept() out of system resource",
                       "exception": OSError(errno.EMFILE, "Too many open files")})
    finally:
        loop.close()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 2 and "EMFILE" in lines[0] and "repeated=299" in lines[1]

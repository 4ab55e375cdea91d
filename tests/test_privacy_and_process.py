"""Privacy by construction, and the real ``kyr-bot run`` process started and stopped by a signal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from e2e import ON_PG, TOKEN, bot_settings, content_buttons, running
from fake_telegram import FakeTelegram
from helpers import CONTENT, LOCALES, ROOT

CHAT_ID = 987654321
USERNAME = "maria_private_name"
TYPED = "mi hermano esta detenido en Texas"


async def test_nothing_identifying_is_stored_or_logged(fake_telegram: FakeTelegram, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(CHAT_ID, language_code="es", username=USERNAME,
                                  first_name="Maria Private")
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:tc-start")
        await user.wait_reply()
        user.press(content_buttons(fake_telegram, user)[0][1])
        await user.wait_reply()
        user.send_text(TYPED)
        await user.wait_reply()
        user.send_text("/lawyer")
        await user.wait_reply(2)
        await service.runtime.store.flush_counts()
        # In memory too: the session cache is keyed by the keyed hash, never the chat id.
        cached = [(key, service.runtime.sessions.get(key)) for key in service.runtime.sessions.held_keys()]
        assert cached and str(CHAT_ID) not in repr(cached)
        if ON_PG:  # every row of every table, as text
            rows = [r for t in ("sessions", "daily_counts", "kyr_meta")
                    for r in await service.runtime.store.rows.execute(f"SELECT * FROM {t}")]
            raw = repr(rows).encode()
        else:  # the raw SQLite file and its write-ahead log, byte for byte
            raw = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("kyr.db"))
    assert b"tc-start" in raw, "the session was not written"
    for secret in (str(CHAT_ID), USERNAME, "Maria Private", TYPED, "detenido"):
        assert secret.encode() not in raw, f"{secret!r} found in the database"
        assert secret not in caplog.text, f"{secret!r} found in the logs"
    assert "update type=callback_query status=ok" in caplog.text


async def test_new_paths_store_and_log_nothing_identifying(fake_telegram: FakeTelegram, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """Search results, ticks, /start asking, /privacy and /forget's message ids: still anonymous."""
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    typed = "Honduras, mi hermana Rosa Perez"
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(CHAT_ID, language_code="es", username=USERNAME,
                                  first_name="Maria Private")
        for kind, what in (("text", "/start"), ("text", typed), ("press", "1:o:tc-country-hn"),
                           ("press", "1:g:tc-fear-yes"), ("text", "/menu"), ("press", "1:g:ag-start"),
                           ("press", "1:g:ag-race"), ("press", "1:g:ag-start"),
                           ("press", "1:u:ag-race"), ("text", "/start"), ("press", "1:s"),
                           ("text", "/privacy")):
            if kind == "text":
                user.send_text(what)
            else:
                user.press(what)
            await user.wait_reply()
        await service.runtime.store.flush_counts()
        if ON_PG:
            rows = [r for t in ("sessions", "daily_counts", "kyr_meta")
                    for r in await service.runtime.store.rows.execute(f"SELECT * FROM {t}")]
            raw = repr(rows).encode()
        else:
            raw = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("kyr.db"))
        assert b"ag-start" in raw and b"messages" in raw, "the session was not written"
        user.send_text("/forget")
        await user.wait_reply()
        assert await service.runtime.store.session_count() == 0
    for secret in (str(CHAT_ID), USERNAME, "Maria Private", typed, "Perez"):
        assert secret.encode() not in raw, f"{secret!r} found in the database"
        assert secret not in caplog.text, f"{secret!r} found in the logs"
    assert fake_telegram.violations == []


async def test_kyr_bot_run_process_serves_and_stops_on_sigterm(fake_telegram: FakeTelegram,
                                                                tmp_path: Path) -> None:
    env = {**os.environ, "BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE": fake_telegram.base_url,
           "DATA_DIR": str(tmp_path / "data"), "CONTENT_DIR": str(CONTENT),
           "LOCALES_DIR": str(LOCALES), "CHAT_MIN_INTERVAL": "0", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)  # the default: a SQLite file in DATA_DIR
    proc = await asyncio.create_subprocess_exec(  # -X importtime: every module it loads, on stderr
        sys.executable, "-X", "importtime", "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        user = fake_telegram.user(CHAT_ID, language_code="fr", username=USERNAME)
        user.send_text("/start")
        (reply,) = await user.wait_reply(timeout=20)
        assert reply.buttons
        user.send_text(TYPED)
        await user.wait_reply(timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    log = (stdout + stderr).decode()
    assert proc.returncode == 0, log
    assert "update type=message status=ok" in log and "stopped" in log
    for secret in (str(CHAT_ID), USERNAME, TYPED):
        assert secret not in log
    assert (tmp_path / "data" / "session_secret").exists()
    # On a SQLite file SQLAlchemy, SQLModel and the PostgreSQL driver (about 30 MB) stay unloaded.
    loaded = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in log.splitlines()
              if line.startswith("import time:")}
    assert "bot" in loaded and "aiogram" in loaded
    assert not loaded & {"sqlalchemy", "sqlmodel", "asyncpg"}


async def test_run_refuses_broken_content_with_a_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    (broken / "en").mkdir(parents=True)
    (broken / "en" / "start.md").write_text("no front matter\n")
    env = {**os.environ, "BOT_TOKEN": TOKEN, "CONTENT_DIR": str(broken),
           "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 78  # EX_CONFIG: fix the configuration, restarting will not help
    assert "content has errors" in err.decode() and "start.md:1" in err.decode()


async def test_run_without_token_explains_how_to_get_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 78
    assert "@BotFather" in err.decode() and "kyr-bot chat" in err.decode()


async def test_a_failing_update_is_logged_without_its_message(caplog: pytest.LogCaptureFixture) -> None:
    from bot.telegram.handlers import InFlight, logged

    async def handler() -> bool:
        raise ValueError(f"could not handle {TYPED!r} from {USERNAME}")

    caplog.set_level(logging.INFO)
    in_flight = InFlight()
    await logged(in_flight, "message", handler)  # swallowed: the bot keeps running
    assert "update failed type=message" in caplog.text and "error=ValueError" in caplog.text
    assert "tests/test_privacy_and_process.py" in caplog.text  # where it failed
    assert TYPED not in caplog.text and USERNAME not in caplog.text
    assert in_flight.count == 0

"""Every start-up failure of ``kyr-bot run``: one line saying what to do, and an exit code that
tells "fix the configuration" (78) from "try again later" (75). No traceback unless DEBUG."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.exits import EXIT_CONFIG, EXIT_RETRY
from bot.store.sessions import SessionStore
from e2e import TOKEN, free_port
from fake_telegram import FakeTelegram
from helpers import CONTENT, LOCALES, ROOT, fill


def base_env(data: Path) -> dict[str, str]:
    return {"BOT_TOKEN": TOKEN, "DATA_DIR": str(data), "CONTENT_DIR": str(CONTENT),
            "LOCALES_DIR": str(LOCALES), "TELEGRAM_API_BASE": f"http://127.0.0.1:{free_port()}"}


def run_in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                   env: dict[str, str]) -> tuple[int, str]:
    """``kyr-bot run`` in this process, for failures that come before any Telegram call."""
    for name in ("DATABASE_URL", "SESSION_SECRET", "WEBHOOK_URL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["run"])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("kyr-bot: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err, err
    return lines[0]


def test_unreadable_database_is_named_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "kyr-bot.db").write_bytes(b"this is not a database" * 500)
    code, err = run_in_process(monkeypatch, capsys, base_env(data))
    assert code == EXIT_CONFIG
    assert "damaged" in one_line(err) and "backup" in err


def test_data_folder_that_cannot_be_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("x")
    code, err = run_in_process(monkeypatch, capsys, base_env(tmp_path / "a-file" / "data"))
    assert code == EXIT_CONFIG
    assert "DATA_DIR" in one_line(err) and "writable" in err


@pytest.mark.parametrize(("url", "code", "words"), [
    (f"postgresql+asyncpg://kyr@127.0.0.1:{free_port()}/kyr", EXIT_RETRY, "cannot reach the database"),
    ("postgresql://kyr@127.0.0.1/kyr", EXIT_CONFIG, "postgresql+asyncpg"),
    ("postgresql+psycopg://kyr@127.0.0.1/kyr", EXIT_CONFIG, "driver"),
    ("not a url", EXIT_CONFIG, "not a database address"),
])
def test_database_url_faults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], url: str, code: int, words: str) -> None:
    env = {**base_env(tmp_path / "data"), "DATABASE_URL": url,
           "SESSION_SECRET": "sixteen-chars-at-least"}
    got, err = run_in_process(monkeypatch, capsys, env)
    assert got == code, err
    assert words in one_line(err)


def test_short_session_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_in_process(monkeypatch, capsys, {**base_env(tmp_path), "SESSION_SECRET": "short"})
    assert code == EXIT_CONFIG and "SESSION_SECRET is too short" in err and "Traceback" not in err


@pytest.mark.parametrize("empty", [False, True])
def test_lost_secret_next_to_sessions_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], empty: bool) -> None:
    data = tmp_path / "data"

    async def one_session() -> None:
        store = SessionStore(f"sqlite+aiosqlite:///{data / 'kyr-bot.db'}")
        await store.open()
        await store.save("k" * 64, {"lang": "en", "node": "start"}, 0)
        await store.close()

    asyncio.run(one_session())
    secret = data / "session_secret"
    if empty:
        secret.write_text("")
    code, err = run_in_process(monkeypatch, capsys, base_env(data))
    assert code == EXIT_CONFIG
    line = one_line(err)
    assert ("is empty" if empty else "is missing") in line and "backup" in line
    assert not secret.exists() or secret.read_text() == ""  # no new secret was made


def test_debug_shows_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    env = {**base_env(tmp_path), "DATABASE_URL": "not a url", "LOG_LEVEL": "DEBUG"}
    code, err = run_in_process(monkeypatch, capsys, env)
    assert code == EXIT_CONFIG and "Traceback" in err


def test_data_folder_and_database_are_private_whatever_the_umask(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    old = os.umask(0)
    try:
        async def open_store() -> None:
            store = SessionStore(f"sqlite+aiosqlite:///{data / 'kyr-bot.db'}")
            await store.open()
            await store.save("k" * 64, {"lang": "en", "node": "start"}, 0)
            from bot.store.keys import load_secret
            load_secret("", data)
            for name in ("kyr-bot.db", "kyr-bot.db-wal", "kyr-bot.db-shm", "session_secret"):
                assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
            await store.close()

        asyncio.run(open_store())
    finally:
        os.umask(old)
    for folder in (data, data.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


async def run_process(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


async def test_token_refused_by_telegram(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    fake_telegram.fail_next("getMe", status=401, description="Unauthorized")
    code, err = await run_process({**base_env(tmp_path), "TELEGRAM_API_BASE": fake_telegram.base_url})
    assert code == EXIT_CONFIG and "@BotFather" in one_line(err)


async def test_telegram_unreachable_is_worth_a_retry(tmp_path: Path) -> None:
    code, err = await run_process(base_env(tmp_path))  # nothing listens on that port
    assert code == EXIT_RETRY and "cannot reach the Telegram Bot API" in one_line(err)


async def test_webhook_port_in_use(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**base_env(tmp_path), "TELEGRAM_API_BASE": fake_telegram.base_url,
               "WEBHOOK_URL": "https://bot.example.org/webhook", "WEBHOOK_SECRET": "s3cret",
               "WEBHOOK_PORT": str(port)}
        code, err = await run_process(env)
    assert code == EXIT_RETRY and f"WEBHOOK_PORT {port}" in one_line(err)


def test_systemd_unit_stops_restarting_on_configuration_errors() -> None:
    unit = (ROOT / "deploy" / "kyr-bot.service").read_text()
    assert f"RestartPreventExitStatus={EXIT_CONFIG}" in unit


def test_full_data_folder_is_worth_a_retry(small_disk: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    fill(small_disk)
    code, err = run_in_process(monkeypatch, capsys, base_env(small_disk / "data"))
    assert code == EXIT_RETRY
    line = one_line(err)
    assert "full" in line and "free some space" in line, line

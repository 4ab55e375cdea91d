"""A user always gets an answer: storage failures, Bot API failures, stale buttons.

Faults are real: a full file system (a small tmpfs, root only), a cut connection to a real
PostgreSQL (through a relay the test controls), proxy error pages and 429s from the fake
Bot API.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, SendMessage
from sqlalchemy.engine import make_url

from bot.content.loader import load_tree
from bot.content.telegram_html import visible_text
from bot.store.health import StorageHealth, storage_cause
from bot.telegram import delivery as tg_delivery
from bot.telegram.delivery import Retries, TolerantSession
from bot.telegram.runner import BotService
from bot.telegram.steps import PRESS_AGAIN, TRY_AGAIN
from e2e import PG_URL, bot_settings, clear_pg, running
from fake_telegram import FakeTelegram, FakeUser
from helpers import CONTENT, fill
from tcp_proxy import TcpProxy

TREE, _ = load_tree(CONTENT)
NGINX_502 = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad " \
            "Gateway</h1></center><hr><center>nginx</center></body></html>"
NGINX_504 = NGINX_502.replace("502 Bad Gateway", "504 Gateway Time-out")


def title(lang: str, node: str) -> str:
    return visible_text(TREE.languages[lang].nodes[node].title)


def said(service: BotService, lang: str, msgid: str) -> str:
    return service.runtime.engine.i18n.gettext(lang, msgid)


def storage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kyr_bot.storage"]


def assert_no_ids(caplog: pytest.LogCaptureFixture, user: FakeUser, key: str) -> None:
    text = caplog.text
    assert str(user.chat_id) not in text and key not in text


async def test_full_disk_tells_the_user_and_recovers(fake_telegram: FakeTelegram, small_disk: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    data = small_disk / "data"
    async with running(bot_settings(fake_telegram, data,
                                    DATABASE_URL=f"sqlite+aiosqlite:///{data / 'kyr.db'}")) as service:
        user = fake_telegram.user(7101, language_code="es")
        key = service.runtime.keyer.key(user.chat_id)
        user.send_text("/start")
        await user.wait_reply()
        filler = fill(small_disk)
        for _ in range(3):  # three users' worth of failed steps: one log line
            user.press("1:g:tc-start")
            (reply,) = await user.wait_reply()
            assert reply.event == "send" and reply.plain == said(service, "es", TRY_AGAIN)
        lines = storage_lines(caplog)
        assert len(lines) == 1 and "cause=disk-full" in lines[0], lines
        state, _rev = await service.runtime.store.load(key)
        assert state is not None and state["node"] == "start"  # nothing half-saved
        filler.unlink()
        user.press("1:g:tc-start")
        (reply,) = await user.wait_reply()
        assert title("es", "tc-start") in reply.plain
        state, _rev = await service.runtime.store.load(key)
        assert state is not None and state["node"] == "tc-start"
        assert "storage works again" in storage_lines(caplog)[-1]
    assert_no_ids(caplog, user, key)
    assert fake_telegram.violations == []


@pytest.mark.skipif(not PG_URL, reason="needs DATABASE_URL_PG (a PostgreSQL to cut off)")
async def test_postgresql_down_tells_the_user_and_recovers(fake_telegram: FakeTelegram, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await clear_pg()  # the fake Bot API numbers updates from 1 in every test: forget earlier ones
    url = make_url(PG_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    relayed = url.set(port=proxy.port).render_as_string(hide_password=False)
    try:
        async with running(bot_settings(fake_telegram, tmp_path / "data", DATABASE_URL=relayed,
                                        SESSION_SECRET="a-secret-for-this-test-only")) as service:
            user = fake_telegram.user(7102, language_code="fr")
            key = service.runtime.keyer.key(user.chat_id)
            user.send_text("/start")
            await user.wait_reply()
            await proxy.cut()
            user.press("1:g:tc-start")
            (reply,) = await user.wait_reply(timeout=15)
            assert reply.plain == said(service, "fr", TRY_AGAIN)
            user.send_text("/help")
            (reply,) = await user.wait_reply(timeout=15)
            assert reply.plain == said(service, "fr", TRY_AGAIN)
            lines = storage_lines(caplog)
            assert len(lines) == 1 and "cause=database-unreachable" in lines[0], lines
            await proxy.start()
            user.press("1:g:tc-start")
            (reply,) = await user.wait_reply(timeout=15)
            assert title("fr", "tc-start") in reply.plain
            state, _rev = await service.runtime.store.load(key)
            assert state is not None and state["node"] == "tc-start"
    finally:
        await proxy.cut()
    assert_no_ids(caplog, user, key)


async def test_proxy_error_pages_are_retried_then_the_user_is_told(fake_telegram: FakeTelegram,
                                                                   tmp_path: Path) -> None:
    async with running(bot_settings(fake_telegram, tmp_path / "data")) as service:
        session = service.bot.session
        assert isinstance(session, TolerantSession)
        retry = session.retries
        retry.base_delay = 0.01
        user = fake_telegram.user(7103, language_code="fr")
        fake_telegram.fail_next("sendMessage", status=502, body=NGINX_502, times=2)
        user.send_text("/start")
        (reply,) = await user.wait_reply()
        assert title("fr", "start") in reply.plain
        # Every try of the edit meets a proxy's 504 page: the user is told, not left in silence.
        fake_telegram.fail_next("editMessageText", status=504, body=NGINX_504, times=retry.attempts)
        user.press("1:g:tc-start")
        (reply,) = await user.wait_reply()
        assert reply.event == "send" and reply.plain == said(service, "fr", TRY_AGAIN)
    assert [c.status for c in fake_telegram.calls("sendMessage")] == [502, 502, 200, 200]
    assert [c.status for c in fake_telegram.calls("editMessageText")] == [504] * 5
    assert fake_telegram.violations == []


async def test_polling_waits_as_long_as_telegram_asks(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    fake_telegram.fail_next("getUpdates", status=429, retry_after=2)
    async with running(bot_settings(fake_telegram, tmp_path / "data")):
        user = fake_telegram.user(7104)
        user.send_text("/start")
        await user.wait_reply(timeout=10)
    polls = fake_telegram.calls("getUpdates")
    refused = next(i for i, call in enumerate(polls) if call.status == 429)
    assert polls[refused + 1].time - polls[refused].time >= 2.0


async def test_retry_after_is_never_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # 45 s cannot be waited for in a test
        slept.append(seconds)

    monkeypatch.setattr(tg_delivery.asyncio, "sleep", sleep)
    for method in (SendMessage(chat_id=1, text="x"), GetUpdates()):
        failures = [TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=45)]

        async def make_request(_bot: Any, _method: Any, _timeout: int | None = None,
                               failures: list[Any] = failures) -> bool:
            if failures:
                raise failures.pop()
            return True

        assert await Retries().send(make_request, None, method) is True  # type: ignore[arg-type]
    assert slept == [45.0, 45.0]


async def test_a_press_that_keeps_losing_the_race_is_not_shown(fake_telegram: FakeTelegram,
                                                               tmp_path: Path) -> None:
    async with running(bot_settings(fake_telegram, tmp_path / "data")) as service:
        user = fake_telegram.user(7105, language_code="es")
        user.send_text("/start")
        await user.wait_reply()
        store = service.runtime.store
        key = service.runtime.keyer.key(user.chat_id)
        real_save = store.save

        async def save_after_a_rival(k: str, state: dict[str, Any], rev: int) -> bool:
            # Another writer (another replica) saves this session first, every time.
            data, current = await store.load(k)
            assert data is not None
            await real_save(k, data, current)
            return await real_save(k, state, rev)

        store.save = save_after_a_rival  # type: ignore[method-assign]
        user.press("1:g:tc-start")
        (reply,) = await user.wait_reply()
        assert reply.plain == said(service, "es", PRESS_AGAIN)
        state, _rev = await store.load(key)
        assert state is not None and state["node"] == "start"  # the press was not saved


async def test_stale_notice_names_the_screen_and_every_press_is_answered(fake_telegram: FakeTelegram,
                                                                         tmp_path: Path) -> None:
    async with running(bot_settings(fake_telegram, tmp_path / "data")) as service:
        user = fake_telegram.user(7106)
        user.send_text("/start")
        await user.wait_reply()
        store, key = service.runtime.store, service.runtime.keyer.key(user.chat_id)
        # The step this user was on was removed from the guide by a content update.
        data, rev = await store.load(key)
        assert data is not None
        assert await store.save(key, {**data, "node": "removed-step"}, rev)
        service.runtime.sessions.drop(key)
        old = user.last_message()
        assert old is not None
        user.press_on(old.message_id, "1:g:tc-start")
        (reply,) = await user.wait_reply()
        assert f"Here is “{title('en', 'tc-start')}”" in reply.plain
        assert "main menu" not in reply.plain.split("\n")[0]
        data, rev = await store.load(key)
        assert data is not None and await store.save(key, {**data, "node": "removed-step"}, rev)
        service.runtime.sessions.drop(key)
        user.press_on(old.message_id, "1:h")
        (reply,) = await user.wait_reply()
        assert reply.plain.startswith("This guide was updated") and "Here is the main menu" in reply.plain
        for _ in range(2):  # a button no longer on the message, pressed twice: both answered
            fake_telegram.queue_update(fake_telegram.make_callback_update(
                user.chat_id, old.message_id, "1:g:tc-start", user=user.as_dict()))
            await fake_telegram.wait_idle()
        await fake_telegram.wait_idle()
    assert fake_telegram.unanswered_callbacks() == []


def test_storage_causes_name_the_fault_not_the_data() -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    wrapped = OperationalError("UPDATE sessions SET state=? WHERE key=?", ("secret-state", "k" * 64),
                               sqlite3.OperationalError("database or disk is full"))
    assert storage_cause(wrapped) == "disk-full"
    assert storage_cause(sqlite3.OperationalError("attempt to write a readonly database")) == "read-only"
    assert storage_cause(sqlite3.DatabaseError("database disk image is malformed")) == "corrupt-database"
    assert storage_cause(ConnectionRefusedError(111, "Connect call failed")) == "database-unreachable"
    clock = [0.0]
    health = StorageHealth(interval=60, clock=lambda: clock[0])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("kyr_bot.storage").addHandler(handler)
    try:
        for _ in range(100):
            health.failed(wrapped)
        clock[0] = 61
        health.failed(wrapped)
        health.worked()
        health.worked()
    finally:
        logging.getLogger("kyr_bot.storage").removeHandler(handler)
    lines = [r.getMessage() for r in records]
    assert len(lines) == 3 and "failed_steps=100" in lines[1] and "works again" in lines[2]
    assert not any("secret-state" in line or "k" * 64 in line for line in lines)

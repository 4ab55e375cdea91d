"""End to end: the real bot and aiogram client against the fake Bot API server over HTTP."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.content.loader import load_tree
from e2e import SECRET, bot_settings, button_data, content_buttons, free_port, running
from fake_telegram import FakeTelegram
from helpers import CONTENT

TREE, _ = load_tree(CONTENT)


def title(lang: str, node: str) -> str:
    from bot.content.telegram_html import visible_text

    return visible_text(TREE.languages[lang].nodes[node].title)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def assert_clean(fake: FakeTelegram) -> None:
    assert fake.violations == [], fake.violations


async def test_start_in_users_language_and_commands(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(1001, language_code="es-MX")
        user.send_text("/start")
        (reply,) = await user.wait_reply()
        assert title("es", "start") in reply.plain
        assert "🌐 Idioma" in reply.buttons
    for code in ("es", "fr", "en", ""):
        commands = fake_telegram.commands(language_code=code)
        assert commands and [c["command"] for c in commands] == [
            "start", "menu", "back", "language", "lawyer", "help", "privacy", "forget"]
    assert fake_telegram.commands(language_code="es")[1]["description"] == "Menú principal"
    assert_clean(fake_telegram)


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
async def test_third_country_path_to_its_end_and_lawyer_sheet(fake_telegram: FakeTelegram, data: Path,
                                                              lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(2000 + len(lang), language_code=lang)
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:tc-start")
        (reply,) = await user.wait_reply()
        assert reply.event == "edit" and title(lang, "tc-start") in reply.plain
        seen = ["tc-start"]
        for _ in range(25):  # follow the first choice not taken yet, until a path ends
            if button_data(user, "1:w"):
                break
            options = [d for _label, d in content_buttons(fake_telegram, user)]
            data_ = next((d for d in options if d[4:] not in seen), options[-1])
            user.press(data_)
            (reply,) = await user.wait_reply()
            seen.append(data_[4:])
            assert title(lang, seen[-1]) in reply.plain
        assert button_data(user, "1:w"), f"no ending reached after {seen}"
        user.press("1:w")
        sheet, document = await user.wait_reply(2)
        assert sheet.event == "send" and document.event == "document"
        assert "1-800-898-7180" in sheet.plain
        body = document.message.document.data.decode()
        assert f'lang="{lang}"' in body and ('lang="en"' in body)
        assert str(user.chat_id) not in body and user.username not in body
    assert_clean(fake_telegram)


async def test_language_switch_keeps_the_step(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3001, language_code="en")
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:tc-start")
        await user.wait_reply()
        user.press("1:L")
        (picker,) = await user.wait_reply()
        assert {"English", "Español", "Français"} <= set(picker.buttons)
        user.press("Français")
        (reply,) = await user.wait_reply()
        assert title("fr", "tc-start") in reply.plain
        assert "🌐 Langue" in reply.buttons or any("Langue" in b for b in reply.buttons)
    assert_clean(fake_telegram)


async def test_back_home_and_commands(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3002)
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:ag-start")
        await user.wait_reply()
        first = content_buttons(fake_telegram, user)[0][1]
        user.press(first)
        await user.wait_reply()
        user.press("1:b")
        (reply,) = await user.wait_reply()
        assert title("en", "ag-start") in reply.plain
        user.press("1:h")
        (reply,) = await user.wait_reply()
        assert title("en", "start") in reply.plain
        user.send_text("/back")
        (reply,) = await user.wait_reply()
        assert reply.event == "send" and title("en", "ag-start") in reply.plain
        for command in ("/help", "/privacy", "/menu", "/unknowncommand"):
            user.send_text(command)
            (reply,) = await user.wait_reply()
            assert reply.plain
    assert_clean(fake_telegram)


@pytest.mark.parametrize(("payload", "lang", "node"),
                         [("es-third-country", "es", "tc-start"), ("fr-find-help", "fr", "fh-start"),
                          ("nonsense-payload", "en", "start")])
async def test_deep_links(fake_telegram: FakeTelegram, data: Path, payload: str, lang: str,
                          node: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3100 + len(payload), language_code="en")
        user.send_text(f"/start {payload}")
        (reply,) = await user.wait_reply()
        assert title(lang, node) in reply.plain
    assert_clean(fake_telegram)


async def test_free_text_search(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3201, language_code="es")
        user.send_text("/start")
        await user.wait_reply()
        user.send_text("necesito un abogado")
        (reply,) = await user.wait_reply()
        found = content_buttons(fake_telegram, user)
        assert 1 <= len(found) <= 3
        user.press(found[0][1])
        (reply,) = await user.wait_reply()
        assert title("es", found[0][1][4:]) in reply.plain
        user.send_text("zzzz qqqq")
        (reply,) = await user.wait_reply()
        assert "abogado" in reply.plain  # the hint suggests words to type
    assert_clean(fake_telegram)


async def test_old_button_after_restart_and_content_version(fake_telegram: FakeTelegram,
                                                            data: Path) -> None:
    settings = bot_settings(fake_telegram, data)
    async with running(settings):
        user = fake_telegram.user(3301, language_code="fr")
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:tc-start")
        await user.wait_reply()
        old_message = user.last_message()
        assert old_message is not None
    async with running(settings):  # a restart: same database, same secret
        user.send_text("/back")
        (reply,) = await user.wait_reply()
        assert title("fr", "start") in reply.plain  # the trail survived the restart
        user.press_on(old_message.message_id, "1:b")
        (reply,) = await user.wait_reply()
        assert reply.plain
        bad = fake_telegram.make_callback_update(user.chat_id, old_message.message_id, "0:zz:old",
                                                 user=user.as_dict())
        fake_telegram.queue_update(bad)
        (reply,) = await user.wait_reply()
        assert "ancienne version" in reply.plain or "older version" in reply.plain
    assert_clean(fake_telegram)


async def test_forget_deletes_the_session(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(3401)
        user.send_text("/start")
        await user.wait_reply()
        assert await service.runtime.store.session_count() == 1
        user.press("1:fa")
        (ask,) = await user.wait_reply()
        assert "Delete everything" in ask.plain  # asked first, nothing deleted yet
        assert await service.runtime.store.session_count() == 1
        user.send_text("/forget")
        (reply,) = await user.wait_reply()
        assert "deleted" in reply.plain
        assert await service.runtime.store.session_count() == 0
    assert_clean(fake_telegram)


async def test_unexpected_updates_are_answered_or_ignored(fake_telegram: FakeTelegram, data: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3501)
        fake_telegram.queue_update(fake_telegram.make_message_update(
            user.chat_id, None, user=user.as_dict(), sticker={
                "file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 1,
                "height": 1, "is_animated": False, "is_video": False}))
        (reply,) = await user.wait_reply()
        assert "only read text and buttons" in reply.plain
        group = {"id": -100200, "type": "group", "title": "Family"}
        fake_telegram.add_chat(group)
        fake_telegram.queue_update(fake_telegram.make_message_update(
            -100200, "/start", user=user.as_dict(), chat=group))
        fake_telegram.queue_update(fake_telegram.make_message_update(
            user.chat_id, "edited text", user=user.as_dict(), kind="edited_message"))
        await fake_telegram.wait_idle()
        assert fake_telegram.messages(-100200) == []
        assert len(user.messages()) == 1
        lines = [r.getMessage() for r in caplog.records if r.name == "kyr_bot.updates"]
        assert any("type=message status=ignored" in line for line in lines), lines
        # Edits are not even asked for (allowed_updates): only the group's message was ignored.
        assert sum("status=ignored" in line for line in lines) == 1, lines
        bad = fake_telegram.make_message_update(user.chat_id, "hi", user=user.as_dict())
        del bad["message"]["chat"]  # malformed: a message without a chat
        fake_telegram.queue_update(bad)
        user.send_text("/start")
        (reply,) = await user.wait_reply()
        assert reply.plain
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert_clean(fake_telegram)


async def test_telegram_errors_are_survived(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(3601)
        fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
        user.send_text("/start")
        (reply,) = await user.wait_reply(timeout=8)
        assert reply.event == "send"
        fake_telegram.fail_next("editMessageText", status=500, description="Internal Server Error")
        fake_telegram.drop_next("answerCallbackQuery", times=2)  # both tries fail
        user.press("1:g:tc-start")
        (reply,) = await user.wait_reply(timeout=8)
        assert title("en", "tc-start") in reply.plain
        # The same screen again: Telegram says "message is not modified"; nothing reaches the user.
        user.press("1:h")
        await user.wait_reply()
        user.press("1:h")
        await fake_telegram.wait_idle()
        assert any("not modified" in d for _m, d in fake_telegram.expected_errors)
        # A button on a message that no longer exists: a new message is sent instead.
        gone = user.last_message()
        assert gone is not None
        press = fake_telegram.make_callback_update(user.chat_id, gone.message_id, "1:h",
                                                   user=user.as_dict())
        gone.deleted = True  # the user deleted the message before the press arrived
        fake_telegram.queue_update(press)
        (reply,) = await user.wait_reply()
        assert reply.event == "send" and title("en", "start") in reply.plain
    sent = [c for c in fake_telegram.calls("sendMessage") if c.ok]
    assert len(sent) == 2  # no message was lost or sent twice
    refused = {c.description for c in fake_telegram.calls("editMessageText") if c.status == 400}
    assert {d.split(":")[1].strip() for d in refused if d} == {"message is not modified",
                                                               "message to edit not found"}
    assert_clean(fake_telegram)


async def test_query_too_old_still_gets_the_step(data: Path) -> None:
    fake = FakeTelegram(callback_ttl=0.0)
    await fake.start()
    try:
        async with running(bot_settings(fake, data)):
            user = fake.user(3701)
            user.send_text("/start")
            await user.wait_reply()
            user.press("1:g:fh-start")
            (reply,) = await user.wait_reply()
            assert title("en", "fh-start") in reply.plain
        assert any("query is too old" in d for _m, d in fake.expected_errors)
        assert_clean(fake)
    finally:
        await fake.stop()


async def test_messages_to_one_chat_are_paced(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data, CHAT_MIN_INTERVAL="0.3", CHAT_BURST="1")):
        user = fake_telegram.user(3801)
        user.send_text("/start")
        user.send_text("/help")
        user.send_text("/privacy")
        await user.wait_reply(3)
    gap = fake_telegram.min_gap(user.chat_id)
    assert gap is not None and gap >= 0.29


async def test_two_presses_at_once_keep_the_session_consistent(fake_telegram: FakeTelegram,
                                                               data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(3901)
        user.send_text("/start")
        await user.wait_reply()
        message = user.last_message()
        assert message is not None
        user.press_on(message.message_id, "1:g:tc-start")
        user.press_on(message.message_id, "1:g:ag-start")
        await user.wait_reply(2)
        key = service.runtime.keyer.key(user.chat_id)
        state, rev = await service.runtime.store.load(key)
        assert rev == 4  # /start, its message's id (for /forget), both presses one after the other
        assert state is not None and state["node"] in ("tc-start", "ag-start")
        assert [step[0] for step in state["trail"]][-1] in ("tc-start", "ag-start")
    assert_clean(fake_telegram)


async def test_webhook_checks_the_secret(fake_telegram: FakeTelegram, data: Path) -> None:
    port = free_port()
    settings = bot_settings(fake_telegram, data, WEBHOOK_URL="https://bot.example.org/webhook",
                            WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
    url = f"http://127.0.0.1:{port}/webhook"
    async with running(settings, webhook=True):
        assert fake_telegram.webhook and fake_telegram.webhook.get("secret_token") == SECRET
        user = fake_telegram.user(4001, language_code="fr")
        update = fake_telegram.make_message_update(user.chat_id, "/start", user=user.as_dict())
        assert await fake_telegram.post_webhook(url, update, secret=None) == 401
        assert await fake_telegram.post_webhook(url, update, secret="wrong") == 401
        await asyncio.sleep(0.2)
        assert user.messages() == []
        assert await fake_telegram.post_webhook(url, update, secret=SECRET) == 200
        (reply,) = await user.wait_reply()
        assert title("fr", "start") in reply.plain
        assert await fake_telegram.post_webhook(url, {"update_id": "x", "message": 5}, SECRET) == 200
    assert_clean(fake_telegram)


async def test_content_hot_reload_on_sighup(fake_telegram: FakeTelegram, data: Path, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    import os
    import signal

    from helpers import MINI, copy_tree, edit

    content = copy_tree(MINI, tmp_path / "content")
    settings = bot_settings(fake_telegram, data, CONTENT_DIR=str(content))
    async with running(settings) as service:
        user = fake_telegram.user(4101)
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:fear")
        await user.wait_reply()
        user.press("1:g:fear-no")
        await user.wait_reply()
        version = service.runtime.engine.tree.version
        for lang in ("en", "es"):  # the step the user is on disappears in a content update
            f = content / lang / "topic.md"
            text = f.read_text()
            f.write_text(text[: text.index("## fear-no")] + text[text.index("## grounds"):])
            edit(f, "-> [No](fear-no)\n", "")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(50):
            if service.runtime.engine.tree.version != version:
                break
            await asyncio.sleep(0.05)
        assert service.runtime.engine.tree.version != version
        user.press("1:b")
        (reply,) = await user.wait_reply()
        assert "updated" in reply.plain and "Welcome" in reply.plain
        good = service.runtime.engine.tree.version
        edit(content / "en" / "topic.md", "-> [Yes](fear-yes)", "-> [Yes](nowhere)")
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(50):
            if "content reload refused" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "content reload refused" in caplog.text and "nowhere" in caplog.text
        assert service.runtime.engine.tree.version == good
        user.press("1:g:fear")
        (reply,) = await user.wait_reply()
        assert "Are you afraid?" in reply.plain  # still serving the last good content
    assert_clean(fake_telegram)


async def test_slow_api_and_oversized_text(fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(4201)
        fake_telegram.delay_next("sendMessage", 1.5)
        user.send_text("/start")
        (reply,) = await user.wait_reply(timeout=8)
        assert reply.event == "send"
        user.send_text("lawyer " * 580)  # about 4,000 characters of typing
        (reply,) = await user.wait_reply()
        assert reply.plain and len(reply.plain) < 4096
    sends = [c for c in fake_telegram.calls("sendMessage") if c.ok]
    assert len(sends) == 2
    assert_clean(fake_telegram)


@pytest.mark.parametrize("webhook", [False, True])
async def test_updates_in_flight_are_bounded(fake_telegram: FakeTelegram, data: Path,
                                             webhook: bool) -> None:
    port = free_port()
    extra = {"MAX_UPDATES_IN_FLIGHT": "3"}
    if webhook:
        extra.update(WEBHOOK_PORT=str(port), WEBHOOK_URL="https://bot.example.org/webhook",
                     WEBHOOK_SECRET=SECRET)
    async with running(bot_settings(fake_telegram, data, **extra), webhook=webhook) as service:
        users = [fake_telegram.user(5100 + i) for i in range(12)]
        fake_telegram.delay_next("sendMessage", 0.2, times=12)  # every answer is slow
        most = 0

        async def watch() -> None:
            nonlocal most
            while True:
                most = max(most, service.in_flight.count)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        updates = [fake_telegram.make_message_update(u.chat_id, "/start", user=u.as_dict())
                   for u in users]
        if webhook:
            url = f"http://127.0.0.1:{port}/webhook"
            statuses = await asyncio.gather(*(fake_telegram.post_webhook(url, u, SECRET)
                                              for u in updates))
            assert statuses == [200] * 12
        else:
            for update in updates:
                fake_telegram.queue_update(update)
        for user in users:  # every update is served, none dropped
            (reply,) = await user.wait_reply(timeout=10)
            assert reply.event == "send"
        watcher.cancel()
    assert 1 <= most <= 3
    assert_clean(fake_telegram)

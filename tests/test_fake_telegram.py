"""Tests of the fake Telegram Bot API server, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, web

from fake_telegram import NOT_MODIFIED, TOO_OLD, FakeTelegram

TOKEN = "123456:TEST"
CHAT = 42


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    """One row of callback buttons from (label, data) pairs."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


def make_bot(fake: FakeTelegram) -> Bot:
    """A real aiogram Bot whose HTTP goes to the fake server.

    ``fake.session()`` is an AiohttpSession subclass whose close() skips aiogram's 250 ms
    SSL grace sleep; one test uses the stock AiohttpSession to prove they behave alike.
    """
    return Bot(token=TOKEN, session=fake.session())


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake_telegram)
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_get_me_with_stock_session(fake_telegram: FakeTelegram) -> None:
    api = TelegramAPIServer.from_base(fake_telegram.base_url)
    bot = Bot(token=TOKEN, session=AiohttpSession(api=api))
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == fake_telegram.bot_username
    assert [c.method for c in fake_telegram.requests] == ["getMe"]


async def test_send_message_is_stored_and_returned(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    assert await bot.send_chat_action(CHAT, "typing")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="yes"),
                InlineKeyboardButton(text="Site", url="https://example.org"),
            ]
        ]
    )
    msg = await bot.send_message(CHAT, "<b>Hi</b> &amp; welcome 👋", parse_mode="HTML", reply_markup=markup)

    assert msg.chat.id == CHAT
    assert msg.from_user is not None and msg.from_user.id == bot.id
    assert msg.text == "Hi & welcome 👋"
    assert msg.entities is not None
    assert (msg.entities[0].type, msg.entities[0].offset, msg.entities[0].length) == ("bold", 0, 2)
    assert msg.reply_markup is not None
    assert msg.reply_markup.model_dump() == markup.model_dump()

    stored = ana.last_message()
    assert stored is not None and stored.message_id == msg.message_id
    assert stored.text == "<b>Hi</b> &amp; welcome 👋"
    assert stored.plain == "Hi & welcome 👋"
    assert ana.buttons() == ["Yes", "Site"]
    (call,) = fake_telegram.calls("sendMessage", chat_id=CHAT)
    assert call.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Yes",
        "callback_data": "yes",
    }
    assert fake_telegram.violations == []


async def test_invalid_html_is_rejected(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "<b>bold <i>mixed</b></i>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CHAT, "1 < 2 & <div>x</div>", parse_mode="HTML")
    # The same text without parse_mode is plain text and fine.
    await bot.send_message(CHAT, "1 < 2 & <div>x</div>")

    assert len(fake_telegram.violations) == 2
    assert all(m == "sendMessage" for m, _ in fake_telegram.violations)
    assert all(d.startswith("Bad Request: can't parse entities: ") for _, d in fake_telegram.violations)
    assert [m.plain for m in ana.messages()] == ["1 < 2 & <div>x</div>"]
    assert fake_telegram.expected_errors == []


async def test_message_length_limit(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.user(CHAT)
    await bot.send_message(CHAT, "a" * 4096)
    await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")  # tags are free
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 units
    assert fake_telegram.violations == [("sendMessage", "Bad Request: message is too long")] * 2
    assert len(fake_telegram.messages(CHAT)) == 2


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.user(CHAT)
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(("Go", "x" * 64)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "too long", reply_markup=keyboard(("Go", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "multibyte", reply_markup=keyboard(("Go", "é" * 33)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "empty", reply_markup=keyboard(("Go", "")))
    with pytest.raises(TelegramBadRequest, match="text buttons are unallowed"):
        await bot.send_message(CHAT, "no label", reply_markup=keyboard(("", "go")))
    assert len(fake_telegram.violations) == 4
    assert len(fake_telegram.messages(CHAT)) == 1


async def test_edit_not_modified_and_not_found(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    msg = await bot.send_message(CHAT, "Pick one", reply_markup=keyboard(("A", "a")))

    with pytest.raises(TelegramBadRequest) as err:
        await bot.edit_message_text(
            "Pick one", chat_id=CHAT, message_id=msg.message_id, reply_markup=keyboard(("A", "a"))
        )
    assert err.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=CHAT, message_id=msg.message_id, reply_markup=keyboard(("A", "a"))
        )

    edited = await bot.edit_message_text("Picked A", chat_id=CHAT, message_id=msg.message_id)
    assert isinstance(edited, Message) and edited.text == "Picked A"
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert [m.plain for m in ana.messages()] == ["Picked A"]

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)
    assert await bot.delete_message(CHAT, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=CHAT, message_id=msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CHAT, msg.message_id)

    assert ana.messages() == []
    assert fake_telegram.violations == []
    assert [d.split(":")[1].strip() for _, d in fake_telegram.expected_errors] == [
        "message is not modified",
        "message is not modified",
        "message to edit not found",
        "message to edit not found",
        "message to delete not found",
    ]


async def test_answer_callback_query_twice_is_too_old(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    await bot.send_message(CHAT, "Pick", reply_markup=keyboard(("Yes", "yes"), ("No", "no")))
    query_id = ana.press("Yes")
    assert fake_telegram.unanswered_callbacks()[0].data == "yes"

    assert await bot.answer_callback_query(query_id, text="Noted") is True
    with pytest.raises(TelegramBadRequest) as err:
        await bot.answer_callback_query(query_id)
    assert err.value.message == TOO_OLD
    assert ana.answers() == [{"text": "Noted"}]

    fake_telegram.callback_ttl = 0.05
    late = ana.press("no")  # by callback_data
    await asyncio.sleep(0.06)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")
    assert fake_telegram.violations == []
    assert len(fake_telegram.expected_errors) == 3


async def test_get_updates_long_poll(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT, language_code="es")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()  # really waiting
    ana.send_text("/start lang_es")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.message is not None
    assert update.message.text == "/start lang_es"
    assert update.message.entities is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert update.message.from_user is not None
    assert update.message.from_user.language_code == "es"

    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard(("Yes", "yes")))
    ana.press("Yes")
    (update2,) = await bot.get_updates(offset=update.update_id + 1, timeout=1)
    assert update2.update_id > update.update_id
    query = update2.callback_query
    assert query is not None and query.data == "yes"
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.from_user.id == CHAT

    # Confirming with offset drops the update; allowed_updates filters unwanted types.
    fake_telegram.queue_update(fake_telegram.make_message_update(CHAT, "typo fixed", kind="edited_message"))
    assert (
        await bot.get_updates(
            offset=update2.update_id + 1, timeout=0, allowed_updates=["message", "callback_query"]
        )
        == []
    )
    assert fake_telegram.pending_updates == []
    assert len(fake_telegram.filtered_updates) == 1


async def test_injected_faults(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.user(CHAT)
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(CHAT, "hi")
    assert err.value.retry_after == 3

    fake_telegram.fail_next("sendMessage", status=500)
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(CHAT, "hi")
    fake_telegram.fail_next("sendMessage", status=502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(CHAT, "hi")
    fake_telegram.drop_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(CHAT, "hi")

    fake_telegram.delay_next("sendMessage", 0.1)
    start = time.monotonic()
    await bot.send_message(CHAT, "finally")
    assert time.monotonic() - start >= 0.1

    calls = fake_telegram.calls("sendMessage")
    assert [c.status for c in calls] == [429, 500, 502, 0, 200]
    assert [m.plain for m in fake_telegram.messages(CHAT)] == ["finally"]
    assert fake_telegram.violations == [] and fake_telegram.expected_errors == []

    fake_telegram.block(CHAT)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(CHAT, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "hi")
    assert [d for _, d in fake_telegram.expected_errors] == [
        "Forbidden: bot was blocked by the user",
        "Bad Request: chat not found",
    ]


async def test_set_my_commands_per_language(bot: Bot, fake_telegram: FakeTelegram) -> None:
    en = [BotCommand(command="start", description="Start"), BotCommand(command="help", description="Help")]
    es = [BotCommand(command="start", description="Empezar")]
    assert await bot.set_my_commands(en)
    assert await bot.set_my_commands(es, language_code="es")
    assert await bot.set_my_commands(es, scope=BotCommandScopeChat(chat_id=CHAT))

    assert [c.model_dump() for c in await bot.get_my_commands()] == [c.model_dump() for c in en]
    assert [c.command for c in await bot.get_my_commands(language_code="es")] == ["start"]
    assert await bot.get_my_commands(language_code="fr") == []
    assert fake_telegram.commands("es") == [{"command": "start", "description": "Empezar"}]
    assert fake_telegram.commands(scope={"type": "chat", "chat_id": CHAT}) is not None

    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert await bot.delete_my_commands(language_code="es")
    assert fake_telegram.commands("es") is None
    assert len(fake_telegram.violations) == 1


async def test_send_document_stores_bytes(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    data = b"%PDF-1.4 know your rights\n" * 100
    msg = await bot.send_document(
        CHAT,
        BufferedInputFile(data, filename="rights.pdf"),
        caption="<b>Your rights</b>",
        parse_mode="HTML",
    )
    assert msg.document is not None
    assert msg.document.file_name == "rights.pdf"
    assert msg.document.mime_type == "application/pdf"
    assert msg.document.file_size == len(data)
    assert msg.caption == "Your rights"

    (stored,) = fake_telegram.documents(CHAT)
    assert stored.document is not None and stored.document.data == data
    again = await bot.send_document(CHAT, msg.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_size == len(data)
    assert [o.event for o in await ana.wait_reply(2, timeout=0.1)] == ["document", "document"]


async def test_raw_http_unknown_method_bad_token_and_json(fake_telegram: FakeTelegram) -> None:
    fake_telegram.user(CHAT)
    base = fake_telegram.base_url
    async with ClientSession() as http:
        async with http.post(f"{base}/bot{TOKEN}/fooBar") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.post(f"{base}/botnot-a-token/getMe") as resp:
            assert resp.status == 401
            assert (await resp.json())["description"] == "Unauthorized"
        async with http.post(
            f"{base}/bot{TOKEN}/sendmessage", json={"chat_id": CHAT, "text": "json body"}
        ) as resp:
            body = await resp.json()
            assert body["ok"] is True and body["result"]["text"] == "json body"
        async with http.get(f"{base}/bot{TOKEN}/getMe") as resp:
            assert (await resp.json())["result"]["is_bot"] is True
    assert [c.method for c in fake_telegram.requests] == ["fooBar", "getMe", "sendMessage", "getMe"]


async def test_dispatcher_polling_end_to_end(fake_telegram: FakeTelegram) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Welcome ({command.args})", reply_markup=keyboard(("Yes", "yes")))

    @router.callback_query(F.data == "yes")
    async def yes(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("You chose yes")
        await query.answer()

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(fake_telegram)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        ana = fake_telegram.user(CHAT)
        ana.send_text("/start abc")
        (reply,) = await ana.wait_reply()
        assert reply.plain == "Welcome (abc)" and reply.buttons == ["Yes"]
        ana.press("Yes")
        (edit,) = await ana.wait_reply()
        assert (edit.event, edit.plain, edit.buttons) == ("edit", "You chose yes", [])
        await fake_telegram.wait_idle(timeout=2)
        assert fake_telegram.violations == [] and fake_telegram.expected_errors == []
        assert fake_telegram.unanswered_callbacks() == []
        assert fake_telegram.min_gap(CHAT) is not None
        get_updates = fake_telegram.calls("getUpdates")[0]
        assert set(get_updates.params["allowed_updates"]) == {"message", "callback_query"}
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 2)
        await bot.session.close()


async def test_webhook_delivery_and_reply_in_response(fake_telegram: FakeTelegram) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> object:
        return message.answer("Hi from webhook")  # returned, not awaited: sent in the response

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(fake_telegram)
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cret").register(
        app, path="/webhook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        assert await bot.set_webhook("https://bot.example.org/webhook", secret_token="s3cret")
        assert (await bot.get_webhook_info()).url == "https://bot.example.org/webhook"
        with pytest.raises(TelegramConflictError):
            await bot.get_updates()
        with pytest.raises(TelegramBadRequest, match="HTTPS URL"):
            await bot.set_webhook("http://insecure.example.org/webhook")

        ana = fake_telegram.user(CHAT)
        update = fake_telegram.make_message_update(CHAT, "/start")
        assert await fake_telegram.post_webhook(url, update, secret="wrong") == 401
        assert await fake_telegram.post_webhook(url, update, secret="s3cret") == 200
        assert [m.plain for m in ana.messages()] == ["Hi from webhook"]
        assert fake_telegram.calls("sendMessage")[0].via == "webhook-reply"
        assert await bot.delete_webhook()
        # Polling while a webhook is set, and an http:// webhook, are bot bugs.
        assert [m for m, _ in fake_telegram.violations] == ["getUpdates", "setWebhook"]
    finally:
        await runner.cleanup()
        await bot.session.close()


async def test_delete_messages_follows_telegrams_rules(bot: Bot, fake_telegram: FakeTelegram) -> None:
    ana = fake_telegram.user(CHAT)
    old = await bot.send_message(CHAT, "two days ago")
    typed_old = ana.send_text("mine, two days ago")
    fake_telegram.advance(48 * 3600)  # exactly 48 hours later: too old to delete
    new = [(await bot.send_message(CHAT, f"now {i}")).message_id for i in range(3)]
    typed_new = ana.send_text("mine, now")
    ids = [old.message_id, typed_old, *new, typed_new, 9999]
    assert await bot.delete_messages(CHAT, ids) is True  # what cannot be deleted is skipped
    assert fake_telegram.deleted[CHAT] == [*new, typed_new]
    assert [m.message_id for m in ana.messages()] == [old.message_id]
    assert fake_telegram.user_message_deleted(CHAT, typed_new)
    assert not fake_telegram.user_message_deleted(CHAT, typed_old)
    with pytest.raises(TelegramBadRequest, match="can't be deleted"):
        await bot.delete_message(CHAT, old.message_id)
    with pytest.raises(TelegramBadRequest, match="too many"):
        await bot.delete_messages(CHAT, list(range(1, 102)))
    with pytest.raises(TelegramBadRequest):
        await bot.delete_messages(CHAT, [])
    assert await bot.delete_messages(CHAT, list(range(1, 101))) is True  # 100 is allowed


async def test_descriptions_per_language_and_their_limits(bot: Bot,
                                                          fake_telegram: FakeTelegram) -> None:
    assert await bot.set_my_description("d" * 512, language_code="es")
    assert await bot.set_my_short_description("s" * 120)
    assert (await bot.get_my_description(language_code="es")).description == "d" * 512
    assert (await bot.get_my_short_description()).short_description == "s" * 120
    assert (await bot.get_my_description()).description == ""
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_description("d" * 513)
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_short_description("s" * 121, language_code="fr")
    assert fake_telegram.short_descriptions == {"": "s" * 120}

"""Baselines ``bench/run.py`` compares kyr-bot with, each run as its own process.

``python bench/bare_bot.py stock|tuned API_BASE [--webhook PORT]``

- ``stock``: a button bot written as aiogram's documentation shows it (``Dispatcher``,
  ``callback.answer()``, ``callback.message.edit_text(...)``, ``start_polling``, or
  ``SimpleRequestHandler`` + ``setup_application`` for a webhook; INFO logging). It imports
  only aiogram, so its memory and speed are stock aiogram's.
- ``tuned``: the same bot with the generic speed-ups any aiogram bot could take, the ones
  kyr-bot takes too: aiogram's types built on first use (``bot/telegram/lazy_aiogram.py``,
  imported before aiogram), ``gc.freeze()`` after start, keyboards sent as ready JSON and
  Telegram's answers to edits and sends not parsed into ``Message`` objects.

- ``lean``: the same bot with every generic speed-up kyr-bot takes on top of those (``--lean``
  in ``bench/run.py``, for information, not a target): kyr-bot's JSON-body session with
  retries, updates read from Telegram's JSON (``bot/telegram/incoming.py``), no aiogram
  dispatcher, kyr-bot's poller (the next poll sent at once), and over webhook the tap answered
  in the HTTP response with the edit made after it. What separates kyr-bot from it is what
  kyr-bot does per update: the session, the engine, the log line, its screens.

All do the least a button bot can: answer the tap and edit the message to a new text with a
fixed keyboard (or send them, for a typed message). The text changes on every update, so
Telegram never answers "message is not modified".
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
from pathlib import Path

TUNED = len(sys.argv) > 1 and sys.argv[1] in ("tuned", "lean")
LEAN = len(sys.argv) > 1 and sys.argv[1] == "lean"
if TUNED:  # before aiogram, so that aiogram builds its types on first use
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import bot.telegram.lazy_aiogram as lazy  # isort: skip

import gc  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.enums import ParseMode  # noqa: E402
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetUpdates, SendMessage  # noqa: E402
from aiogram.methods.base import Response  # noqa: E402
from aiogram.types import (  # noqa: E402
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application  # noqa: E402
from aiohttp import web  # noqa: E402

TOKEN = "123456:BENCH"
SECRET = "bench-secret"
WEBHOOK_URL = "https://bench.example.org/webhook"
TEXT = ("<b>A fixed answer</b>\n\n" + "This is the same text every time, about as long as a "
        "step of the guide. " * 8).strip()
ROWS = [[("Choice a", "1:g:bare-a")], [("Choice b", "1:g:bare-b")], [("Choice c", "1:g:bare-c")],
        [("◀️ Back", "1:b"), ("🏠 Main menu", "1:h")],
        [("🌐 Language", "1:L"), ("🗑 Delete my data", "1:fa")]]
KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[
    [InlineKeyboardButton(text=label, callback_data=data) for label, data in row] for row in ROWS])
KEYBOARD_JSON = json.dumps({"inline_keyboard": [[{"text": label, "callback_data": data}
                                                 for label, data in row] for row in ROWS]},
                           ensure_ascii=False, separators=(",", ":"))
_counter = itertools.count(1)


def text() -> str:
    """A new text each time (as a real bot's screens differ)."""
    return f"{TEXT}\n\n#{next(_counter)}"


class SendText(SendMessage):
    """``sendMessage`` with the keyboard as JSON text; the answer stays plain JSON."""

    __returning__ = Any  # type: ignore[assignment]
    reply_markup: str | None = None  # type: ignore[assignment]


class EditText(EditMessageText):
    """``editMessageText`` with the keyboard as JSON text; the answer stays plain JSON."""

    __returning__ = Any  # type: ignore[assignment]
    reply_markup: str | None = None  # type: ignore[assignment]


def stock_dispatcher() -> Dispatcher:
    """The handlers as aiogram's documentation writes them."""
    dp = Dispatcher()

    @dp.callback_query()
    async def on_button(callback: CallbackQuery) -> None:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_text(text(), reply_markup=KEYBOARD)

    @dp.message()
    async def on_message(message: Message) -> None:
        await message.answer(text(), reply_markup=KEYBOARD)

    return dp


def tuned_dispatcher() -> Dispatcher:
    """The same handlers, with ready keyboards and unparsed answers."""
    dp = Dispatcher(disable_fsm=True)

    @dp.callback_query()
    async def on_button(callback: CallbackQuery, bot: Bot) -> None:
        await callback.answer()
        if callback.message is not None:
            await bot(EditText(chat_id=callback.message.chat.id, text=text(),
                               message_id=callback.message.message_id, reply_markup=KEYBOARD_JSON))

    @dp.message()
    async def on_message(message: Message, bot: Bot) -> None:
        await bot(SendText(chat_id=message.chat.id, text=text(), reply_markup=KEYBOARD_JSON))

    return dp


HELD: list[Any] = []


def tune() -> None:
    """Build what the first update needs now, hold pydantic's response models, freeze the heap."""
    lazy.resolve_names()
    Update.model_rebuild()
    HELD.extend(Response[m.__returning__] for m in (SendText, AnswerCallbackQuery, GetUpdates))
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def run_lean(api_base: str, port: int) -> None:
    """The lean bot: kyr-bot's generic pieces around the same two answers."""
    from bot.telegram.delivery import TolerantSession
    from bot.telegram.incoming import Incoming, Malformed, read_update
    from bot.telegram.polling import Poller

    bot = Bot(token=TOKEN, session=TolerantSession(api=TelegramAPIServer.from_base(api_base)),
              default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    tasks: set[asyncio.Task[None]] = set()

    async def handle(update: Incoming, answered: bool) -> None:
        if update.chat_id is None:
            return
        if update.kind == "callback_query" and update.callback_id and update.message_id:
            answer = None if answered else asyncio.create_task(
                bot(AnswerCallbackQuery(callback_query_id=update.callback_id)))
            await bot(EditText(chat_id=update.chat_id, text=text(), message_id=update.message_id,
                               reply_markup=KEYBOARD_JSON))
            if answer is not None:
                await answer
        elif update.kind == "message":
            await bot(SendText(chat_id=update.chat_id, text=text(), reply_markup=KEYBOARD_JSON))

    await bot.get_me()
    tune()
    if not port:
        await bot.delete_webhook()
        await Poller(bot, lambda update: handle(update, False),
                     allowed_updates=["message", "callback_query"], limit=100).run()
        return

    async def webhook(request: web.Request) -> web.Response:
        try:
            update = read_update(json.loads(await request.read()))
        except (Malformed, ValueError):
            return web.json_response({})
        task = asyncio.create_task(handle(update, True))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        if update.callback_id is not None:
            return web.json_response({"method": "answerCallbackQuery",
                                      "callback_query_id": update.callback_id})
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await bot.set_webhook(WEBHOOK_URL, secret_token=SECRET)
    await asyncio.Event().wait()


def main() -> None:
    """Run the bot: long polling, or a webhook on 127.0.0.1:PORT."""
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    api_base = sys.argv[2]
    port = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--webhook" else 0
    if LEAN:
        asyncio.run(run_lean(api_base, port))
        return
    dp = tuned_dispatcher() if TUNED else stock_dispatcher()
    bot = Bot(token=TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)),
              default=DefaultBotProperties(parse_mode=ParseMode.HTML))

    if TUNED:
        dp.startup.register(tune)
    if not port:
        asyncio.run(dp.start_polling(bot))
        return

    async def on_startup(bot: Bot) -> None:
        await bot.set_webhook(WEBHOOK_URL, secret_token=SECRET)

    dp.startup.register(on_startup)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=SECRET).register(app, path="/webhook")
    setup_application(app, dp, bot=bot)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()

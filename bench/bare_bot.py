"""A bare aiogram bot: the baseline ``bench/run.py`` compares kyr-bot with.

It does the least a button bot can: answer the button and edit the message with a fixed text
and keyboard (or send them, for a typed message). ``python bench/bare_bot.py API_BASE`` runs it
as its own process, long-polling a local Bot API server (``bench/run.py --mode http``); it
imports only aiogram, so its memory is bare aiogram's.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

TOKEN = "123456:BENCH"
BARE_TEXT = ("<b>A fixed answer</b>\n\n" + "This is the same text every time, about as long as a "
             "step of the guide. " * 8).strip()
BARE_KEYBOARD = InlineKeyboardMarkup(inline_keyboard=[
    [InlineKeyboardButton(text=f"Choice {c}", callback_data=f"1:g:bare-{c}")] for c in "abc"
] + [
    [InlineKeyboardButton(text="◀️ Back", callback_data="1:b"),
     InlineKeyboardButton(text="🏠 Main menu", callback_data="1:h")],
    [InlineKeyboardButton(text="🌐 Language", callback_data="1:L"),
     InlineKeyboardButton(text="🗑 Delete my data", callback_data="1:fa")],
])


def bare_dispatcher() -> Dispatcher:
    """A dispatcher doing the least a button bot can: answer, edit (buttons) or send (messages)."""
    router = Router(name="bare")

    @router.callback_query()
    async def on_button(query: CallbackQuery, bot: Bot) -> None:
        await query.answer()
        message = query.message
        if message is not None:
            with contextlib.suppress(TelegramBadRequest):  # "not modified" on the fake server
                await bot.edit_message_text(text=BARE_TEXT, chat_id=message.chat.id,
                                            message_id=message.message_id, reply_markup=BARE_KEYBOARD)

    @router.message()
    async def on_message(message: Message) -> None:
        await message.answer(BARE_TEXT, reply_markup=BARE_KEYBOARD)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def poll(api_base: str) -> None:
    """Long-poll ``api_base`` until SIGTERM or SIGINT."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(
        parse_mode=ParseMode.HTML, link_preview_is_disabled=True))
    await bare_dispatcher().start_polling(bot, handle_signals=True, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(poll(sys.argv[1]))

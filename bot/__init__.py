"""kyr-bot: a multilingual know-your-rights chatbot for people facing third-country removal."""

from bot.lazy_aiogram import defer_aiogram_types

__version__ = "0.1.0"

# Before any module of the bot imports aiogram: saves ~110 MB of memory (see lazy_aiogram).
defer_aiogram_types()

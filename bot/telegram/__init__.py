"""The Telegram adapter: the only package that imports aiogram.

Importing it installs the deferral of aiogram's model building (see ``lazy_aiogram``) before any
module below imports aiogram.
"""

from bot.telegram.lazy_aiogram import defer_aiogram_types

defer_aiogram_types()

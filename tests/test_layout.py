"""The design rules the package layout stands for, checked in a fresh interpreter each."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_pure_core_loads_no_telegram_no_pydantic_no_database() -> None:
    loaded = _run("import sys, bot.conversation.engine, bot.content.checks, bot.terminal, bot.cli\n"
                  "print(sorted({m.split('.')[0] for m in sys.modules} & "
                  "{'aiogram', 'aiohttp', 'pydantic', 'sqlalchemy', 'sqlmodel'}))")
    assert loaded == "[]"


def test_the_aiogram_patch_applies_only_with_the_telegram_package() -> None:
    code = ("import bot, bot.cli, bot.conversation.engine\n"
            "from pydantic import BaseModel\n"
            "owner = lambda: BaseModel.__dict__['model_rebuild'].__func__.__module__\n"
            "before = owner()\n"
            "import bot.telegram\n"
            "print(before, owner())")
    assert _run(code) == "pydantic.main bot.telegram.lazy_aiogram"


def test_a_bot_on_sqlite_does_not_load_the_postgresql_driver() -> None:
    # asyncpg costs ~14 MB; its errors count as storage failures once PostgreSQL loads it.
    code = ("import sys, bot.telegram.runner\n"
            "from bot.store.health import storage_errors\n"
            "before = 'asyncpg' in sys.modules\n"
            "import asyncpg\n"
            "print(before, asyncpg.PostgresError in storage_errors())")
    assert _run(code) == "False True"

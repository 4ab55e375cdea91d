"""Adding a language is a documented path: catalogs add + a content folder, and the bot offers it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from bot.app import build_engine
from bot.content.checks import check_content
from bot.conversation import actions
from e2e import bot_settings, running
from fake_telegram import FakeTelegram
from helpers import LOCALES, MINI, copy_tree
from test_cli import kyr


def add_portuguese(tmp_path: Path) -> tuple[Path, Path]:
    content = copy_tree(MINI, tmp_path / "content")
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    result = kyr("catalogs", "add", "pt", "--locales", str(locales))
    assert result.returncode == 0, result.stderr
    po = locales / "pt" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    text = text.replace('msgid "Back"\nmsgstr ""', 'msgid "Back"\nmsgstr "Voltar"')
    text = text.replace('msgid "Language"\nmsgstr ""', 'msgid "Language"\nmsgstr "Idioma"')
    po.write_text(text)
    (content / "pt").mkdir()
    for source in (content / "en").glob("*.md"):
        version = re.search(r"^version: (\d+)", source.read_text(), re.M)
        assert version
        translated = source.read_text().replace(
            "---\n", f"---\ntranslated-from: {version.group(1)}\n", 1)
        (content / "pt" / source.name).write_text(translated.replace("Welcome", "Bem-vindo"))
    return content, locales


def test_new_language_is_checked_and_offered(tmp_path: Path) -> None:
    content, locales = add_portuguese(tmp_path)
    report = check_content(content, locales)
    assert report.errors == []
    # Only the main menu was translated; steps copied word for word count as not translated.
    assert any(line.startswith("pt: interface ") and "content 20%" in line for line in report.summary)
    assert {p.code for p in report.warnings} >= {"W-STEP-SAME-AS-SOURCE"}
    engine = build_engine(content, locales)
    state, _ = engine.step(engine.new_state("pt-BR"), actions.Start())
    assert state.lang == "pt"
    _, picker = engine.step(state, actions.PickLanguage())
    assert "Português" in [b.label for b in picker.buttons()]
    state, screen = engine.step(state, actions.Go("fear"))
    assert "◀️ Voltar" in [b.label for b in screen.buttons()]
    assert screen.text.startswith("<i>This part is not translated")  # pt has no such string yet


async def test_bot_registers_commands_for_the_new_language(fake_telegram: FakeTelegram,
                                                           tmp_path: Path) -> None:
    content, locales = add_portuguese(tmp_path)
    settings = bot_settings(fake_telegram, tmp_path / "data", CONTENT_DIR=str(content),
                            LOCALES_DIR=str(locales))
    async with running(settings):
        user = fake_telegram.user(5001, language_code="pt")
        user.send_text("/start")
        (reply,) = await user.wait_reply()
        assert "Bem-vindo" in reply.plain and "🌐 Idioma" in reply.buttons
    assert fake_telegram.commands(language_code="pt")

"""One command table: Telegram and the terminal chat read typed text the same way."""

from __future__ import annotations

import pytest

from bot.conversation import actions
from bot.conversation.commands import COMMANDS, parse_text
from bot.conversation.screen import Screen, ScreenKind
from bot.terminal import parse_input
from bot.words.i18n import I18n
from helpers import ROOT

TYPED = ["/start", "/start es-third-country", "/START@kyr_bot fr", "/menu", "/back", "/language",
         "/lawyer", "/help", "/privacy", "/forget", "/foo", "/", "judge lawyer", "deportar"]


@pytest.mark.parametrize("text", TYPED)
def test_terminal_and_telegram_read_typed_text_the_same(text: str) -> None:
    from bot.telegram.handlers import message_action
    from bot.telegram.incoming import read_update

    update = read_update({"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": text}})
    empty = Screen("", (), ScreenKind.NODE)
    assert message_action(update.text) == parse_input(text, empty) == parse_text(text)


def test_deep_link_unknown_command_and_plain_text() -> None:
    assert parse_text("/start es-third-country") == actions.Start("es-third-country")
    assert parse_text("/foo bar") == actions.Help()
    assert parse_text("la migra") == actions.Search("la migra")


def test_every_command_has_a_translated_description() -> None:
    i18n = I18n.load(ROOT / "locales")
    names = [command.name for command in COMMANDS]
    assert names[0] == "start" and len(set(names)) == len(names)
    for command in COMMANDS:
        assert parse_text(f"/{command.name}") == command.action("")
        for lang in ("es", "fr"):
            assert i18n.gettext(lang, command.description) != command.description, (lang, command.name)

"""The bot's commands, in one table: Telegram's command menu, both chats and /help use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.conversation import actions
from bot.words.i18n import N_


@dataclass(frozen=True, slots=True)
class Command:
    """A command: its name, its description (a catalog msgid) and the action it performs."""

    name: str
    description: str
    action: Callable[[str], actions.Action]  # the text after the command (a deep-link payload) -> action


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("Start, or start over"), actions.Start),
    Command("menu", N_("Main menu"), lambda _payload: actions.Home()),
    Command("back", N_("Go back one step"), lambda _payload: actions.Back()),
    Command("language", N_("Change language"), lambda _payload: actions.PickLanguage()),
    Command("lawyer", N_("Summary for a lawyer"), lambda _payload: actions.Sheet()),
    Command("help", N_("How to use this bot"), lambda _payload: actions.Help()),
    Command("privacy", N_("What this bot keeps, and what it does not"), lambda _payload: actions.Privacy()),
    Command("forget", N_("Delete my data now"), lambda _payload: actions.Forget()),
)
_BY_NAME = {command.name: command for command in COMMANDS}


def parse_command(text: str) -> actions.Action | None:
    """``/start es-topic`` -> ``Start('es-topic')``; an unknown command -> Help; other text -> None."""
    if not text.startswith("/"):
        return None
    head, _sep, payload = text[1:].partition(" ")
    command = _BY_NAME.get(head.split("@", 1)[0].lower())  # "/menu@kyr_bot" in groups
    return command.action(payload.strip()) if command else actions.Help()


def parse_text(text: str) -> actions.Action:
    """What a typed message asks for: a command, or words to search for."""
    return parse_command(text) or actions.Search(text)

"""A terminal chat through the real engine, for content authors and translators."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from bot.content.telegram_html import visible_text
from bot.conversation import actions
from bot.conversation.commands import parse_text
from bot.conversation.engine import Engine
from bot.conversation.screen import Screen
from bot.conversation.state import State


def screen_as_text(screen: Screen) -> str:
    """A screen as plain terminal text with numbered buttons."""
    text = re.sub(r"<a href=\"([^\"]*)\">(.*?)</a>", r"\2 (\1)", screen.text)
    lines = [visible_text(text), ""]
    for number, button in enumerate(screen.buttons(), start=1):
        lines.append(f"  [{number}] {button.label}")
    return "\n".join(lines)


def parse_input(line: str, screen: Screen) -> actions.Action | None:
    """The action for what was typed: a button number, a /command, or words to search."""
    text = line.strip()
    if not text:
        return None
    if text.isdigit():
        buttons = screen.buttons()
        number = int(text)
        if 1 <= number <= len(buttons):
            return buttons[number - 1].action
        return actions.Help()  # no such button: say how to use the chat
    return parse_text(text)


def run_chat(engine: Engine, lang: str | None, stdin: TextIO = sys.stdin,
             stdout: TextIO = sys.stdout) -> int:
    """Walk the tree interactively until end of input or 'q'."""
    state: State = engine.new_state(lang)
    state, screen = engine.step(state, actions.Start(state.lang))
    print("Type a number to press a button, a /command, words to search, q to quit.\n",
          file=stdout)
    while True:
        print(screen_as_text(screen), file=stdout)
        print("> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line or line.strip().lower() in ("q", "quit", "exit"):
            print("", file=stdout)
            return 0
        action = parse_input(line, screen)
        if action is None:
            continue
        print("", file=stdout)
        state, screen = engine.step(state, action)

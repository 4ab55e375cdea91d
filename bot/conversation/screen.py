"""What the engine asks an adapter to show: text, buttons, the kind of screen, one effect."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.conversation.actions import Action


class ScreenKind(StrEnum):
    """Which screen this is; the values appear in the one log line per update and in counts."""

    NODE = "node"  # a step of the guide
    LANGUAGE = "language"  # the language menu
    FORGET_ASK = "forget-ask"  # "delete everything?" with yes / no
    FORGOTTEN = "forgotten"  # the session was deleted
    SHEET = "sheet"  # the summary for a lawyer
    PRIVACY = "privacy"  # what the bot keeps
    HELP = "help"  # how to use the bot, and its commands
    SEARCH = "search"  # steps matching what the person typed
    SEARCH_NONE = "search-none"  # nothing matched what the person typed
    SEARCH_OTHER = "search-other"  # steps found in another language, with a switch to it
    COUNTRY = "country"  # a typed country name was noted for the lawyer summary
    START_ASK = "start-ask"  # /start with answers given: continue, or start over?


class Effect(StrEnum):
    """What the adapter does besides showing the screen."""

    NONE = "none"
    ATTACH_SHEET = "attach-sheet"  # also send the lawyer summary as a document
    DELETE_SESSION = "delete-session"  # delete the stored session (after /forget)


@dataclass(frozen=True, slots=True)
class Button:
    """A button: its label and the action it performs."""

    label: str
    action: Action


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Screen:
    """What to show: Telegram-HTML text, rows of buttons, its kind, the step it belongs to."""

    text: str
    rows: Rows
    kind: ScreenKind
    node: str | None = None
    effect: Effect = Effect.NONE

    def buttons(self) -> list[Button]:
        """All buttons, row by row."""
        return [b for row in self.rows for b in row]

"""What a user can do, and its compact encoding for Telegram callback data (at most 64 bytes).

Callback data starts with a schema version (``1:``). Data that cannot be decoded, from an
older schema or a forged button, decodes to :class:`Invalid`, which the engine answers politely.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.telegram_html import MAX_CALLBACK_BYTES

SCHEMA = "1"


@dataclass(frozen=True, slots=True)
class Start:
    """/start, optionally with a deep-link payload like ``es-third-country``."""

    payload: str = ""


@dataclass(frozen=True, slots=True)
class Go:
    """Press a step's choice: open ``target``, recording its facts if it answers that step."""

    target: str


@dataclass(frozen=True, slots=True)
class Open:
    """Open a node without answering anything (a search result): no fact is recorded."""

    target: str


@dataclass(frozen=True, slots=True)
class Untick:
    """Press a ticked option of a multi-select question again: remove that answer."""

    target: str


@dataclass(frozen=True, slots=True)
class Back:
    """Return to the previous node."""


@dataclass(frozen=True, slots=True)
class Home:
    """Open the main menu."""


@dataclass(frozen=True, slots=True)
class Show:
    """Show the current node again."""


@dataclass(frozen=True, slots=True)
class PickLanguage:
    """Show the list of languages."""


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """Switch language, staying on the same node."""

    lang: str


@dataclass(frozen=True, slots=True)
class SwitchTo:
    """Switch language and open a node in it (a search result found in another language)."""

    lang: str
    target: str


@dataclass(frozen=True, slots=True)
class Restart:
    """Start over: clear the trail and facts, keep the language; then open ``target`` if set."""

    target: str = ""


@dataclass(frozen=True, slots=True)
class AskForget:
    """Ask to confirm deleting the session."""


@dataclass(frozen=True, slots=True)
class Forget:
    """Delete the session now."""


@dataclass(frozen=True, slots=True)
class Sheet:
    """Show the summary for a lawyer."""


@dataclass(frozen=True, slots=True)
class Privacy:
    """Explain what is and is not kept."""


@dataclass(frozen=True, slots=True)
class Help:
    """Explain how to use the bot."""


@dataclass(frozen=True, slots=True)
class Search:
    """Free text typed by the user; used for this one reply and never kept."""

    text: str


@dataclass(frozen=True, slots=True)
class Invalid:
    """Something we could not understand (old or malformed button, unsupported message)."""

    reason: str = "button"


Action = (
    Start | Go | Open | Untick | Back | Home | Show | PickLanguage | SetLanguage | SwitchTo
    | Restart | AskForget | Forget | Sheet | Privacy | Help | Search | Invalid
)

_SIMPLE: dict[str, type] = {
    "b": Back, "h": Home, "s": Show, "L": PickLanguage, "r": Restart, "fa": AskForget,
    "f": Forget, "w": Sheet, "p": Privacy, "?": Help,
}
_CODES = {cls: code for code, cls in _SIMPLE.items()}
# Actions that carry a node id or a language code after their code.
_WITH_ARG: dict[str, type] = {"g": Go, "o": Open, "u": Untick, "l": SetLanguage, "r": Restart}
_ARG_CODES = {cls: code for code, cls in _WITH_ARG.items()}


def encode(action: Action) -> str:
    """Callback data for a button that performs ``action``."""
    if isinstance(action, SetLanguage):
        data = f"{SCHEMA}:l:{action.lang}"
    elif isinstance(action, SwitchTo):
        data = f"{SCHEMA}:x:{action.lang}:{action.target}"
    elif isinstance(action, Go | Open | Untick) or (isinstance(action, Restart) and action.target):
        data = f"{SCHEMA}:{_ARG_CODES[type(action)]}:{action.target}"
    elif type(action) in _CODES:
        data = f"{SCHEMA}:{_CODES[type(action)]}"
    else:
        raise ValueError(f"{type(action).__name__} cannot be a button")
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes")
    return data


def decode(data: str | None) -> Action:
    """The action behind callback data; :class:`Invalid` when it cannot be read."""
    if not data:
        return Invalid("empty")
    parts = data.split(":")
    if parts[0] != SCHEMA:
        return Invalid("old")
    if len(parts) == 3 and parts[1] in _WITH_ARG and parts[2]:
        return _WITH_ARG[parts[1]](parts[2])
    if len(parts) == 4 and parts[1] == "x" and parts[2] and parts[3]:
        return SwitchTo(parts[2], parts[3])
    if len(parts) == 2 and parts[1] in _SIMPLE:
        return _SIMPLE[parts[1]]()
    return Invalid("malformed")

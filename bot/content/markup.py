"""Turn a node body written in light Markdown into Telegram HTML, remembering source lines.

Supported: paragraphs, ``**bold**``, ``*italic*``, ``[text](url)`` links, ``- `` and ``1. ``
lists, and Telegram's own HTML tags, which pass through untouched (the checker validates them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from bot.content.telegram_html import escape_attr

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
_BULLET = re.compile(r"^\s*[-*•]\s+")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """HTML text plus, for each source line, the offset in ``html`` where it begins."""

    html: str
    offsets: tuple[int, ...]
    lines: tuple[int, ...]


def inline(text: str) -> str:
    """Convert inline Markdown (links, bold, italic) on one line to Telegram HTML."""
    if "*" not in text and "[" not in text:
        return text
    text = _LINK.sub(lambda m: f'<a href="{escape_attr(unescape(m.group(2)))}">{m.group(1)}</a>', text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    return _ITALIC.sub(r"<i>\1</i>", text)


def render_body(lines: list[tuple[int, str]]) -> RenderedBody:
    """Render ``(line number, text)`` pairs of a body into Telegram HTML."""
    parts: list[str] = []
    offsets: list[int] = []
    linenos: list[int] = []
    size = 0
    state = "start"  # start | para | list | gap
    for lineno, raw in lines:
        text = raw.strip()
        if not text:
            if state in ("para", "list"):
                state = "gap"
            continue
        is_item = bool(_BULLET.match(text) or _NUMBERED.match(text))
        if is_item and _BULLET.match(text):
            text = "• " + _BULLET.sub("", text, count=1)
        if state == "start":
            sep = ""
        elif state == "gap":
            sep = "\n\n"
        elif is_item or state == "list":
            sep = "\n"
        else:
            sep = " "
        state = "list" if is_item else "para"
        fragment = sep + inline(text)
        offsets.append(size + len(sep))
        linenos.append(lineno)
        parts.append(fragment)
        size += len(fragment)
    return RenderedBody("".join(parts), tuple(offsets), tuple(linenos))

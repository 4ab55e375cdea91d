"""Validate text against Telegram's HTML parse mode, the way the Bot API would.

Telegram refuses a whole message when its HTML has an unknown tag, an unescaped ``<`` or
``&``, or tags that do not nest. Checking here first lets the content checker, the bot and
the test server agree on what Telegram accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64
MAX_BUTTON_CHARS = 64

# Tags Telegram accepts in parse_mode=HTML, and the attributes each may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "tg-emoji": frozenset({"emoji-id"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
}

_ATTR_SRC = r"""\s+[a-zA-Z-]+(?:=(?:"[^"<]*"|'[^'<]*'|[^\s>"'<]+))?"""
_TAG = re.compile(rf"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:{_ATTR_SRC})*)\s*>")
_ATTR = re.compile(r"([a-zA-Z-]+)(?:=(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_SPECIAL = re.compile(r"[<&]")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


@dataclass(frozen=True)
class HtmlProblem:
    """One reason Telegram would refuse the text; ``offset`` is where it starts."""

    offset: int
    message: str


def validate_html(text: str) -> list[HtmlProblem]:
    """Return every problem Telegram's HTML parser would reject in ``text`` (empty if none)."""
    problems: list[HtmlProblem] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while True:
        m_special = _SPECIAL.search(text, i)  # jump straight to the next '<' or '&'
        if m_special is None:
            break
        i = m_special.start()
        if text[i] == "<":
            m = _TAG.match(text, i)
            if m is None:
                problems.append(
                    HtmlProblem(i, "a '<' that does not start a tag: write &lt; instead")
                )
                i += 1
                continue
            closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if name not in ALLOWED_TAGS:
                problems.append(
                    HtmlProblem(
                        i,
                        f"tag <{name}> is not allowed by Telegram (use b, i, u, s, a, code, "
                        "pre or blockquote, or write &lt; for a plain '<')",
                    )
                )
            elif closing:
                if not stack or stack[-1][0] != name:
                    expected = f"</{stack[-1][0]}>" if stack else "no closing tag"
                    problems.append(
                        HtmlProblem(i, f"</{name}> closes a tag that is not open (expected {expected})")
                    )
                    if any(t == name for t, _ in stack):
                        while stack and stack[-1][0] != name:
                            stack.pop()
                        stack.pop()
                else:
                    stack.pop()
            else:
                for am in _ATTR.finditer(attrs):
                    if am.group(1).lower() not in ALLOWED_TAGS[name]:
                        problems.append(
                            HtmlProblem(i, f"attribute '{am.group(1)}' is not allowed on <{name}>")
                        )
                if name == "a" and "href" not in attrs:
                    problems.append(HtmlProblem(i, "<a> needs an href=\"...\" address"))
                stack.append((name, i))
            i = m.end()
        else:
            m = _ENTITY.match(text, i)
            if m is None:
                problems.append(HtmlProblem(i, "a bare '&': write &amp; instead"))
                i += 1
            else:
                i = m.end()
    for name, offset in stack:
        problems.append(HtmlProblem(offset, f"<{name}> is never closed: add </{name}>"))
    return problems


def visible_text(html: str) -> str:
    """The text a reader sees once tags are removed and entities decoded."""
    return unescape(re.sub(r"<[^>]*>", "", html))


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape plain text for Telegram HTML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Escape text for use inside a double-quoted attribute."""
    return escape(text).replace('"', "&quot;")

"""Telegram HTML as Telegram stores it: plain text plus entities with UTF-16 offsets."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from bot.content.telegram_html import (
    telegram_length,
)


def html_to_entities(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse already-valid Telegram HTML into (plain text, MessageEntity dicts)."""
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, dict[str, str], int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    for m in re.finditer(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>", html):
        chunk = unescape(html[i : m.start()])
        out.append(chunk)
        pos += telegram_length(chunk)
        i = m.end()
        name = m.group(2).lower()
        if m.group(1) != "/":
            attrs = {
                a.group(1).lower(): next((g for g in a.groups()[1:] if g is not None), "")
                for a in re.finditer(r"([a-zA-Z-]+)(?:=(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?", m.group(3))
            }
            stack.append((name, attrs, pos))
            continue
        k = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == name), None)
        if k is None:
            continue
        tag, attrs, start = stack.pop(k)
        entity = _entity(tag, attrs, stack)
        if entity is not None and pos > start:
            entities.append({**entity, "offset": start, "length": pos - start})
    out.append(unescape(html[i:]))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity(
    tag: str, attrs: dict[str, str], stack: list[tuple[str, dict[str, str], int]]
) -> dict[str, Any] | None:
    simple = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
    }
    if tag in simple:
        return {"type": simple[tag]}
    if tag == "code":
        if stack and stack[-1][0] == "pre":
            lang = attrs.get("class", "")
            if lang.startswith("language-"):
                stack[-1][1]["_language"] = lang.removeprefix("language-")
            return None
        return {"type": "code"}
    if tag == "pre":
        lang = attrs.get("_language")
        return {"type": "pre", "language": lang} if lang else {"type": "pre"}
    if tag == "a":
        return {"type": "text_link", "url": attrs.get("href", "")}
    if tag == "span":
        return {"type": "spoiler"} if attrs.get("class") == "tg-spoiler" else None
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    return None


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))



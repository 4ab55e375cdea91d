"""Simulated Telegram users for the benchmarks: who they are and what they press next."""

from __future__ import annotations

import random
from dataclasses import dataclass

LANGUAGE_CODES = ("en", "es", "fr", "es-MX", "pt-BR")
SEARCH_WORDS = ("judge", "lawyer", "asylum", "court date", "abogado", "juez", "asilo", "avocat",
                "juge", "afraid of the country", "help", "detained relative", "xyzzy")


@dataclass
class SimUser:
    """One simulated Telegram user (the chat id is also the user id)."""

    chat_id: int
    lang: str
    rng: random.Random
    steps: int = 0


def next_action(user: SimUser, buttons: list[str]) -> tuple[str, str]:
    """("text", text) or ("press", callback_data): mostly buttons, sometimes commands or words."""
    rng = user.rng
    if user.steps == 0 or not buttons:
        return "text", "/start"
    r = rng.random()
    if r < 0.04:
        return "text", rng.choice(SEARCH_WORDS)
    if r < 0.06:
        return "text", "/lawyer"
    if r < 0.07:
        return "text", "/start"
    languages = [b for b in buttons if b.startswith("1:l:")]
    if languages:
        return "press", rng.choice(languages)
    if r < 0.10 and "1:L" in buttons:
        return "press", "1:L"
    if r < 0.20 and "1:b" in buttons:
        return "press", "1:b"
    choices = [b for b in buttons if b.startswith("1:g:")]
    if choices and r < 0.97:
        return "press", rng.choice(choices)
    return "press", rng.choice(buttons)


def action_label(kind: str, payload: str) -> str:
    """A short name for what the user did, for per-action latency."""
    if kind == "text":
        return payload.split()[0] if payload.startswith("/") else "search"
    names = {"1:b": "back", "1:L": "language menu", "1:h": "home", "1:w": "sheet button",
             "1:fa": "ask forget", "1:f": "forget", "1:s": "show"}
    if payload.startswith("1:l:"):
        return "set language"
    return "choice" if payload.startswith("1:g:") else names.get(payload, "other button")


def make_users(count: int, first_chat: int, seed: int) -> list[SimUser]:
    """``count`` users with chat ids from ``first_chat`` and mixed Telegram languages."""
    return [SimUser(first_chat + i, LANGUAGE_CODES[i % len(LANGUAGE_CODES)], random.Random(seed + i))
            for i in range(count)]

"""Recognise a country name a person types, in their language, as an ISO 3166 code.

Names come from Babel's territory names (CLDR) in the person's language and in English, so
"Turquía", "turquia", "Turqia" and "Turkey" all give ``TR``. Only the code is kept.
"""

from __future__ import annotations

import functools

from babel import Locale, UnknownLocaleError
from rapidfuzz import fuzz, process

from bot.conversation.search import tokens

# Babel territories that are not countries a person could be sent to.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AQ"}
# Older names people still type, which CLDR no longer gives (any language's speakers use them).
ALIASES = {"TR": ("Turkey",), "SZ": ("Swaziland",), "CZ": ("Czech Republic",),
           "MK": ("Macedonia",), "CI": ("Ivory Coast",), "CD": ("DRC",),
           "GB": ("England",)}
MAX_WORDS = 5  # the longest name window tried ("republica democratica del congo")
TYPO_SCORE = 80.0  # rapidfuzz ratio (0-100) a name of five letters or more must reach


@functools.cache
def _names(lang: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Folded country names in ``lang`` and English, and the ISO code of each."""
    names: list[str] = []
    codes: list[str] = []
    for code_lang in dict.fromkeys((lang, "en")):
        try:
            territories = Locale.parse(code_lang).territories
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        for code, name in territories.items():
            if len(code) != 2 or not code.isalpha() or code in _NOT_COUNTRIES:
                continue
            # "Congo - Kinshasa" is also known by each of its parts' whole.
            for variant in {name, *name.split(" - ")} if " - " in name else {name}:
                names.append(" ".join(tokens(variant)))
                codes.append(code)
    for code, aliases in ALIASES.items():
        names += [" ".join(tokens(alias)) for alias in aliases]
        codes += [code] * len(aliases)
    return tuple(names), tuple(codes)


def match_country(text: str, lang: str) -> str | None:
    """The ISO code of the country named in ``text`` (typos tolerated), or None."""
    names, codes = _names(lang)
    words = tokens(text[:200])
    best: tuple[float, int, str] | None = None
    for size in range(1, min(MAX_WORDS, len(words)) + 1):
        for start in range(len(words) - size + 1):
            window = " ".join(words[start:start + size])
            # Short names ("peru", "cuba") must be exact: one typo there makes another word.
            cutoff = 100.0 if len(window) < 5 else TYPO_SCORE
            found = process.extractOne(window, names, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is not None:
                candidate = (found[1], size, codes[found[2]])
                if best is None or candidate[:2] > best[:2]:
                    best = candidate
    return best[2] if best else None

"""The "for your lawyer" sheet: Jinja2 templates whose words come from the gettext catalogs.

The sheet is built only from the facts a person chose (which motion, which country, fear,
grounds...). It never holds a name or an identifier. It is sent as a Telegram message in the
person's language and as an HTML file with that language and English side by side.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.content.facts import current_value, iso_country
from bot.review.records import long_date
from bot.words.i18n import N_, I18n

# Per topic the person went through: (title, reviewer, reviewed date as YYYY-MM-DD or empty).
Reviews = tuple[tuple[str, str, str], ...]

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Fact values for countries, as ISO 3166 codes, so Babel gives each name in the reader's language.
COUNTRY_CODES = {
    "honduras": "HN", "guatemala": "GT", "ecuador": "EC", "el-salvador": "SV", "mexico": "MX",
    "paraguay": "PY", "uganda": "UG", "rwanda": "RW", "eswatini": "SZ", "south-sudan": "SS",
    "costa-rica": "CR", "panama": "PA", "kosovo": "XK",
}
DOCUMENT_CAPTION = N_("For your lawyer: you can forward or print this file. It holds no name.")


def country_name(value: str, lang: str) -> str:
    """A country fact as a name in ``lang`` (empty for 'other' and 'unknown').

    ``value`` is a named value like ``honduras`` or a typed one like ``iso:TR``.
    """
    code = COUNTRY_CODES.get(value) or iso_country(value)
    if code is None:
        return ""
    try:
        return str(Locale.parse(lang).territories.get(code, value))
    except (UnknownLocaleError, ValueError):
        return value


class _Facts(dict[str, str]):
    """Facts by key; a fact never chosen reads as an empty string in templates."""

    def __missing__(self, key: str) -> str:
        return ""


class LawyerSheet:
    """Renders the sheet in any language the catalogs know (English words otherwise)."""

    def __init__(self, i18n: I18n, source_language: str = "en") -> None:
        self.i18n = i18n
        self.source_language = source_language
        self._envs: dict[str, Environment] = {}
        # Sheets depend only on language, facts and day, and many people choose the same facts.
        self._render_cached = functools.lru_cache(maxsize=1024)(self._render)
        self._document_cached = functools.lru_cache(maxsize=256)(self._document)

    def _env(self, lang: str) -> Environment:
        env = self._envs.get(lang)
        if env is None:
            env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
                enabled_extensions=("j2",), default_for_string=True),
                extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
            env.install_gettext_translations(self.i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
            self._envs[lang] = env
        return env

    def warm(self, lang: str) -> None:
        """Compile ``lang``'s templates now, so the first person asking for a sheet does not wait."""
        env = self._env(lang)
        env.get_template("sheet.j2")
        env.get_template("sheet_document.html.j2")

    def context(self, lang: str, facts: tuple[tuple[str, str], ...], today: date,
                reviews: Reviews = ()) -> dict[str, Any]:
        """The values the templates use, from the facts and the topics' review records."""
        single = _Facts()
        grounds: list[str] = []
        for key, raw in facts:
            value = current_value(key, raw)  # a session saved under older content reads as today
            if key == "ground":
                if value not in grounds:
                    grounds.append(value)
            else:
                single[key] = value
        try:
            day = format_date(today, format="long", locale=lang)
        except (UnknownLocaleError, ValueError):
            day = today.isoformat()
        checked = [(title, reviewer, long_date(date.fromisoformat(on), lang) if on else "")
                   for title, reviewer, on in reviews]
        return {"f": single, "grounds": grounds, "reviews": checked,
                "country": country_name(single.get("country", ""), lang), "today": day}

    def render(self, lang: str, facts: tuple[tuple[str, str], ...], today: date | None = None,
               reviews: Reviews = ()) -> str:
        """The sheet as Telegram HTML in ``lang``."""
        return self._render_cached(lang, facts, today or date.today(), reviews)

    def document(self, lang: str, facts: tuple[tuple[str, str], ...],
                 today: date | None = None, reviews: Reviews = ()) -> tuple[str, bytes, str]:
        """File name, HTML bytes (``lang`` and English side by side) and caption."""
        return self._document_cached(lang, facts, today or date.today(), reviews)

    def _render(self, lang: str, facts: tuple[tuple[str, str], ...], day: date,
                reviews: Reviews = ()) -> str:
        template = self._env(lang).get_template("sheet.j2")
        text = template.render(self.context(lang, facts, day, reviews))
        return "\n".join(line.rstrip() for line in text.strip().splitlines())

    def _document(self, lang: str, facts: tuple[tuple[str, str], ...],
                  day: date, reviews: Reviews = ()) -> tuple[str, bytes, str]:
        columns = [(lang, Markup(self.render(lang, facts, day, reviews)))]
        if lang != self.source_language:
            columns.append((self.source_language,
                            Markup(self.render(self.source_language, facts, day, reviews))))
        html = self._env(lang).get_template("sheet_document.html.j2").render(columns=columns, lang=lang)
        caption = self.i18n.gettext(lang, DOCUMENT_CAPTION)
        return f"lawyer-summary-{lang}.html", html.encode("utf-8"), caption

"""Interface strings from gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.po``).

The ``.po`` files are read and compiled in memory at start with Babel, so a translator's edit
needs no build step. A translation that is fuzzy, empty, or whose HTML Telegram would refuse is
skipped, and the English text is used instead: a translator's stray ``<`` never breaks a reply.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import NullTranslations, Translations

from bot.content.problems import Problem
from bot.content.telegram_html import validate_html

DOMAIN = "messages"
_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def placeholders(text: str) -> set[str]:
    """The named placeholders (``%(name)s`` or ``{name}``) in ``text``."""
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def _msgstrs(message_string: str | tuple[str, ...] | list[str]) -> list[str]:
    if isinstance(message_string, str):
        return [message_string]
    return list(message_string)


def _msgids(message_id: str | tuple[str, ...] | list[str]) -> list[str]:
    if isinstance(message_id, str):
        return [message_id]
    return list(message_id)


@dataclass
class LocaleStats:
    """How complete one language's interface catalog is."""

    total: int = 0
    translated: int = 0


def clean_catalog(catalog: Catalog, display: str, problems: list[Problem]) -> Catalog:
    """Drop entries Telegram or the code could not use, and report each one."""
    for message in list(catalog):
        if not message.id:
            continue
        line = message.lineno or 0
        ids = _msgids(message.id)
        strs = _msgstrs(message.string or "")
        if message.fuzzy:
            problems.append(Problem(display, line, f"fuzzy translation of {ids[0]!r} is not used",
                                    "check it, then remove the '#, fuzzy' line", "warning",
                                    code="W-CATALOG-FUZZY"))
            message.string = tuple("" for _ in strs) if len(strs) > 1 else ""
            continue
        if not any(strs):
            problems.append(Problem(display, line, f"{ids[0]!r} is not translated",
                                    "fill in msgstr; the English text is shown meanwhile",
                                    "warning", code="W-CATALOG-UNTRANSLATED"))
            continue
        bad = False
        for text in strs:
            if not text:
                continue
            html = validate_html(text)
            if html:
                problems.append(Problem(display, line, f"translation of {ids[0]!r}: {html[0].message}",
                                        "the English text is used until it is fixed", code="E-CATALOG-HTML"))
                bad = True
            if placeholders(text) != placeholders(ids[0]):
                want = ", ".join(sorted(placeholders(ids[0]))) or "none"
                problems.append(Problem(display, line,
                                        f"translation of {ids[0]!r} has different placeholders",
                                        f"keep exactly these placeholders: {want}",
                                        code="E-CATALOG-PLACEHOLDER"))
                bad = True
        if bad:
            message.string = tuple("" for _ in strs) if len(strs) > 1 else ""
    return catalog


def _template_ids(pot: Path, problems: list[Problem]) -> set[str]:
    """The msgids of ``messages.pot``, which every catalog should hold."""
    if not pot.exists():
        return set()
    try:
        with pot.open("rb") as fh:
            return {_msgids(m.id)[0] for m in read_po(fh) if m.id}
    except (OSError, PoFileError, ValueError) as exc:
        problems.append(Problem(str(pot), 0, f"cannot read the template: {exc}",
                                "run 'kyr-bot catalogs update'", code="E-CATALOG-TEMPLATE"))
        return set()


def _translations(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass
class I18n:
    """Gettext translations per language, loaded from ``.po`` files at start."""

    languages: dict[str, Translations | NullTranslations] = field(default_factory=dict)
    stats: dict[str, LocaleStats] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    default: str = "en"

    @classmethod
    def load(cls, locales_dir: Path | None, default: str = "en") -> I18n:
        """Read every ``<lang>/LC_MESSAGES/messages.po`` under ``locales_dir``."""
        i18n = cls(default=default)
        if locales_dir is None or not locales_dir.is_dir():
            return i18n
        template = _template_ids(locales_dir / f"{DOMAIN}.pot", i18n.problems)
        for po in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            lang = po.parent.parent.name
            display = str(po)
            try:
                with po.open("rb") as fh:
                    catalog = read_po(fh, locale=None, abort_invalid=True)
            except (OSError, PoFileError, ValueError) as exc:
                i18n.problems.append(Problem(display, getattr(exc, "lineno", 0) or 0,
                                             f"cannot read the catalog: {exc}",
                                             "fix the .po syntax (Poedit shows where)",
                                             code="E-CATALOG-UNREADABLE"))
                continue
            stats = LocaleStats()
            for message in catalog:
                if message.id:
                    stats.total += 1
                    if any(_msgstrs(message.string or "")) and not message.fuzzy:
                        stats.translated += 1
            missing = sorted(template - {_msgids(m.id)[0] for m in catalog if m.id})
            stats.total += len(missing)
            if missing:
                i18n.problems.append(Problem(
                    display, 0, f"{len(missing)} interface string(s) are not in this catalog yet, "
                    f"e.g. {missing[0]!r}", "run 'kyr-bot catalogs update', then translate them",
                    "warning", code="W-CATALOG-MISSING"))
            clean_catalog(catalog, display, i18n.problems)
            i18n.languages[lang] = _translations(catalog)
            i18n.stats[lang] = stats
        return i18n

    def translations(self, lang: str) -> Translations | NullTranslations:
        """The gettext object for ``lang`` (English source strings when there is none)."""
        return self.languages.get(lang) or NullTranslations()

    def gettext(self, lang: str, msgid: str) -> str:
        """Translate ``msgid`` into ``lang``."""
        return self.translations(lang).gettext(msgid)

    def translator(self, lang: str) -> Callable[[str], str]:
        """A ``_`` function bound to ``lang``."""
        return self.translations(lang).gettext


def language_name(code: str, in_sentence: bool = False) -> str:
    """The language's own name for itself: 'Español' for es, or 'español' inside a sentence."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name if in_sentence else name[:1].upper() + name[1:]


def negotiate(code: str | None, available: tuple[str, ...], default: str = "en") -> str:
    """Map a Telegram ``language_code`` (``es-MX``, ``fr``, ``pt-br``) to an available language."""
    if code:
        parts = code.replace("_", "-").split("-", 1)
        regional = f"{parts[0].lower()}_{parts[1].upper()}" if len(parts) == 2 else ""
        if regional in available:  # a pt_BR folder serves Telegram's "pt-br"
            return regional
        base = parts[0].lower()
        if base in available:
            return base
    return default if default in available or not available else available[0]

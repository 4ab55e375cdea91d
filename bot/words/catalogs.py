"""Keep the interface catalogs in sync with the code: extract, update, add a language.

``kyr-bot catalogs update`` re-extracts every ``_()`` string from ``bot/`` and the templates
into ``locales/messages.pot`` and merges it into each ``messages.po`` (new strings appear
untranslated, changed ones fuzzy). ``kyr-bot catalogs add LANG`` starts a new language.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from bot.settings import PROJECT_ROOT
from bot.words.i18n import DOMAIN

KEYWORDS = ("tr:2", "N_")


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(locales: Path, project_root: Path = PROJECT_ROOT) -> Path:
    """Write ``messages.pot`` from the code and templates."""
    pot = locales / f"{DOMAIN}.pot"
    keywords = [arg for kw in KEYWORDS for arg in ("-k", kw)]
    with contextlib.chdir(project_root):  # keeps source locations relative (bot/...)
        _pybabel("extract", "-F", "babel.cfg", *keywords, "-c", "TRANSLATORS:", "--sort-by-file",
                 "--project", "kyr-bot", "--msgid-bugs-address", "", "-o", str(pot.resolve()), ".")
    return pot


def fill_source(locales: Path, source: str = "en") -> None:
    """The source language's catalog repeats each msgid, so English wording can be edited too."""
    po = locales / source / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return
    with po.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.id and (not message.string or message.fuzzy):
            message.string = message.id  # a fuzzy match would keep the old English wording
            message.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, sort_by_file=True)


def update(locales: Path, project_root: Path = PROJECT_ROOT) -> None:
    """Extract, then merge the template into every language's catalog."""
    pot = extract(locales, project_root)
    _pybabel("update", "-i", str(pot), "-d", str(locales), "-D", DOMAIN, "--no-wrap",
             "--ignore-obsolete")
    fill_source(locales)


class CatalogError(Exception):
    """A catalog command that cannot run, with a one-line reason for the person who ran it."""


def locale_code(lang: str) -> str:
    """A language code in catalog form (``pt``, ``pt_BR``), or CatalogError if Babel does not know it."""
    try:
        return str(Locale.parse(lang.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise CatalogError(f"'{lang}' is not a language code: use one like 'pt' or 'pt_BR'") from exc


def add(locales: Path, lang: str, force: bool = False) -> Path:
    """Create ``locales/<lang>/LC_MESSAGES/messages.po`` from the template; never overwrite
    an existing catalog (a translator's work) unless ``force``."""
    code = locale_code(lang)
    po = locales / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if po.exists() and not force:
        raise CatalogError(f"{po} already exists and may hold translations; to start it over, "
                           "add --force")
    pot = locales / f"{DOMAIN}.pot"
    try:
        with pot.open("rb") as fh:
            catalog = read_po(fh, locale=code)
    except OSError as exc:
        raise CatalogError(f"cannot read {pot}: run 'kyr-bot catalogs update' first") from exc
    catalog.locale = Locale.parse(code)
    catalog.revision_date = datetime.now(UTC)
    catalog.fuzzy = False
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as fh:
        write_po(fh, catalog, width=0)
    return po

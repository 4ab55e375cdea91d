"""Build the running parts from content and catalogs: the engine the bot and the terminal chat use."""

from __future__ import annotations

from pathlib import Path

from bot.content.checks import check_content
from bot.content.english_first import served
from bot.content.problems import ContentError
from bot.conversation.engine import Engine


def build_engine(content_dir: Path, locales_dir: Path | None) -> Engine:
    """Load and check content and catalogs; raise ContentError if the content has errors."""
    report = check_content(content_dir, locales_dir)
    # Catalog problems never stop the bot: the loader already dropped every entry it could not
    # use (fuzzy, broken HTML, wrong placeholders), and those strings are shown in English.
    if report.content_errors:
        raise ContentError(report.problems)
    # Untranslated steps are served in English (with a notice), unfinished languages hidden.
    return Engine(served(report.tree, report.status), report.i18n)

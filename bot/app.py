"""Build the running parts from content and catalogs: the engine the bot and the terminal chat use."""

from __future__ import annotations

from pathlib import Path

from bot.content.checks import check_content
from bot.content.english_first import served
from bot.content.problems import ContentError
from bot.conversation.engine import Engine


def build_engine(content_dir: Path, locales_dir: Path | None) -> Engine:
    """Load and check content and catalogs; raise ContentError if either has errors."""
    report = check_content(content_dir, locales_dir)
    # A catalog error (broken HTML, wrong placeholders, an unreadable .po, no catalog folder)
    # stops a start or a reload like a content error: what runs is what the check passed.
    # Fuzzy and untranslated entries are warnings, shown in English meanwhile.
    if report.start_errors:
        raise ContentError(report.problems)
    # Untranslated steps are served in English (with a notice), unfinished languages hidden.
    return Engine(served(report.tree, report.status), report.i18n)

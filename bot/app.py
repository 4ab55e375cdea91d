"""Build the running parts from settings: content tree, catalogs, engine."""

from __future__ import annotations

from pathlib import Path

from bot.content.checks import check_tree
from bot.content.loader import load_tree
from bot.content.problems import ContentError
from bot.conversation.engine import Engine
from bot.words.i18n import I18n


def build_engine(content_dir: Path, locales_dir: Path | None) -> Engine:
    """Load and check content and catalogs; raise ContentError if the content has errors."""
    tree, problems = load_tree(content_dir)
    i18n = I18n.load(locales_dir)
    problems = problems + check_tree(tree, i18n)
    if any(p.is_error for p in problems):
        raise ContentError(problems)
    return Engine(tree, i18n)

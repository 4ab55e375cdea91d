"""The ``kyr-bot`` command line: check, chat, run, purge, stats."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.checks import check_content
from bot.settings import Settings, SettingsError


def _content_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, help="content folder (default: CONTENT_DIR or ./content)")
    parser.add_argument("--locales", type=Path, help="catalog folder (default: LOCALES_DIR or ./locales)")


def _paths(args: argparse.Namespace, settings: Settings) -> tuple[Path, Path]:
    return args.content or settings.content_dir, args.locales or settings.locales_dir


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check content and catalogs; print every problem; exit 1 on errors."""
    content, locales = _paths(args, settings)
    report = check_content(content, locales)
    for problem in report.problems:
        print(problem)
    if report.problems:
        print()
    for line in report.summary:
        print(line)
    print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.errors else 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Walk the content in the terminal."""
    from bot.app import build_engine
    from bot.chat import run_chat
    from bot.problems import ContentError

    content, locales = _paths(args, settings)
    try:
        engine = build_engine(content, locales)
    except ContentError as exc:
        _print_content_error(exc)
        return 1
    return run_chat(engine, args.lang)


def _print_content_error(exc: Exception) -> None:
    from bot.problems import ContentError

    print("The content has errors, so it cannot be used. Run 'kyr-bot check' for details:",
          file=sys.stderr)
    if isinstance(exc, ContentError):
        for problem in [p for p in exc.problems if p.is_error][:20]:
            print(f"  {problem}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="kyr-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check content files and interface catalogs")
    _content_args(check)
    check.set_defaults(func=cmd_check)
    chat = sub.add_parser("chat", help="walk the conversation in this terminal")
    _content_args(chat)
    chat.add_argument("--lang", help="language code, e.g. es")
    chat.set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kyr-bot`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"Setting error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())

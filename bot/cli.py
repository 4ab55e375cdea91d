"""The ``kyr-bot`` command line: check, chat, run, purge, stats."""

from __future__ import annotations

import argparse
import asyncio
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.content.checks import check_content, report_lines
from bot.exits import EXIT_CONFIG
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.store.sessions import SessionStore

T = TypeVar("T")


def _content_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, help="content folder (default: CONTENT_DIR or ./content)")
    parser.add_argument("--locales", type=Path, help="catalog folder (default: LOCALES_DIR or ./locales)")


def _paths(args: argparse.Namespace, settings: Settings) -> tuple[Path, Path]:
    return args.content or settings.content_dir, args.locales or settings.locales_dir


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check content and catalogs; print every problem; exit 1 on errors."""
    content, locales = _paths(args, settings)
    report = check_content(content, locales)
    for line in report_lines(report, verbose=args.verbose):
        print(line)
    if report.problems:
        print()
    for line in report.summary:
        print(line)
    if report.review_first:
        print("\nFor a lawyer to look at first:")
        for number, line in enumerate(report.review_first, 1):
            print(f"  {number}. {line}")
    print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    return 1 if report.errors else 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Walk the content in the terminal."""
    from bot.app import build_engine
    from bot.content.problems import ContentError
    from bot.terminal import run_chat

    content, locales = _paths(args, settings)
    try:
        engine = build_engine(content, locales)
    except ContentError as exc:
        _print_content_error(exc)
        return 1
    return run_chat(engine, args.lang)


def _print_content_error(exc: Exception) -> None:
    from bot.content.problems import ContentError

    print("The content has errors, so it cannot be used. Run 'kyr-bot check' for details:",
          file=sys.stderr)
    if isinstance(exc, ContentError):
        for problem in [p for p in exc.problems if p.is_error][:20]:
            print(f"  {problem.report_line()}", file=sys.stderr)



def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Telegram bot until SIGINT/SIGTERM; a start-up failure is one line and an exit code."""
    from bot.content.problems import ContentError
    from bot.telegram.runner import configure_logging, serve

    configure_logging(settings.log_level)
    try:
        asyncio.run(serve(settings, webhook=args.webhook or bool(settings.webhook_url)))
    except KeyboardInterrupt:
        pass
    except ContentError as exc:
        _print_content_error(exc)
        return EXIT_CONFIG
    except Exception as exc:
        from bot.telegram.startup import explain  # imports SQLAlchemy: only on the way out

        line, code = explain(exc, settings)
        print(f"kyr-bot: {line}", file=sys.stderr)
        if settings.log_level == "DEBUG":
            traceback.print_exception(exc)
        return code
    return 0


def _on_store(settings: Settings, job: Callable[[SessionStore], Awaitable[T]]) -> T:
    """Open the store, run ``job`` on it, close it."""

    from bot.store.sessions import SessionStore

    async def run() -> T:
        store = SessionStore(settings.database_url)
        await store.open()
        try:
            return await job(store)
        finally:
            await store.close()

    return asyncio.run(run())


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Delete sessions unused for SESSION_TTL_DAYS."""
    count = _on_store(settings, lambda store: store.purge(settings.session_ttl_days))
    print(f"deleted {count} session(s) unused for {settings.session_ttl_days} days")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """Print anonymous counts per day, language and step."""
    from bot.store.stats import format_stats

    print(format_stats(_on_store(settings, lambda store: store.stats(args.since))))
    return 0


def cmd_catalogs(args: argparse.Namespace, settings: Settings) -> int:
    """Update the interface catalogs from the code, or start a new language."""
    from bot.words import catalogs

    locales = args.locales or settings.locales_dir
    if args.action == "update":
        catalogs.update(locales)
        print(f"updated {locales}/messages.pot and every messages.po; translate the new entries")
        return 0
    if not args.lang:
        print("error: give a language code like 'pt' or 'pt_BR': kyr-bot catalogs add pt",
              file=sys.stderr)
        return 2
    try:
        path = catalogs.add(locales, args.lang, force=args.force)
    except catalogs.CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    code = path.parent.parent.name
    print(f"created {path}; translate it, then add content/{code}/ (see README)")
    return 0


def cmd_translate(args: argparse.Namespace, settings: Settings) -> int:
    """Export a language's content to .po, import a translated .po, or mark steps done."""
    from bot.content import translate, translated_from
    from bot.content.loader import load_tree

    content, locales = _paths(args, settings)
    try:
        if args.action == "export":
            tree, _ = load_tree(content)
            if tree.source_language not in tree.languages:
                print(f"error: {content} has no {tree.source_language}/ folder", file=sys.stderr)
                return 1
            out = args.output or Path(f"{args.target}.po")
            translate.write_catalog(translate.export(tree, args.target), out)
            print(f"wrote {out}: open it in Poedit, Weblate or Crowdin, then "
                  f"'kyr-bot translate import {out}'")
            return 0
        if args.action == "import":
            done = translate.import_po(Path(args.target), content, locales, args.lang)
            print(f"imported {args.target}; {len(done)} step(s) recorded as translated. "
                  "Run 'kyr-bot check' to see what is left.")
            return 0
        tree, _ = load_tree(content)
        if args.target not in tree.languages or args.target == tree.source_language:
            print(f"error: there is no translation '{args.target}' in {content}", file=sys.stderr)
            return 2
        lang = tree.languages[args.target]
        wanted = set(args.steps)
        steps = [s for s in lang.nodes if args.all or s in wanted or lang.nodes[s].topic in wanted]
        unknown = sorted(wanted - set(lang.nodes) - set(lang.files))
        if unknown or not steps:
            print(f"error: no step or file {', '.join(unknown) or '(none given)'} in "
                  f"{args.target}; give step ids, file names, or --all", file=sys.stderr)
            return 2
        recorded = translated_from.mark_done(content, tree, args.target, steps)
        print(f"recorded {len(recorded)} step(s) of {args.target} as translated from today's "
              f"{tree.source_language}")
        return 0
    except translate.TranslateError as exc:
        for problem in exc.problems:
            print(problem.report_line(), file=sys.stderr)
        print(f"nothing was imported: fix the {len(exc.problems)} problem(s) above",
              file=sys.stderr)
        return 1


def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    """Build the static preview site."""
    import time

    from bot.preview.site import PreviewError, build_site

    content, locales = _paths(args, settings)
    started = time.perf_counter()
    try:
        site = build_site(content, locales, args.out,
                          (args.bot or settings.bot_username).lstrip("@"), args.map)
    except PreviewError as exc:
        print(f"Nothing was built: {exc}", file=sys.stderr)
        return 2
    for note in site.notes:
        print(f"note: {note}")
    print(f"built {site.pages} pages and {site.qr_codes} QR codes in {time.perf_counter() - started:.2f} s "
          f"(map drawn by {site.map_drawn_by}); open {site.out / 'index.html'}")
    return 0


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """Print review packets for a lawyer, or record a lawyer's sign-off."""
    from bot.content.loader import load_tree
    from bot.review.policy import load_policy

    content = args.content or settings.content_dir
    policy, _problems = load_policy(content)
    if args.action == "sign":
        from bot.review.signoff import SignError, sign_topic

        try:
            changed = sign_topic(content, args.topic, args.reviewer, args.date or date.today(),
                                 args.review_by)
        except SignError as exc:
            print(f"Nothing was changed: {exc}", file=sys.stderr)
            return 2
        for path in changed:
            print(f"signed {path}")
        print("run 'kyr-bot check', then commit these files (and reload the bot)")
        return 0
    from bot.review.packet import write_packets

    tree, _problems = load_tree(content)
    if tree.source_language not in tree.languages:
        print("The content cannot be read; run 'kyr-bot check' for details", file=sys.stderr)
        return 1
    if args.topic and args.topic not in tree.languages[tree.source_language].files:
        print(f"there is no topic '{args.topic}'; topics: "
              f"{', '.join(sorted(tree.languages[tree.source_language].files))}", file=sys.stderr)
        return 2
    facts = args.facts or settings.legal_facts
    if not facts.is_file():
        print(f"note: no legal-facts file at {facts} (give --facts PATH); the packet lists the "
              "cited sources only", file=sys.stderr)
    for page in write_packets(tree, args.out, facts, policy, date.today(), args.topic):
        print(f"wrote {page}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date like 2026-11-01: {text!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="kyr-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check content files and interface catalogs")
    _content_args(check)
    check.add_argument("--verbose", action="store_true",
                       help="list every warning instead of grouping recurring ones")
    check.set_defaults(func=cmd_check)
    chat = sub.add_parser("chat", help="walk the conversation in this terminal")
    _content_args(chat)
    chat.add_argument("--lang", help="language code, e.g. es")
    chat.set_defaults(func=cmd_chat)
    run = sub.add_parser("run", help="run the Telegram bot (long polling, or webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    run.set_defaults(func=cmd_run)
    purge = sub.add_parser("purge", help="delete sessions older than SESSION_TTL_DAYS")
    purge.set_defaults(func=cmd_purge)
    stats = sub.add_parser("stats", help="anonymous counts: which steps people reach, where they stop, "
                           "how many searches found nothing")
    stats.add_argument("--since", type=_day, help="first day to include, e.g. 2026-11-01")
    stats.set_defaults(func=cmd_stats)
    cats = sub.add_parser("catalogs", help="update interface catalogs, or add a language")
    cats.add_argument("action", choices=["update", "add"])
    cats.add_argument("lang", nargs="?", help="language code for 'add', e.g. pt or pt_BR")
    cats.add_argument("--force", action="store_true",
                      help="'add': start an existing catalog over (its translations are lost)")
    cats.add_argument("--locales", type=Path, help="catalog folder (default: LOCALES_DIR or ./locales)")
    cats.set_defaults(func=cmd_catalogs)
    tr = sub.add_parser("translate", help="content translation: export/import .po files, mark "
                        "steps done")
    tr.add_argument("action", choices=["export", "import", "done"])
    tr.add_argument("target", help="export/done: language code (es); import: the .po file")
    tr.add_argument("steps", nargs="*", help="done: step ids or file names (third-country)")
    tr.add_argument("--all", action="store_true", help="done: every step of the language")
    tr.add_argument("-o", "--output", type=Path, help="export: the .po file to write (LANG.po)")
    tr.add_argument("--lang", help="import: the language, when the .po does not say")
    _content_args(tr)
    tr.set_defaults(func=cmd_translate)
    preview = sub.add_parser("preview", help="build a static site showing every step in every language")
    _content_args(preview)
    preview.add_argument("--out", type=Path, default=Path("preview"), help="output folder (./preview)")
    preview.add_argument("--bot", help="bot username for deep links and QR codes (default: BOT_USERNAME)")
    preview.add_argument("--map", choices=["auto", "dot", "builtin"], default="auto",
                         help="who draws the map: Graphviz if installed (auto), or kyr-bot itself")
    preview.set_defaults(func=cmd_preview)
    review = sub.add_parser("review", help="legal review: print packets for a lawyer, record a sign-off")
    review_sub = review.add_subparsers(dest="action", required=True)
    packet = review_sub.add_parser("packet", help="one printable HTML page per topic for a lawyer")
    packet.add_argument("--topic", help="only this topic, e.g. third-country")
    packet.add_argument("--content", type=Path, help="content folder (default: CONTENT_DIR or ./content)")
    packet.add_argument("--facts", type=Path, help="legal-facts file (default: LEGAL_FACTS)")
    packet.add_argument("--out", type=Path, default=Path("review-packets"), help="output folder")
    packet.set_defaults(func=cmd_review)
    sign = review_sub.add_parser("sign", help="record a lawyer's sign-off in every language of a topic")
    sign.add_argument("topic", help="topic file name without .md, e.g. third-country")
    sign.add_argument("--reviewer", required=True,
                      help="person and organisation, e.g. \"A. Lawyer, Legal Aid\"")
    sign.add_argument("--date", type=_day, help="date of the review (default: today)")
    sign.add_argument("--review-by", type=_day, help="date the review expires (default: the policy's period)")
    sign.add_argument("--content", type=Path, help="content folder (default: CONTENT_DIR or ./content)")
    sign.set_defaults(func=cmd_review)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kyr-bot`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"Setting error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())

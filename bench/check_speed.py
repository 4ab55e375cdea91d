"""Time loading and checking a large generated content tree (target: 5,000 steps in < 2 s).

Usage: ``python bench/check_speed.py [--nodes 5000] [--repeat 2] [--profile]``. Prints the best
of ``--repeat`` runs for each stage; ``check_content`` is what ``kyr-bot check`` runs (it loads
the tree itself), ``build_engine`` is what the bot runs at start.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_tree import generate_tree
from bot.app import build_engine
from bot.content.checks import check_content, check_tree
from bot.content.loader import load_tree
from bot.words.i18n import I18n

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
TARGET_SECONDS = 2.0


def best_of(repeat: int, job: Callable[[], object]) -> float:
    """The fastest of ``repeat`` timed calls, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    """Generate the tree, time each stage, print a table; exit 1 if the target is missed."""
    parser = argparse.ArgumentParser(description="time load_tree + check_content on a generated tree")
    parser.add_argument("--nodes", type=int, default=5000, help="steps per language (default 5000)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per stage; the best is shown")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of check_content")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    root = generate_tree(nodes=args.nodes)
    generated = time.perf_counter() - started
    try:
        report = check_content(root, LOCALES)
        if report.errors:
            print(f"generated tree has {len(report.errors)} error(s); first: {report.errors[0]}")
            return 2
        tree, _ = load_tree(root)
        i18n = I18n.load(LOCALES)
        steps = sum(len(lang.nodes) for lang in tree.languages.values())
        rows = [
            ("load_tree", best_of(args.repeat, lambda: load_tree(root))),
            ("I18n.load (catalogs)", best_of(args.repeat, lambda: I18n.load(LOCALES))),
            ("check_tree (loaded tree)", best_of(args.repeat, lambda: check_tree(tree, i18n))),
            ("check_content (= kyr-bot check)", best_of(args.repeat, lambda: check_content(root, LOCALES))),
            ("build_engine (= bot start)", best_of(args.repeat, lambda: build_engine(root, LOCALES))),
        ]
        print(f"tree: {args.nodes} steps x {len(tree.languages)} languages = {steps} steps, "
              f"{sum(len(lang.files) for lang in tree.languages.values())} files "
              f"(generated in {generated:.2f} s at {root})")
        print(f"{'stage':<34}{'seconds':>9}")
        for name, seconds in rows:
            print(f"{name:<34}{seconds:>9.3f}")
        total = dict(rows)["check_content (= kyr-bot check)"]
        holds = total < TARGET_SECONDS
        print(f"target: load + check < {TARGET_SECONDS:.0f} s -> {total:.3f} s: "
              f"{'HOLDS' if holds else 'MISSED'}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(check_content, root, LOCALES)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(str(ROOT / "bot"), 15)
        return 0 if holds else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

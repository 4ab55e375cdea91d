"""How often typed words find the step a person needs: top-1 and top-3 hit rates per language.

Usage: ``python bench/search_quality.py [--content content] [--queries bench/search_queries.tsv]
[--misses]``. Each query runs as the bot runs it (``Finder.find``: the session's language
first, then the cross-language offer); a hit is an acceptable step among the first 1 or 3
results. Exit 1 if top-3 is under the target in any language.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.content.loader import load_tree

ROOT = Path(__file__).resolve().parent.parent
TARGET_TOP3 = 0.90


@dataclass(frozen=True)
class Query:
    """One typed query, the session's language, and the steps that would answer it."""

    lang: str
    expected: frozenset[str]
    text: str
    line: int


def read_queries(path: Path) -> list[Query]:
    """The queries of a tab-separated file (comments start with '#')."""
    queries = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        lang, expected, text = raw.split("\t")
        queries.append(Query(lang, frozenset(expected.split(",")), text, lineno))
    return queries


def main(argv: list[str] | None = None) -> int:
    """Run every query and print the hit rates per language."""
    parser = argparse.ArgumentParser(description="search quality: top-1 and top-3 hit rates")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--queries", type=Path, default=ROOT / "bench" / "search_queries.tsv")
    parser.add_argument("--misses", action="store_true", help="list the queries missed in top 3")
    args = parser.parse_args(argv)
    from bot.conversation.search import Finder  # here, so read_queries works without it

    tree, _problems = load_tree(args.content)
    finder = Finder(tree)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for query in read_queries(args.queries):
        found = finder.find(query.lang, query.text)
        counts = totals[query.lang]
        counts[0] += 1
        counts[1] += bool(found.ids[:1]) and found.ids[0] in query.expected
        hit3 = any(step in query.expected for step in found.ids[:3])
        counts[2] += hit3
        if not hit3:
            misses.append(f"  {args.queries.name}:{query.line} [{query.lang}] {query.text!r} -> "
                          f"{found.lang}:{','.join(found.ids) or 'nothing'}")
    print(f"{'lang':<6}{'queries':>8}{'top-1':>8}{'top-3':>8}")
    ok = True
    for lang, (n, top1, top3) in sorted(totals.items()):
        print(f"{lang:<6}{n:>8}{top1 / n:>8.0%}{top3 / n:>8.0%}")
        ok = ok and top3 / n >= TARGET_TOP3
    print(f"target: top-3 >= {TARGET_TOP3:.0%} in every language -> {'HOLDS' if ok else 'MISSED'}")
    if args.misses and misses:
        print("missed in top 3:")
        print("\n".join(misses))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Time search on a large tree: building the indexes, and one typed query, per language.

Usage: ``python bench/search_speed.py [--nodes 5000] [--vocabulary 30000]``. The tree is the
real content repeated up to ``--nodes`` steps per language, each copy with a few made-up words
drawn from ``--vocabulary`` words, so the index holds a large vocabulary as a big guide would.
The queries are those of bench/search_queries.tsv (slang, typos, other languages).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search_quality import read_queries
from bot.content.loader import load_tree
from bot.content.model import ContentTree, Language
from bot.conversation.search import SearchIndex

ROOT = Path(__file__).resolve().parent.parent


def _made_up_words(count: int, rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "tre", "san", "po", "ru", "de", "vi", "nal", "cor", "bes", "ti"]
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def big_language(language: Language, nodes: int, vocabulary: list[str], rng: random.Random) -> Language:
    """``language`` repeated to ``nodes`` steps, each copy with eight made-up words more."""
    grown = {}
    originals = list(language.nodes.values())
    for k in range(nodes):
        node = originals[k % len(originals)]
        node_id = node.id if k < len(originals) else f"{node.id[:20]}-{k}"
        extra = " ".join(rng.choice(vocabulary) for _ in range(8))
        grown[node_id] = replace(node, id=node_id, html=f"{node.html} {extra}")
    words = {f"{step[:20]}-{k}" if k else step: phrases
             for k in range(nodes // len(originals) + 1)
             for step, phrases in getattr(language, "search_words", {}).items()}
    words = {step: phrases for step, phrases in words.items() if step in grown}
    try:
        return replace(language, nodes=MappingProxyType(grown), search_words=MappingProxyType(words))
    except TypeError:  # a Language without search words (the search before this bench's version)
        return replace(language, nodes=MappingProxyType(grown))


def main(argv: list[str] | None = None) -> int:
    """Build the indexes of a large tree and time every query against them."""
    parser = argparse.ArgumentParser(description="search speed on a large tree")
    parser.add_argument("--nodes", type=int, default=5000, help="steps per language (default 5000)")
    parser.add_argument("--vocabulary", type=int, default=30000, help="made-up words (default 30000)")
    args = parser.parse_args(argv)
    rng = random.Random(1)
    tree, _ = load_tree(ROOT / "content")
    vocabulary = _made_up_words(args.vocabulary, rng)
    big = ContentTree(MappingProxyType({code: big_language(lang, args.nodes, vocabulary, rng)
                                        for code, lang in tree.languages.items()}), tree.version)
    started = time.perf_counter()
    indexes = {code: SearchIndex(lang) for code, lang in big.languages.items()}
    built = time.perf_counter() - started
    queries = read_queries(ROOT / "bench" / "search_queries.tsv")
    times = []
    for query in queries:
        started = time.perf_counter()
        indexes[query.lang].search(query.text)
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"tree: {args.nodes} steps x {len(big.languages)} languages, {args.vocabulary} made-up words")
    print(f"build the indexes: {built:.2f} s")
    print(f"one query in the session's language ({len(queries)} queries): "
          f"mean {1000 * statistics.mean(times):.2f} ms, p95 {1000 * times[int(0.95 * len(times))]:.2f} ms, "
          f"max {1000 * times[-1]:.2f} ms")
    try:
        from bot.conversation.search import Finder
    except ImportError:
        return 0
    finder = Finder.__new__(Finder)
    finder.indexes = indexes
    times = []
    for query in queries:
        started = time.perf_counter()
        finder.find(query.lang, query.text)
        times.append(time.perf_counter() - started)
    times.sort()
    print(f"one query as the bot runs it (all languages when needed): "
          f"mean {1000 * statistics.mean(times):.2f} ms, p95 {1000 * times[int(0.95 * len(times))]:.2f} ms, "
          f"max {1000 * times[-1]:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

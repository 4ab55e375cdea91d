"""Keyword search over node titles and bodies, per language, for free text a user types."""

from __future__ import annotations

import bisect
import math
import re
import unicodedata

from bot.content.model import Language
from bot.content.telegram_html import visible_text

_WORD = re.compile(r"[a-z0-9]+")
MIN_WORD = 3


def words(text: str) -> list[str]:
    """Lowercase words without accents, at least three letters long."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _WORD.findall(plain) if len(w) >= MIN_WORD]


class SearchIndex:
    """Finds the nodes whose words best match a query, rare words weighing more.

    An inverted index (word -> nodes, and whether the word is in the title) and a sorted
    vocabulary for prefix matches keep a query's cost to the nodes that share its words,
    so search stays fast on trees of thousands of steps.
    """

    def __init__(self, language: Language) -> None:
        self._ids: list[str] = []
        postings: dict[str, dict[int, bool]] = {}
        for order, node in enumerate(language.nodes.values()):
            self._ids.append(node.id)
            title = set(words(visible_text(node.title)))
            for word in title | set(words(visible_text(node.html))):
                postings.setdefault(word, {})[order] = word in title
        n = max(len(self._ids), 1)
        # Words found in more than half the nodes say nothing about where to go.
        self._idf = {w: math.log(n / len(p)) for w, p in postings.items() if len(p) <= n / 2 or n < 4}
        self._postings = {w: tuple(p.items()) for w, p in postings.items() if w in self._idf}
        self._sorted = sorted(self._idf)

    def _matching(self, query_word: str) -> list[str]:
        """Index words that match ``query_word``: itself, or (4+ letters) a prefix either way."""
        if query_word in self._idf:
            return [query_word]
        if len(query_word) < 4:
            return []
        found = [query_word[:k] for k in range(4, len(query_word)) if query_word[:k] in self._idf]
        i = bisect.bisect_left(self._sorted, query_word)
        while i < len(self._sorted) and self._sorted[i].startswith(query_word):
            found.append(self._sorted[i])
            i += 1
        return found

    def search(self, text: str, limit: int = 3) -> list[str]:
        """Ids of up to ``limit`` nodes matching ``text``, best first."""
        scores: dict[int, float] = {}
        for query_word in set(words(text[:500])):
            best: dict[int, float] = {}
            for word in self._matching(query_word):
                idf = self._idf[word]
                for order, in_title in self._postings[word]:
                    weight = (2 * idf if in_title else idf) + 0.01
                    if weight > best.get(order, 0.0):
                        best[order] = weight
            for order, weight in best.items():
                scores[order] = scores.get(order, 0.0) + weight
        ranked = sorted(scores, key=lambda order: (-scores[order], order))
        return [self._ids[order] for order in ranked[:limit]]

"""Keyword search over node titles and bodies, per language, for free text a user types."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

from bot.model import Language
from bot.telegram_html import visible_text

_WORD = re.compile(r"[a-z0-9]+")
MIN_WORD = 3


def words(text: str) -> list[str]:
    """Lowercase words without accents, at least three letters long."""
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in _WORD.findall(plain) if len(w) >= MIN_WORD]


def _matches(query: str, word: str) -> bool:
    if query == word:
        return True
    return len(query) >= 4 and len(word) >= 4 and (word.startswith(query) or query.startswith(word))


class SearchIndex:
    """Finds the nodes whose words best match a query, rare words weighing more."""

    def __init__(self, language: Language) -> None:
        self._docs: list[tuple[str, frozenset[str], frozenset[str]]] = []
        df: Counter[str] = Counter()
        for node in language.nodes.values():
            title = frozenset(words(visible_text(node.title)))
            body = frozenset(words(visible_text(node.html)))
            self._docs.append((node.id, title, body))
            df.update(title | body)
        n = max(len(self._docs), 1)
        # Words found in more than half the nodes say nothing about where to go.
        self._idf = {w: math.log(n / c) for w, c in df.items() if c <= n / 2 or n < 4}
        self._vocab = tuple(self._idf)

    def _weights(self, query_word: str) -> dict[str, float]:
        if query_word in self._idf:
            return {query_word: self._idf[query_word]}
        return {w: self._idf[w] for w in self._vocab if _matches(query_word, w)}

    def search(self, text: str, limit: int = 3) -> list[str]:
        """Ids of up to ``limit`` nodes matching ``text``, best first."""
        query = set(words(text[:500]))
        if not query:
            return []
        weighted = [self._weights(q) for q in query]
        scores: list[tuple[float, int, str]] = []
        for order, (node_id, title, body) in enumerate(self._docs):
            score = 0.0
            for weights in weighted:
                best = 0.0
                for word, idf in weights.items():
                    if word in title:
                        best = max(best, 2 * idf + 0.01)
                    elif word in body:
                        best = max(best, idf + 0.01)
                score += best
            if score > 0:
                scores.append((-score, order, node_id))
        scores.sort()
        return [node_id for _, _, node_id in scores[:limit]]

"""The inverted search index ranks exactly like a plain scan of every step would."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.loader import load_tree
from bot.content.model import Language
from bot.content.telegram_html import visible_text
from bot.conversation.search import SearchIndex, words
from helpers import CONTENT

TREE, _ = load_tree(CONTENT)


class Scan:
    """The reference: score every step against every matching word, one by one."""

    def __init__(self, language: Language) -> None:
        self.docs = [(n.id, set(words(visible_text(n.title))), set(words(visible_text(n.html))))
                     for n in language.nodes.values()]
        df = Counter(w for _id, title, body in self.docs for w in title | body)
        n = len(self.docs)
        self.idf = {w: math.log(n / c) for w, c in df.items() if c <= n / 2 or n < 4}

    def search(self, text: str, limit: int = 3) -> list[str]:
        def matches(q: str, w: str) -> bool:
            return q == w or (len(q) >= 4 and len(w) >= 4 and (w.startswith(q) or q.startswith(w)))

        query = set(words(text[:500]))
        weighted = [{q: self.idf[q]} if q in self.idf
                    else {w: v for w, v in self.idf.items() if matches(q, w)} for q in query]
        scores = []
        for order, (node_id, title, body) in enumerate(self.docs):
            score = 0.0
            for weights in weighted:
                best = 0.0
                for word, value in weights.items():
                    if word in title:
                        best = max(best, 2 * value + 0.01)
                    elif word in body:
                        best = max(best, value + 0.01)
                score += best
            if score > 0:
                scores.append((-score, order, node_id))
        scores.sort()
        return [node_id for _, _, node_id in scores[:limit]]


SCANS = {code: Scan(lang) for code, lang in TREE.languages.items()}
INDEXES = {code: SearchIndex(lang) for code, lang in TREE.languages.items()}
VOCAB = sorted({w for lang in TREE.languages.values() for n in lang.nodes.values()
                for w in words(visible_text(n.title) + " " + visible_text(n.html))})


def test_words_their_prefixes_and_longer_forms_rank_as_the_scan_does() -> None:
    for code in TREE.languages:
        for word in VOCAB[::7]:
            for query in {word, word[:4], word[:5], word + "s", word + "ing"}:
                assert INDEXES[code].search(query) == SCANS[code].search(query), (code, query)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(TREE.languages)),
       st.lists(st.sampled_from(VOCAB) | st.text(min_size=1, max_size=8), min_size=1, max_size=5))
def test_any_query_ranks_as_the_scan_does(code: str, parts: list[str]) -> None:
    text = " ".join(parts)
    assert INDEXES[code].search(text) == SCANS[code].search(text)

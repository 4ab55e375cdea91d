"""Search for the step a person needs from the words they type, in every language of the tree.

Words are folded (case, accents) and reduced to their stem with the language's Snowball
stemmer, so "deportar", "deportación" and "deportado" meet. A word that matches nothing is
compared with the index's words by edit distance (rapidfuzz), so "abogao" and "lawer" still
land. Search words that legal-aid staff maintain per step (``search-words.md``) weigh like
titles when the query holds their whole phrase, less when it holds only part of it ("ils
veulent" of "ils veulent m'expulser"), and a whole phrase found in the text weighs more. The
words of the buttons that lead to a step count for it too, a little less than its title.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import snowballstemmer  # type: ignore[import-untyped]
from babel import Locale, UnknownLocaleError
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.content.model import ContentTree, Language
from bot.content.telegram_html import visible_text

_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script
MIN_WORD = 3
MAX_QUERY = 500
TITLE, SEARCH_WORDS, BODY = 2.0, 2.0, 0.8
LABEL = 1.2  # a word of a button that leads to the step
PHRASE_BONUS = 2.0  # per word of a staff-written phrase found whole in the text
EXACT, PREFIX, TYPO = 1.0, 0.8, 0.6  # how much a query word counts, by how it matched
RELATIVE = 0.4  # a result must score at least this share of the best one
COMMON = 0.85  # a stem in more than this share of the steps is not searched for
PHRASE_SHARE = 0.5  # a search word weighs (share of its phrase in the query) ** this


def fold(text: str) -> str:
    """Lowercase, without accents: what both the index and a query are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=131072)
def _fold_word(word: str) -> str:
    # Words repeat, so folding each distinct word once keeps indexing a big tree fast.
    return word if word.isascii() else fold(word)


def tokens(text: str) -> list[str]:
    """Every folded word of ``text``, in order."""
    return [_fold_word(w) for w in _WORD.findall(text.lower())]


def words(text: str) -> list[str]:
    """Folded words of at least three letters."""
    return [w for w in tokens(text) if len(w) >= MIN_WORD]


@functools.cache
def stemmer_for(lang: str) -> Callable[[str], str]:
    """The Snowball stemmer of ``lang`` (a code like ``es``); words unchanged if there is none."""
    try:
        name = (Locale.parse(lang).english_name or "").lower()
    except (UnknownLocaleError, ValueError, TypeError):
        name = ""
    if name not in snowballstemmer.algorithms():
        name = name.partition(" ")[0]  # "norwegian bokmål" -> "norwegian"
    if name not in snowballstemmer.algorithms():
        return lambda word: word
    stem: Callable[[str], str] = snowballstemmer.stemmer(name).stemWord
    return functools.lru_cache(maxsize=65536)(stem)


def stems(text: str, lang: str) -> list[str]:
    """Every folded word of ``text`` as a stem, in order (short words kept, for phrases)."""
    stem = stemmer_for(lang)
    # Folding first means a word typed without its accents stems like the accented one.
    return [stem(w) if len(w) >= MIN_WORD else w for w in tokens(text)]


def query_stems(text: str, lang: str) -> list[str]:
    """The stems of ``text`` that count as search words (from words of three letters or more)."""
    stem = stemmer_for(lang)
    return list(dict.fromkeys(stem(w) for w in words(text)))


@dataclass(frozen=True, slots=True)
class Hits:
    """What one language's index found: step ids best first, and how much of the query it knew.

    ``coverage`` is the share of the query's words this language knows (exactly 1, by prefix
    0.8, by a typo 0.6), so a query in another language can be told apart from one that matches.
    """

    ids: tuple[str, ...]
    coverage: float
    score: float


class SearchIndex:
    """One language's inverted index: stem -> steps, rare stems weighing more.

    The cost of a query stays with the steps that share its words (plus one edit-distance
    scan of the vocabulary for a word that matched nothing), so search stays fast on trees
    of thousands of steps.
    """

    def __init__(self, language: Language) -> None:
        self.lang = language.code
        self._ids: list[str] = []
        postings: dict[str, dict[int, float]] = {}
        phrases: dict[tuple[str, ...], set[int]] = {}
        # Each staff phrase's stems, and stem -> step -> the step's phrases that hold it.
        said: list[tuple[str, ...]] = []
        said_in: dict[str, dict[int, list[int]]] = {}
        # The buttons that lead to a step name it too, in the words the person just read: "Not
        # sure" leads to the step for someone not sure they fear a country, and "Find the next
        # court date" to the court's phone line, though neither step's own text says so.
        labels: dict[str, list[str]] = {}
        for node in language.nodes.values():
            for choice in node.choices:
                labels.setdefault(choice.target, []).append(visible_text(choice.label))
        for order, node in enumerate(language.nodes.values()):
            self._ids.append(node.id)
            fields = [(visible_text(node.html), BODY), (visible_text(node.title), TITLE),
                      *((label, LABEL) for label in labels.get(node.id, ()))]
            for phrase, _line in language.search_words.get(node.id, ()):
                key = tuple(stems(phrase, self.lang))
                if key:
                    phrases.setdefault(key, set()).add(order)
                phrase_stems = tuple(query_stems(phrase, self.lang))
                for stem in phrase_stems:
                    said_in.setdefault(stem, {}).setdefault(order, []).append(len(said))
                    postings.setdefault(stem, {}).setdefault(order, 0.0)
                said.append(phrase_stems)
            for text, weight in fields:
                for stem in query_stems(text, self.lang):
                    found = postings.setdefault(stem, {})
                    found[order] = max(found.get(order, 0.0), weight)
        n = max(len(self._ids), 1)
        # Every stem the language uses, so coverage can tell "known but common" from "foreign".
        self._known = frozenset(postings)
        # Stems found in almost every step ("que", "the") say nothing about where to go; the
        # others weigh more the rarer they are (smoothed, so "lawyer" in most steps still counts).
        self._idf = {s: math.log(1 + n / len(p)) for s, p in postings.items()
                     if len(p) <= COMMON * n or n < 8}
        # Per stem: (step, body or title weight, the step's phrases that hold the stem). A stem
        # only in search words has weight 0 there: its weight comes from how much of one of its
        # phrases the query holds.
        self._postings = {
            s: tuple((order, weight, tuple(said_in.get(s, {}).get(order, ())))
                     for order, weight in p.items())
            for s, p in postings.items() if s in self._idf}
        self._said_in = {s: tuple(ph for phs in p.values() for ph in phs)
                         for s, p in said_in.items() if s in self._idf}
        # How much each phrase weighs in all: the idf of its searched stems.
        self._said_mass = [sum(self._idf.get(s, 0.0) for s in key) or 1.0 for key in said]
        self._sorted = sorted(self._known)
        self._phrases = {k: tuple(sorted(v)) for k, v in phrases.items()}
        self._longest = max((len(k) for k in self._phrases), default=0)
        by_length: dict[int, list[str]] = {}
        for stem in self._known:
            by_length.setdefault(len(stem), []).append(stem)
        self._by_length = by_length

    # -- matching one query stem ------------------------------------------------------------
    def _prefixed(self, stem: str) -> list[str]:
        """Known stems that are a prefix of ``stem`` or start with it (four letters or more)."""
        if len(stem) < 4:
            return []
        found = [stem[:k] for k in range(4, len(stem)) if stem[:k] in self._known]
        i = bisect.bisect_left(self._sorted, stem)
        while i < len(self._sorted) and self._sorted[i].startswith(stem):
            found.append(self._sorted[i])
            i += 1
        return found

    def _typos(self, stem: str) -> list[str]:
        """Known stems one edit away (two for long words): swapped, missing or extra letters."""
        if len(stem) < 4:
            return []
        limit = 1 if len(stem) < 7 else 2
        found: list[str] = []
        for size in range(len(stem) - limit, len(stem) + limit + 1):
            bucket = self._by_length.get(size)
            if bucket:
                found += [m for m, _d, _i in process.extract(
                    stem, bucket, scorer=OSA.distance, score_cutoff=limit, limit=5)]
        return found

    def _matches(self, stem: str) -> tuple[float, list[str]]:
        """How ``stem`` matched (exact, prefix, typo or 0) and the index stems it matched."""
        if stem in self._known:
            return EXACT, [stem]
        prefixed = self._prefixed(stem)
        if prefixed:
            return PREFIX, prefixed
        typos = self._typos(stem)
        return (TYPO, typos) if typos else (0.0, [])

    # -- search -------------------------------------------------------------------------------
    def hits(self, text: str, limit: int = 3) -> Hits:
        """The best ``limit`` steps for ``text`` and how well this language knows its words."""
        text = text[:MAX_QUERY]
        scores: dict[int, float] = {}
        query = query_stems(text, self.lang)
        known = 0.0
        matches = [(quality, [w for w in matched if w in self._idf])
                   for quality, matched in map(self._matches, query)]
        # How much of each staff phrase the query holds, by idf: "ils veulent" is a third of
        # "ils veulent m'expulser" and counts as such, not as two rare words.
        held: dict[int, float] = {}
        for quality, matched in matches:
            known += quality
            for word in matched:
                gain = quality * self._idf[word]
                for phrase in self._said_in.get(word, ()):
                    held[phrase] = held.get(phrase, 0.0) + gain
        share = {phrase: min(mass / self._said_mass[phrase], 1.0) ** PHRASE_SHARE
                 for phrase, mass in held.items()}
        for quality, matched in matches:
            best: dict[int, float] = {}
            for word in matched:
                idf = quality * self._idf[word]
                for order, field_weight, in_phrases in self._postings[word]:
                    if in_phrases:
                        field_weight = max(field_weight,
                                           SEARCH_WORDS * max(share[ph] for ph in in_phrases))
                    weight = field_weight * idf + 0.01
                    if weight > best.get(order, 0.0):
                        best[order] = weight
            for order, weight in best.items():
                scores[order] = scores.get(order, 0.0) + weight
        for order, size in self._phrase_hits(stems(text, self.lang)):
            scores[order] = scores.get(order, 0.0) + PHRASE_BONUS * size
        ranked = sorted(scores, key=lambda order: (-scores[order], order))[:limit]
        # A step far behind the best one is noise ("deportar" also in a note about papers).
        ranked = [o for o in ranked if scores[o] >= RELATIVE * scores[ranked[0]]]
        return Hits(tuple(self._ids[o] for o in ranked), known / len(query) if query else 0.0,
                    scores[ranked[0]] if ranked else 0.0)

    def _phrase_hits(self, sequence: list[str]) -> Iterable[tuple[int, int]]:
        """(step, phrase length) for every staff phrase found whole in ``sequence``."""
        for size in range(1, min(self._longest, len(sequence)) + 1):
            for start in range(len(sequence) - size + 1):
                for order in self._phrases.get(tuple(sequence[start:start + size]), ()):
                    yield order, size

    def search(self, text: str, limit: int = 3) -> list[str]:
        """Ids of up to ``limit`` steps matching ``text``, best first."""
        return list(self.hits(text, limit).ids)


@dataclass(frozen=True, slots=True)
class Found:
    """The answer to a typed text: the language the steps are in (maybe not the session's)."""

    lang: str
    ids: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when nothing matched in any language."""
        return not self.ids


class Finder:
    """Searches the session's language first, and the others when they know the words better."""

    def __init__(self, tree: ContentTree) -> None:
        # Built now, not on the first search, so no user waits while an index is made.
        self.indexes = {code: SearchIndex(lang) for code, lang in tree.languages.items()}

    def find(self, lang: str, text: str, limit: int = 3) -> Found:
        """The best steps for ``text``: in ``lang``, or in a language that knows more of its words."""
        own = self.indexes[lang].hits(text, limit)
        best_lang, best = lang, own
        if own.coverage < 1.0:
            for code, index in self.indexes.items():
                if code == lang:
                    continue
                other = index.hits(text, limit)
                # Only a language that knows clearly more of the words wins over the person's own.
                if other.ids and other.coverage >= best.coverage + 0.2:
                    best_lang, best = code, other
        return Found(best_lang, best.ids)

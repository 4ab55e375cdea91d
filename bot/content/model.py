"""The immutable content tree: languages, topic files, steps (nodes) and choices."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.content.facts import current_value

FactOp = Literal["=", "+="]
# One entry per key in ``Node.variant_keys``: the answer a variant names, "" when the fact has no
# answer (the first variant of each group is shown) or "*" for an answer no variant names.
Selection = tuple[str, ...]
LineMap = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Choice:
    """A button leading to another node."""

    label: str
    target: str
    line: int


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact recorded for the lawyer sheet when a node is reached (``key=value`` or ``key+=value``)."""

    key: str
    op: FactOp
    value: str
    line: int

    def spec(self) -> str:
        """The fact as written in the file, without its line."""
        return f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True, slots=True)
class Node:
    """One step of a conversation in one language."""

    id: str
    title: str
    body: str
    html: str
    choices: tuple[Choice, ...]
    facts: tuple[Fact, ...]
    end: bool
    path: str
    line: int
    body_line: int
    topic: str
    line_map: LineMap = ()
    input: str = ""  # what the person may type at this step instead of a button ("country")
    raw_title: str = ""  # the title as written, before inline Markdown became HTML
    last_line: int = 0  # the step's last file line, so findings can be tied to a step
    legal_change: int = 0  # file version at which the law in this step last changed
    # Conditional blocks (``:: key=value``): the fact keys they read, and the body rendered for
    # every selection those keys allow; ``html``/``line_map`` above are the no-answer rendering.
    variant_keys: tuple[str, ...] = ()
    variants: tuple[tuple[Selection, str, LineMap], ...] = ()

    def line_at(self, offset: int, line_map: LineMap | None = None) -> int:
        """The file line that produced the character at ``offset`` of ``html`` (or of a variant)."""
        line = self.body_line
        for start, lineno in self.line_map if line_map is None else line_map:
            if start > offset:
                break
            line = lineno
        return line

    def selection(self, facts: Iterable[tuple[str, str]]) -> Selection:
        """Which variants the session's facts choose (last answer per key wins)."""
        if not self.variant_keys:
            return ()
        answers = {key: current_value(key, value) for key, value in facts}
        chosen = []
        for i, key in enumerate(self.variant_keys):
            answer = answers.get(key, "")
            named = any(selection[i] == answer for selection, _html, _map in self.variants)
            chosen.append(answer if named else "*")
        return tuple(chosen)

    def html_for(self, facts: Iterable[tuple[str, str]]) -> str:
        """The body as Telegram HTML for a session with these facts."""
        if not self.variants:
            return self.html
        wanted = self.selection(facts)
        for selection, html, _map in self.variants:
            if selection == wanted:
                return html
        return self.html

    def choice_to(self, target: str) -> Choice | None:
        """The choice leading to ``target``, if this node has one."""
        for choice in self.choices:
            if choice.target == target:
                return choice
        return None


@dataclass(frozen=True, slots=True)
class TopicFile:
    """One topic file's front matter and the ids of the nodes it holds, in order."""

    name: str
    path: str
    title: str
    version: int
    reviewed: str
    reviewer: str
    sources: tuple[str, ...]
    review_needed: bool
    translated_from: int | None
    node_ids: tuple[str, ...]
    version_line: int = 1
    review_by: str = ""  # the date the legal review expires; empty: the organisation's default period


@dataclass(frozen=True, slots=True)
class Record:
    """The English a translated step was made from: hash, file version and its strings."""

    hash: str
    version: int
    title: str = ""
    body: str = ""
    choices: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Language:
    """All topics and nodes of one language, and the words people type to find each step."""

    code: str
    files: MappingProxyType[str, TopicFile]
    nodes: MappingProxyType[str, Node]
    # step id -> (phrase, line in search-words.md), from the staff-kept search words file
    search_words: Mapping[str, tuple[tuple[str, int], ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    search_words_path: str = ""
    # What English each translated step was made from (see bot.translated_from).
    records: Mapping[str, Record] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContentTree:
    """Every language's content; ``version`` changes whenever any file changes."""

    languages: MappingProxyType[str, Language]
    version: str
    source_language: str = "en"
    start: str = "start"
    root: str = field(default="")
    # Per language, the step ids served from the source language (not translated yet, or
    # translated before a legal change); set only on the tree the engine serves.
    fallback: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        """Language codes, source language first, then alphabetical."""
        rest = sorted(c for c in self.languages if c != self.source_language)
        return (self.source_language, *rest) if self.source_language in self.languages else tuple(rest)

    @property
    def translations(self) -> tuple[Language, ...]:
        """Every language but the source language, in ``codes`` order."""
        return tuple(self.languages[c] for c in self.codes if c != self.source_language)

    def node(self, lang: str, node_id: str) -> Node | None:
        """The node ``node_id`` in ``lang``, or None."""
        language = self.languages.get(lang)
        return None if language is None else language.nodes.get(node_id)

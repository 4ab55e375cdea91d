"""Whole-tree checks: links, reachability, dead ends, languages in step, Telegram limits."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.facts import unknown_fact
from bot.content.loader import load_tree
from bot.content.model import ContentTree, Language, Node, Selection
from bot.content.problems import Problem
from bot.content.render import DISCLAIMER, render_node
from bot.content.telegram_html import (
    MAX_BUTTON_CHARS,
    MAX_MESSAGE_CHARS,
    telegram_length,
    validate_html,
    visible_text,
)
from bot.content.terms import check_terms
from bot.words.i18n import I18n

# Room kept free on every screen for a notice line the engine may put above a node.
NOTICE_ROOM = 300
# Longest button text a phone shows whole; longer labels get cut ("…") on narrow screens.
PHONE_BUTTON_CHARS = 30


@dataclass
class Report:
    """Everything the checker found, with per-language completeness figures."""

    tree: ContentTree
    i18n: I18n
    problems: list[Problem] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the bot from using the content."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are listed but do not stop the bot."""
        return [p for p in self.problems if not p.is_error]

    @property
    def content_errors(self) -> list[Problem]:
        """Errors in the content files (the catalogs' own problems are not among them)."""
        return [p for p in self.errors if p not in self.i18n.problems]


def _variant_name(node: Node, selection: Selection) -> str:
    """' (when who=relative)' for a conditional variant; '' for a node without groups."""
    parts = []
    for key, value in zip(node.variant_keys, selection, strict=True):
        parts.append(f"{key} has no answer" if value == "" else
                     f"{key} has another answer" if value == "*" else f"{key}={value}")
    return f" (when {', '.join(parts)})" if parts else ""


def _body_problems(node: Node, footer: str, title_ok: bool) -> list[Problem]:
    """HTML, bold and length problems of every text the node can show, one per variant."""
    found: list[Problem] = []
    path = node.path
    for selection, html, line_map in node.variants or (((), node.html, node.line_map),):
        variant = _variant_name(node, selection)
        body_problems = validate_html(html)
        for problem in body_problems:
            line = node.line_at(problem.offset, line_map)
            found.append(Problem(path, line, f"in '{node.id}'{variant}: {problem.message}"))
        ends = [start for start, _line in line_map[1:]] + [len(html)]
        for (start, line), end in zip(line_map, ends, strict=False):
            if "**" in html[start:end]:
                found.append(Problem(path, line, "'**' is not closed on this line, so it would "
                                     "show as stars", "bold must start and end on the same line"))
        if title_ok and not body_problems:
            size = telegram_length(visible_text(render_node(node, footer, html)))
            if size > MAX_MESSAGE_CHARS - NOTICE_ROOM:
                found.append(Problem(path, node.line,
                                     f"step '{node.id}'{variant} is {size} characters long; "
                                     f"Telegram allows {MAX_MESSAGE_CHARS} and the bot needs "
                                     f"{NOTICE_ROOM} for notices", "split it into two steps"))
    return list(dict.fromkeys(found))  # variants share lines: report each problem once


def _node_problems(node: Node, language: Language, footer: str) -> list[Problem]:
    found: list[Problem] = []
    path = node.path
    title_problems = validate_html(node.title)
    for problem in title_problems:
        found.append(Problem(path, node.line, f"title of '{node.id}': {problem.message}"))
    found.extend(_body_problems(node, footer, not title_problems))
    if not node.choices and not node.end:
        found.append(Problem(path, node.line, f"step '{node.id}' is a dead end: it has no choices",
                             "add '-> [text](step-id)' choices, or 'end: yes' if a path ends here"))
    seen: set[str] = set()
    for choice in node.choices:
        if choice.target not in language.nodes:
            found.append(Problem(path, choice.line, f"choice points at '{choice.target}', "
                                 "which does not exist", "check the spelling of the step id"))
        if choice.target in seen:
            found.append(Problem(path, choice.line, f"two choices lead to '{choice.target}'",
                                 "keep one"))
        seen.add(choice.target)
        if len(choice.label) > MAX_BUTTON_CHARS:
            found.append(Problem(path, choice.line,
                                 f"button text is {len(choice.label)} characters, over "
                                 f"Telegram's {MAX_BUTTON_CHARS}", "shorten it"))
        elif len(choice.label) > PHONE_BUTTON_CHARS:
            found.append(Problem(path, choice.line,
                                 f"button text '{choice.label}' is {len(choice.label)} characters",
                                 f"keep it to about {PHONE_BUTTON_CHARS} so a phone shows it "
                                 "whole; put the detail in the step's text", "warning"))
    return found


def _answers(node: Node) -> set[str]:
    """The 'key=value' answers a node's conditional blocks write text for."""
    return {f"{key}={value}" for selection, _html, _map in node.variants
            for key, value in zip(node.variant_keys, selection, strict=True)
            if value not in ("", "*")}


def check_facts(language: Language) -> list[Problem]:
    """Every ``fact:`` line whose key or value the lawyer summary's vocabulary does not know."""
    found = []
    for node in language.nodes.values():
        for fact in node.facts:
            wrong = unknown_fact(fact.key, fact.value, fact.op)
            if wrong is not None:
                found.append(Problem(node.path, fact.line, f"in '{node.id}': {wrong[0]}",
                                     f"{wrong[1]} (declared in bot/content/facts.py)"))
    return found


def _reachability(tree: ContentTree, language: Language) -> list[Problem]:
    start = tree.start
    if start not in language.nodes:
        folder = str(Path(tree.root) / language.code)
        return [Problem(folder, 0, f"there is no '{start}' step in {language.code}",
                        f"add '## {start} | ...' (usually in {start}.md)")]
    seen = {start}
    queue = deque([start])
    while queue:
        node = language.nodes[queue.popleft()]
        for choice in node.choices:
            if choice.target in language.nodes and choice.target not in seen:
                seen.add(choice.target)
                queue.append(choice.target)
    return [
        Problem(node.path, node.line, f"step '{node.id}' cannot be reached from '{start}'",
                "add a choice leading to it, or remove it")
        for node in language.nodes.values() if node.id not in seen
    ]


def _compare(source: Language, lang: Language) -> list[Problem]:
    """Check that a translation has the same files, steps, choices and facts as the source."""
    found: list[Problem] = []
    folder = lang.code
    for name, topic in source.files.items():
        if name not in lang.files:
            found.append(Problem(f"{Path(topic.path).parent.parent / folder / (name + '.md')}", 0,
                                 f"{folder} has no {name}.md, which {source.code} has",
                                 f"translate {topic.path}"))
            continue
        other = lang.files[name]
        if other.translated_from is not None and other.translated_from < topic.version:
            found.append(Problem(other.path, 1,
                                 f"{folder}/{name}.md is out of date with {source.code}: "
                                 f"translated from version {other.translated_from}, "
                                 f"{source.code} is at {topic.version}",
                                 "update the translation, then set 'translated-from'", "warning"))
        if other.translated_from is not None and other.translated_from > topic.version:
            found.append(Problem(other.path, 1,
                                 f"'translated-from: {other.translated_from}' is newer than the "
                                 f"{source.code} file's version {topic.version}",
                                 "use the English file's version number"))
    for name, topic in lang.files.items():
        if name not in source.files:
            found.append(Problem(topic.path, 0, f"{name}.md has no {source.code} original",
                                 f"add it to {source.code} first, or remove it"))
    for node_id, node in source.nodes.items():
        other_node = lang.nodes.get(node_id)
        if other_node is None:
            if node.topic in lang.files:
                found.append(Problem(lang.files[node.topic].path, 0,
                                     f"step '{node_id}' is missing (it is at {node.path}:{node.line})",
                                     "translate that step, keeping the same id"))
            continue
        if other_node.topic != node.topic:
            found.append(Problem(other_node.path, other_node.line,
                                 f"step '{node_id}' is in {other_node.topic}.md but in {node.topic}.md "
                                 f"in {source.code}", "move it to the same file"))
        want = [c.target for c in node.choices]
        have = [c.target for c in other_node.choices]
        if want != have:
            found.append(Problem(other_node.path, other_node.line,
                                 f"choices of '{node_id}' differ from {source.code}: "
                                 f"{', '.join(have) or 'none'} instead of {', '.join(want) or 'none'}",
                                 f"use the same choices in the same order as {node.path}:{node.line}"))
        if [f.spec() for f in node.facts] != [f.spec() for f in other_node.facts]:
            found.append(Problem(other_node.path, other_node.line,
                                 f"facts of '{node_id}' differ from {source.code}",
                                 f"copy the 'fact:' lines from {node.path}:{node.line} as they are"))
        if node.input != other_node.input:
            found.append(Problem(other_node.path, other_node.line,
                                 f"'input:' of '{node_id}' differs from {source.code}",
                                 f"match {node.path}:{node.line}"))
        if node.end != other_node.end:
            found.append(Problem(other_node.path, other_node.line,
                                 f"'end:' of '{node_id}' differs from {source.code}",
                                 f"match {node.path}:{node.line}"))
        missing = _answers(node) - _answers(other_node)
        if missing:
            found.append(Problem(other_node.path, other_node.line,
                                 f"'{node_id}' has no text for {', '.join(sorted(missing))}, "
                                 f"which {source.code} writes apart",
                                 f"add the ':: key=value' blocks of {node.path}:{node.line}, or "
                                 "make sure the shared text suits every answer", "warning"))
    for node_id, node in lang.nodes.items():
        if node_id not in source.nodes:
            found.append(Problem(node.path, node.line,
                                 f"step '{node_id}' does not exist in {source.code}",
                                 f"add it to {source.code} first, or remove it"))
    return found


def check_tree(tree: ContentTree, i18n: I18n) -> list[Problem]:
    """Every problem in a loaded tree (beyond what the loader found)."""
    problems: list[Problem] = []
    source = tree.languages.get(tree.source_language)
    for code in tree.codes:
        language = tree.languages[code]
        footer = i18n.gettext(code, DISCLAIMER)
        for node in language.nodes.values():
            problems.extend(_node_problems(node, language, footer))
        problems.extend(_reachability(tree, language))
        problems.extend(check_facts(language))
        if source is not None and language is not source:
            problems.extend(_compare(source, language))
        for topic in language.files.values():
            if topic.review_needed:
                problems.append(Problem(topic.path, 1, "needs legal review: it rests on facts "
                                        "marked 'to verify'", "a lawyer should confirm it",
                                        "warning"))
    return problems


def _summary(tree: ContentTree, i18n: I18n, problems: list[Problem]) -> list[str]:
    source = tree.languages.get(tree.source_language)
    lines = []
    for code in tree.codes:
        language = tree.languages[code]
        parts = [code + ":"]
        stats = i18n.stats.get(code)
        if stats and stats.total:
            parts.append(f"interface {100 * stats.translated // stats.total}%,")
        elif code != tree.source_language:
            parts.append("interface missing,")
        if source is not None and source.nodes:
            have = sum(1 for n in source.nodes if n in language.nodes)
            parts.append(f"content {100 * have // len(source.nodes)}%,")
        stale = sum(1 for t in language.files.values()
                    if source is not None and t.name in source.files
                    and t.translated_from is not None
                    and t.translated_from < source.files[t.name].version)
        parts.append(f"{len(language.nodes)} steps in {len(language.files)} files, "
                     f"{stale} out of date")
        lines.append(" ".join(parts))
    return lines


def check_content(content_dir: Path, locales_dir: Path | None) -> Report:
    """Load and check a content folder and the interface catalogs: the one way content is read.

    ``kyr-bot check`` prints the report; the bot and the terminal chat build their engine from
    it (:func:`bot.app.build_engine`).
    """
    tree, problems = load_tree(content_dir)
    i18n = I18n.load(locales_dir)
    problems = problems + i18n.problems + check_tree(tree, i18n) + check_terms(tree, content_dir)
    problems.sort(key=lambda p: (p.path, p.line, p.message))
    return Report(tree, i18n, problems, _summary(tree, i18n, problems))

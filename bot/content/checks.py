"""Whole-tree checks: links, reachability, dead ends, languages in step, Telegram limits."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path

from bot.content.english_first import Status, compare
from bot.content.facts import fact_issue
from bot.content.loader import NODE_ID, load_tree
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
from bot.review.policy import load_policy
from bot.review.records import review_problems, reviewer_queue
from bot.words.i18n import I18n

# Room kept free on every screen for a notice line the engine may put above a node.
NOTICE_ROOM = 300
# Longest button text a phone shows whole; longer labels get cut ("…") on narrow screens.
PHONE_BUTTON_CHARS = 30
LINK_SCHEMES = ("https://", "http://", "tel:", "tg://")
_HREF = re.compile(r'<a\s[^>]*?href="([^"]*)"')


@dataclass
class Report:
    """Everything the checker found, with per-language completeness figures."""

    tree: ContentTree
    i18n: I18n
    problems: list[Problem] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    status: Status = field(default_factory=Status)  # what to serve in English, which languages
    review_first: list[str] = field(default_factory=list)  # topics a lawyer should look at first
    expiry: list[Problem] = field(default_factory=list)  # expiring or expired legal reviews

    @property
    def errors(self) -> list[Problem]:
        """Problems that stop the bot from using the content."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are listed but do not stop the bot."""
        return [p for p in self.problems if not p.is_error]

    @property
    def start_errors(self) -> list[Problem]:
        """Errors that stop a start or a reload: content and catalog errors.

        An expired legal review fails ``kyr-bot check`` but is not among them: the bot keeps
        helping people while the review is renewed.
        """
        return [p for p in self.errors if p not in self.expiry]


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
            found.append(Problem(path, line, f"in '{node.id}'{variant}: {problem.message}",
                                 code="E-HTML"))
        ends = [start for start, _line in line_map[1:]] + [len(html)]
        for (start, line), end in zip(line_map, ends, strict=False):
            if "**" in html[start:end]:
                found.append(Problem(path, line, "'**' is not closed on this line, so it would "
                                     "show as stars", "bold must start and end on the same line",
                                     code="E-BOLD-UNCLOSED"))
        if title_ok and not body_problems:
            size = telegram_length(visible_text(render_node(node, footer, html)))
            if size > MAX_MESSAGE_CHARS - NOTICE_ROOM:
                found.append(Problem(path, node.line,
                                     f"step '{node.id}'{variant} is {size} characters long; "
                                     f"Telegram allows {MAX_MESSAGE_CHARS} and the bot needs "
                                     f"{NOTICE_ROOM} for notices", "split it into two steps",
                                     code="E-MESSAGE-TOO-LONG"))
    return list(dict.fromkeys(found))  # variants share lines: report each problem once


def _node_problems(node: Node, language: Language, footer: str,
                   known: set[str] | frozenset[str] = frozenset()) -> list[Problem]:
    found: list[Problem] = []
    path = node.path
    title_problems = validate_html(node.title)
    for problem in title_problems:
        found.append(Problem(path, node.line, f"title of '{node.id}': {problem.message}",
                             code="E-HTML-TITLE"))
    found.extend(_body_problems(node, footer, not title_problems))
    if not node.choices and not node.end:
        found.append(Problem(path, node.line, f"step '{node.id}' is a dead end: it has no choices",
                             "add '-> [text](step-id)' choices, or 'end: yes' if a path ends here",
                             code="E-DEAD-END"))
    seen: set[str] = set()
    for choice in node.choices:
        if choice.target not in language.nodes and choice.target not in known:
            found.append(Problem(path, choice.line, f"choice points at '{choice.target}', "
                                 "which does not exist", "check the spelling of the step id",
                                 code="E-CHOICE-TARGET"))
        if choice.target in seen:
            found.append(Problem(path, choice.line, f"two choices lead to '{choice.target}'",
                                 "keep one", code="E-CHOICE-TWICE"))
        seen.add(choice.target)
        if len(choice.label) > MAX_BUTTON_CHARS:
            found.append(Problem(path, choice.line,
                                 f"button text is {len(choice.label)} characters, over "
                                 f"Telegram's {MAX_BUTTON_CHARS}", "shorten it", code="E-BUTTON-TOO-LONG"))
    return found


def _answers(node: Node) -> set[str]:
    """The 'key=value' answers a node's conditional blocks write text for."""
    return {f"{key}={value}" for selection, _html, _map in node.variants
            for key, value in zip(node.variant_keys, selection, strict=True)
            if value not in ("", "*")}


def _variant_problems(source: Language, language: Language) -> list[Problem]:
    """Translated steps with no text for an answer their English step writes apart."""
    found = []
    for node_id, node in source.nodes.items():
        other = language.nodes.get(node_id)
        missing = _answers(node) - _answers(other) if other is not None else set()
        if other is not None and missing:
            found.append(Problem(other.path, other.line,
                                 f"'{node_id}' has no text for {', '.join(sorted(missing))}, "
                                 f"which {source.code} writes apart",
                                 f"add the ':: key=value' blocks of {node.path}:{node.line}, or "
                                 "make sure the shared text suits every answer", "warning",
                                 code="W-VARIANT-MISSING"))
    return found
    return found


def _reachability(tree: ContentTree, language: Language) -> list[Problem]:
    start = tree.start
    if start not in language.nodes:
        folder = str(Path(tree.root) / language.code)
        return [Problem(folder, 0, f"there is no '{start}' step in {language.code}",
                        f"add '## {start} | ...' (usually in {start}.md)", code="E-START-MISSING")]
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
                "add a choice leading to it, or remove it", code="E-UNREACHABLE")
        for node in language.nodes.values() if node.id not in seen
    ]


def _fact_problems(node: Node) -> list[Problem]:
    """Facts the lawyer summary does not know would silently vanish from it: refuse them."""
    found: list[Problem] = []
    for fact in node.facts:
        issue = fact_issue(fact.key, fact.value, fact.op)
        if issue is not None:
            found.append(Problem(node.path, fact.line, issue.message, issue.hint, issue.severity,
                                 code=issue.code))
    return found


def _link_problems(node: Node) -> list[Problem]:
    found: list[Problem] = []
    for match in _HREF.finditer(node.html):
        url = unescape(match.group(1))
        if not url.lower().startswith(LINK_SCHEMES):
            hint = ("to send people to another step, use a choice '-> [text](step-id)'"
                    if NODE_ID.match(url)
                    else "write the full address, like https://www.justice.gov/eoir")
            found.append(Problem(node.path, node.line_at(match.start()),
                                 f"link {url!r} is not a web address (https://), phone (tel:) or "
                                 "Telegram (tg://) link", hint, code="E-LINK-SCHEME"))
    return found


def _phone_problems(node: Node) -> list[Problem]:
    return [
        Problem(node.path, c.line, f"button text is {len(visible_text(c.label))} characters; "
                f"phones show about {PHONE_BUTTON_CHARS} on one button",
                f"shorten it to {PHONE_BUTTON_CHARS} characters or fewer", "warning",
                code="W-BUTTON-LONG")
        for c in node.choices
        if PHONE_BUTTON_CHARS < len(visible_text(c.label)) <= MAX_BUTTON_CHARS
    ]


def _broken_steps(language: Language, problems: list[Problem]) -> set[str]:
    """Ids of steps holding an error, so translations are not also told to copy it."""
    by_file: dict[str, list[int]] = {}
    for problem in problems:
        if problem.is_error:
            by_file.setdefault(problem.path, []).append(problem.line)
    return {node.id for node in language.nodes.values()
            if any(node.line <= line <= max(node.last_line, node.line)
                   for line in by_file.get(node.path, ()))}


def review(tree: ContentTree, i18n: I18n,
           found: list[Problem] | None = None) -> tuple[list[Problem], Status]:
    """Every problem in a loaded tree beyond ``found`` (the loader's), and what to serve."""
    problems: list[Problem] = []
    source = tree.languages.get(tree.source_language)
    known = frozenset(source.nodes) if source else frozenset()
    for code in tree.codes:
        language = tree.languages[code]
        footer = i18n.gettext(code, DISCLAIMER)
        for node in language.nodes.values():
            # A translation may point at a step only English has yet: it is served in English.
            problems.extend(_node_problems(node, language, footer, known))
            problems.extend(_link_problems(node))
            problems.extend(_phone_problems(node))
            if language is source:
                problems.extend(_fact_problems(node))
        if language is source:
            problems.extend(_reachability(tree, language))
        elif source is not None:
            problems.extend(_variant_problems(source, language))
        for topic in language.files.values():
            if topic.review_needed:
                problems.append(Problem(topic.path, 1, "needs legal review: it rests on facts "
                                        "marked 'to verify'", "a lawyer should confirm it",
                                        "warning", code="W-REVIEW-NEEDED"))
    broken = _broken_steps(source, [*(found or ()), *problems]) if source else set()
    status = compare(tree, broken, set(i18n.languages))
    return problems + status.problems, status


def check_tree(tree: ContentTree, i18n: I18n, found: list[Problem] | None = None) -> list[Problem]:
    """Every problem in a loaded tree (beyond ``found``, what the loader reported)."""
    return review(tree, i18n, found)[0]


def _summary(tree: ContentTree, i18n: I18n, status: Status) -> list[str]:
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
            # Text identical to English, or served in English, is not counted as translated.
            english = status.fallback.get(code, set()) if language is not source else set()
            have = sum(1 for n in source.nodes if n in language.nodes and n not in english)
            parts.append(f"content {100 * have // len(source.nodes)}%,")
        stale = len(status.stale.get(code, ()))
        stale += sum(1 for t in language.files.values()
                     if source is not None and t.name in source.files
                     and not any(s in language.records for s in t.node_ids)
                     and t.translated_from is not None
                     and t.translated_from < source.files[t.name].version)
        parts.append(f"{len(language.nodes)} steps in {len(language.files)} files, "
                     f"{stale} out of date")
        if code in status.hidden:
            parts.append("(not offered to users)")
        lines.append(" ".join(parts))
    return lines


def check_content(content_dir: Path, locales_dir: Path | None, today: date | None = None) -> Report:
    """Load and check a content folder and the interface catalogs: the one way content is read.

    ``kyr-bot check`` prints the report; the bot and the terminal chat build their engine from
    it (:func:`bot.app.build_engine`). Legal reviews are checked for expiry as of ``today``.
    """
    tree, problems = load_tree(content_dir)
    i18n = I18n.load(locales_dir)
    if locales_dir is not None and not locales_dir.is_dir():
        problems.append(Problem(str(locales_dir), 0, "the interface catalog folder is missing",
                                "set LOCALES_DIR (or --locales) to the folder holding messages.pot "
                                "and <lang>/LC_MESSAGES/messages.po", code="E-CATALOG-FOLDER"))
    found, status = review(tree, i18n, problems)
    policy, policy_problems = load_policy(content_dir)
    today = today or date.today()
    expiry = review_problems(tree, policy, today)
    problems = (problems + i18n.problems + found + check_terms(tree, content_dir) + policy_problems
                + expiry)
    problems.sort(key=lambda p: (not p.is_error, p.path, p.line, p.message))
    return Report(tree, i18n, problems, _summary(tree, i18n, status), status,
                  reviewer_queue(tree, policy, today), expiry)


# How ``kyr-bot check`` names a group of recurring warnings, by code: "12 files need legal review".
GROUPS = {
    "W-REVIEW-NEEDED": "files need legal review",
    "W-BUTTON-LONG": "button labels may be cut on phones",
    "W-STALE-STEP": "translated steps changed in English since they were translated",
    "W-STALE-LEGAL": "translated steps are older than a legal change (shown in English)",
    "W-STEP-UNTRANSLATED": "steps are not translated yet (shown in English)",
    "W-STEP-SAME-AS-SOURCE": "steps are the same as English (shown as not translated)",
    "W-FILE-UNTRANSLATED": "files are not translated yet (shown in English)",
    "W-CHOICE-UNTRANSLATED": "choices English added are not translated yet",
    "W-FACT-LEGACY": "facts use an old value",
    "W-CATALOG-UNTRANSLATED": "interface strings are not translated yet (shown in English)",
    "W-CATALOG-FUZZY": "interface translations are marked fuzzy (shown in English)",
}
GROUP_FROM = 3  # fewer warnings of a kind than this are listed one by one


def report_lines(report: Report, verbose: bool = False) -> list[str]:
    """The lines ``kyr-bot check`` prints: errors first, then warnings, recurring ones grouped."""
    lines: list[str] = []
    for problem in report.errors:
        lines.append(problem.report_line())
        lines.extend("    " + d for d in problem.detail)
    by_code: dict[str, list[Problem]] = {}
    for problem in report.warnings:
        by_code.setdefault(problem.code, []).append(problem)
    for problem in report.warnings:
        group = by_code[problem.code]
        if verbose or not problem.code or len(group) < GROUP_FROM:
            lines.append(problem.report_line())
            lines.extend("    " + d for d in problem.detail)
        elif problem is group[0]:
            label = GROUPS.get(problem.code, f"warnings like: {problem.message}")
            where = ", ".join(dict.fromkeys(p.where if problem.code != "W-REVIEW-NEEDED"
                                            else p.path for p in group))
            lines.append(f"warning: {len(group)} {label}: {where} "
                         "(kyr-bot check --verbose shows each)")
    return lines

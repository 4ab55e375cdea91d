"""Read content folders (``<root>/<lang>/*.md``) into an immutable :class:`ContentTree`.

The loader reports what is wrong inside one file (front matter, headings, choices, facts,
duplicate ids); :mod:`bot.content.checks` then checks the tree as a whole and across languages.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bot.content import translated_from
from bot.content.facts import FACTS, fact_issue
from bot.content.markup import inline, render_body
from bot.content.model import Choice, ContentTree, Fact, Language, LineMap, Node, Selection, TopicFile
from bot.content.problems import Problem

NODE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,26}[a-z0-9])?$")
LANG_CODE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_HEADING = re.compile(r"^##(?!#)\s*(.*)$")
_CHOICE = re.compile(r"^->\s*\[(.*)\]\(\s*([^)]*?)\s*\)\s*$")
_FACT = re.compile(r"^fact:\s*(.*)$", re.IGNORECASE)
_FACT_SPEC = re.compile(r"^([a-z][a-z0-9_-]*)\s*(\+?=)\s*([a-z0-9][a-z0-9_-]*)$")
_END = re.compile(r"^end:\s*(.*)$", re.IGNORECASE)
_INPUT = re.compile(r"^input:\s*(.*)$", re.IGNORECASE)
INPUTS = ("country",)  # what a step may let the person type (see content/README.md)
SEARCH_WORDS_FILE = "search-words.md"
_WORDISH = re.compile(r"\w")
_LEGAL = re.compile(r"^legal-change:\s*(.*)$", re.IGNORECASE)
_ONE_HASH = re.compile(r"^#(?!#)\s*(.*)$")
_BLOCK = re.compile(r"^::(?!:)\s*(.*)$")
_BLOCK_SPEC = re.compile(r"^([a-z][a-z0-9_-]*)\s*=\s*([a-z0-9][a-z0-9_-]*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KNOWN_KEYS = {"title", "version", "reviewed", "reviewer", "review-by", "sources", "review",
               "translated-from"}
YES = {"yes", "true", "y"}
NO = {"no", "false", "n", ""}


@dataclass
class _FrontMatter:
    values: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    end_line: int = 0


@dataclass
class _Group:
    """A run of conditional blocks (``:: key=value`` ... ``::``) choosing on one fact key."""

    line: int
    key: str
    values: list[str] = field(default_factory=list)


@dataclass
class _NodeDraft:
    id: str
    title: str
    line: int
    # (line, text, group index, variant value); plain text has no group.
    body: list[tuple[int, str, int | None, str]] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    end: bool = False
    input: str = ""
    legal_change: int = 0
    last_line: int = 0
    groups: list[_Group] = field(default_factory=list)
    raw: list[tuple[int, str]] = field(default_factory=list)  # body as written, '::' lines too
    open_group: _Group | None = None

    def close(self, path: str, problems: list[Problem]) -> None:
        """Report a conditional group still open where the step ends."""
        if self.open_group is not None:
            problems.append(Problem(path, self.open_group.line,
                                    f"the conditional block '{self.open_group.key}' in "
                                    f"'{self.id}' is never closed",
                                    "end the group with a line holding only '::'"))
            self.open_group = None


def _block_line(current: _NodeDraft, rest: str, lineno: int, path: str,
                problems: list[Problem]) -> None:
    """Handle a ``::`` line: start a variant, or end the open group."""
    if not rest:
        if current.open_group is None:
            problems.append(Problem(path, lineno, "'::' closes no conditional block",
                                    "start a group with ':: key=value', or remove this line"))
        current.open_group = None
        return
    written = _BLOCK_SPEC.match(rest)
    if not written:
        problems.append(Problem(path, lineno, f"cannot read conditional block {rest!r}",
                                "write ':: key=value', like ':: who=relative', or '::' to end"))
        return
    key, value = written.groups()
    spec = FACTS.get(key)
    if spec is not None and spec.multi:
        problems.append(Problem(path, lineno, f"'{key}' is a list fact and cannot choose text",
                                "use a single-value fact", code="E-BLOCK-LIST-FACT"))
        return
    issue = fact_issue(key, value)
    if issue is not None:  # even an old value: new text is written with today's values
        problems.append(Problem(path, lineno, issue.message, issue.hint, code=issue.code))
        return
    group = current.open_group
    if group is not None and group.key != key:
        problems.append(Problem(path, lineno,
                                f"this group chooses on '{group.key}' (line {group.line}), "
                                f"not on '{key}'", "close the group with '::' first"))
        return
    if group is None:
        group = current.open_group = _Group(lineno, key)
        current.groups.append(group)
    if value in group.values:
        problems.append(Problem(path, lineno, f"'{key}={value}' is given twice in this group",
                                "merge the two texts"))
    group.values.append(value)


def _front_matter(lines: list[str], path: str, problems: list[Problem]) -> _FrontMatter | None:
    fm = _FrontMatter()
    if not lines or lines[0].strip() != "---":
        problems.append(
            Problem(path, 1, "the file must start with a front matter block",
                    "begin the file with a line '---', then 'title:', 'version:' ..., then '---'",
                    code="E-FRONT-MATTER-MISSING")
        )
        return None
    in_sources = False
    for i in range(1, len(lines)):
        lineno = i + 1
        raw = lines[i].rstrip()
        if raw.strip() == "---":
            fm.end_line = lineno
            return fm
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if in_sources and raw.lstrip().startswith("- "):
            fm.sources.append(raw.strip()[2:].strip())
            continue
        key, sep, value = raw.partition(":")
        key = key.strip().lower()
        if not sep or raw[:1].isspace():
            problems.append(
                Problem(path, lineno, f"cannot read front matter line {raw.strip()!r}",
                        "write 'key: value', or '  - source' under 'sources:'", code="E-FRONT-MATTER-LINE")
            )
            continue
        in_sources = key == "sources"
        if key not in _KNOWN_KEYS:
            problems.append(
                Problem(path, lineno, f"unknown front matter key '{key}'",
                        "use title, version, reviewed, reviewer, review-by, sources, review, "
                        "translated-from",
                        "warning", code="W-FRONT-MATTER-KEY")
            )
        if key in fm.lines:
            problems.append(Problem(path, lineno, f"'{key}' is given twice", "keep one",
                                    code="E-FRONT-MATTER-TWICE"))
        fm.values[key] = value.strip()
        fm.lines[key] = lineno
        if key == "sources" and value.strip():
            fm.sources.append(value.strip())
    problems.append(
        Problem(path, 1, "the front matter block is never closed", "add a line '---' after it",
                code="E-FRONT-MATTER-UNCLOSED")
    )
    return None


def _int_field(fm: _FrontMatter, key: str, path: str, problems: list[Problem]) -> int | None:
    value = fm.values.get(key, "")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        problems.append(
            Problem(path, fm.lines[key], f"'{key}' must be a whole number like 3, not {value!r}",
                    "raise the number by 1 for each change", code="E-FRONT-MATTER-NUMBER")
        )
        return None
    return int(value)


def _topic(fm: _FrontMatter, name: str, path: str, is_source: bool, problems: list[Problem],
           node_ids: tuple[str, ...]) -> TopicFile:
    title = fm.values.get("title", "")
    if not title:
        problems.append(Problem(path, 1, "the front matter has no 'title'", "add 'title: ...'",
                                code="E-TITLE-MISSING"))
    version = _int_field(fm, "version", path, problems)
    if "version" not in fm.values:
        problems.append(Problem(path, 1, "the front matter has no 'version'", "add 'version: 1'",
                                code="E-VERSION-MISSING"))
    reviewed, review_by = fm.values.get("reviewed", ""), fm.values.get("review-by", "")
    for key, example, code in (("reviewed", "2026-11-01", "E-REVIEWED-DATE"),
                               ("review-by", "2027-11-01", "E-REVIEW-BY-DATE")):
        written = fm.values.get(key, "")
        if written and not _DATE.match(written):
            problems.append(Problem(path, fm.lines[key], f"'{key}' must be a date like {example}, "
                                    f"not {written!r}", "or leave it empty", code=code))
    review = fm.values.get("review", "").lower()
    if review not in ("", "needed", "done"):
        problems.append(
            Problem(path, fm.lines["review"], f"'review' must be 'needed' or empty, not {review!r}",
                    code="E-REVIEW-VALUE")
        )
    translated_from = _int_field(fm, "translated-from", path, problems)
    if not is_source and "translated-from" not in fm.values:
        problems.append(
            Problem(path, 1, "a translation must say which English version it was made from",
                    "add 'translated-from: N' with the English file's version",
                    code="E-TRANSLATED-FROM-MISSING")
        )
    return TopicFile(
        name=name, path=path, title=title, version=version or 0, reviewed=reviewed,
        reviewer=fm.values.get("reviewer", ""), sources=tuple(fm.sources),
        review_needed=review == "needed", translated_from=translated_from, node_ids=node_ids,
        version_line=fm.lines.get("version", 1),
        review_by=review_by if _DATE.match(review_by) else "",
    )


def _parse_nodes(lines: list[str], start: int, path: str, problems: list[Problem]) -> list[_NodeDraft]:
    drafts: list[_NodeDraft] = []
    current: _NodeDraft | None = None
    for i in range(start, len(lines)):
        lineno = i + 1
        text = lines[i].rstrip()
        stripped = text.strip()
        heading = _HEADING.match(stripped)
        one_hash = None if heading else _ONE_HASH.match(stripped)
        if one_hash:
            looks_like_step = NODE_ID.match(one_hash.group(1).partition("|")[0].strip())
            # A Markdown H1 would reach the user as a literal '#'; it is almost always a step
            # heading typed with one '#', so say that rather than a puzzling later error.
            problems.append(
                Problem(path, lineno, f"a heading with one '#': {stripped!r}",
                        "a step starts with two: '## step-id | Title'", code="E-HEADING-ONE-HASH")
            )
            if not looks_like_step:
                continue
            heading = one_hash
        if heading and current is not None:
            current.close(path, problems)
        if heading:
            node_id, bar, title = heading.group(1).partition("|")
            node_id, title = node_id.strip(), title.strip()
            if (not bar or not title) and not one_hash:
                problems.append(
                    Problem(path, lineno, f"step heading {stripped!r} has no '| Title'",
                            f"write '## {node_id or 'step-id'} | Title': the id, a '|', then the "
                            "title people see", code="E-HEADING-NO-TITLE")
                )
            if not NODE_ID.match(node_id) and not one_hash:
                problems.append(
                    Problem(path, lineno, f"step id {node_id!r} is not valid",
                            "use 1-28 lowercase letters, digits and '-', like 'tc-fear'",
                            code="E-STEP-ID")
                )
            if current is not None:
                current.last_line = lineno - 1
            current = _NodeDraft(node_id, title, lineno)
            drafts.append(current)
            continue
        if current is None:
            if stripped:
                problems.append(
                    Problem(path, lineno, "text before the first step heading",
                            "start each step with '## step-id | Title'", code="E-TEXT-BEFORE-STEP")
                )
            continue
        block = _BLOCK.match(stripped)
        if block:
            _block_line(current, block.group(1).strip(), lineno, path, problems)
            current.raw.append((lineno, text))
            continue
        if current.open_group is not None and (stripped.startswith("->") or _FACT.match(stripped)
                                               or _END.match(stripped) or _INPUT.match(stripped)):
            problems.append(Problem(path, lineno, "choices, facts, 'end:' and 'input:' cannot be "
                                    "inside a conditional block", "close the group with '::' before it"))
        if stripped.startswith("->"):
            m = _CHOICE.match(stripped)
            if not m:
                problems.append(
                    Problem(path, lineno, f"cannot read choice {stripped!r}",
                            "write '-> [Button text](step-id)'", code="E-CHOICE-SYNTAX")
                )
                continue
            label, target = m.group(1).strip(), m.group(2).strip().lstrip("#")
            if not label:
                problems.append(Problem(path, lineno, "a choice has no button text",
                                        "write the text between [ and ]", code="E-CHOICE-NO-TEXT"))
            current.choices.append(Choice(label, target, lineno))
            continue
        fact = _FACT.match(stripped)
        if fact:
            spec = _FACT_SPEC.match(fact.group(1).strip())
            if not spec:
                problems.append(
                    Problem(path, lineno, f"cannot read fact {fact.group(1).strip()!r}",
                            "write 'fact: key=value' or 'fact: key+=value' in lowercase",
                            code="E-FACT-SYNTAX")
                )
                continue
            current.facts.append(Fact(spec.group(1), spec.group(2), spec.group(3), lineno))  # type: ignore[arg-type]
            continue
        end = _END.match(stripped)
        if end:
            value = end.group(1).strip().lower()
            if value not in YES | NO:
                problems.append(Problem(path, lineno, f"'end' must be yes or no, not {value!r}",
                                        code="E-END-VALUE"))
            current.end = value in YES
            continue
        typed = _INPUT.match(stripped)
        if typed:
            value = typed.group(1).strip().lower()
            if value not in INPUTS:
                problems.append(Problem(path, lineno, f"'input' must be one of {', '.join(INPUTS)}, "
                                        f"not {value!r}", "write 'input: country'", code="E-INPUT"))
            else:
                current.input = value
            continue
        legal = _LEGAL.match(stripped)
        if legal:
            value = legal.group(1).strip()
            if not value.isdigit() or int(value) < 1:
                problems.append(Problem(path, lineno, f"'legal-change' must be the file's version "
                                        f"number when the law changed, not {value!r}",
                                        "write 'legal-change: N' with the new 'version'",
                                        code="E-LEGAL-CHANGE"))
                continue
            current.legal_change = int(value)
            continue
        current.raw.append((lineno, text))
        group = current.open_group
        if group is None:
            current.body.append((lineno, text, None, ""))
        else:
            current.body.append((lineno, text, current.groups.index(group), group.values[-1]))
    if current is not None:
        current.close(path, problems)
        current.last_line = len(lines)
    return drafts


def _trimmed(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    while lines and not lines[0][1].strip():
        lines.pop(0)
    while lines and not lines[-1][1].strip():
        lines.pop()
    return lines


def _selections(draft: _NodeDraft) -> tuple[tuple[str, ...], list[Selection]]:
    """The fact keys the groups read, and every selection of answers they can meet."""
    keys = tuple(dict.fromkeys(g.key for g in draft.groups))
    choices = []
    for key in keys:
        named = list(dict.fromkeys(v for g in draft.groups if g.key == key for v in g.values))
        spec = FACTS.get(key)
        other = spec is None or any(v not in named for v in spec.values)
        choices.append(["", *named, *(["*"] if other else [])])
    return keys, list(itertools.product(*choices))


def _lines_for(draft: _NodeDraft, keys: tuple[str, ...], selection: Selection) -> list[tuple[int, str]]:
    """The body lines a selection shows: plain text, and the chosen variant of each group."""
    shown = {}
    for index, group in enumerate(draft.groups):
        answer = selection[keys.index(group.key)]
        shown[index] = group.values[0] if answer == "" else answer
    return [(lineno, text) for lineno, text, group, value in draft.body
            if group is None or shown[group] == value]


def _node(draft: _NodeDraft, path: str, topic: str) -> Node:
    all_lines = _trimmed([(lineno, text) for lineno, text, _g, _v in draft.body])
    keys, selections = _selections(draft)
    variants: list[tuple[Selection, str, LineMap]] = []
    for selection in selections:
        rendered = render_body(_trimmed(_lines_for(draft, keys, selection)))
        variants.append((selection, rendered.html,
                         tuple(zip(rendered.offsets, rendered.lines, strict=True))))
    _selection, html, line_map = variants[0]  # no answer to any key: the default text
    # As written, conditional-block lines included: what translators see and the records hash.
    source = "\n".join(text for _, text in _trimmed(list(draft.raw)))
    return Node(
        id=draft.id, title=inline(draft.title), raw_title=draft.title, body=source, html=html,
        choices=tuple(draft.choices), facts=tuple(draft.facts), end=draft.end, path=path,
        line=draft.line, body_line=all_lines[0][0] if all_lines else draft.line, topic=topic,
        line_map=line_map, input=draft.input, variant_keys=keys,
        variants=tuple(variants) if keys else (),
        last_line=draft.last_line or draft.line, legal_change=draft.legal_change,
    )


def load_file(path: Path, display: str, lang: str, is_source: bool,
              problems: list[Problem]) -> tuple[TopicFile | None, list[Node]]:
    """Parse one topic file; append what is wrong to ``problems``."""
    try:
        # utf-8-sig drops the byte-order mark Notepad writes; universal newlines read CRLF.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(display, 0, f"cannot read the file: {exc}",
                                "save it as UTF-8 text", code="E-FILE-UNREADABLE"))
        return None, []
    lines = text.splitlines()
    fm = _front_matter(lines, display, problems)
    if fm is None:
        return None, []
    drafts = _parse_nodes(lines, fm.end_line, display, problems)
    if not drafts:
        problems.append(Problem(display, fm.end_line, "the file has no steps",
                                "add at least one '## step-id | Title'", code="E-FILE-NO-STEPS"))
    name = path.stem
    nodes = [_node(d, display, name) for d in drafts]
    topic = _topic(fm, name, display, is_source, problems, tuple(n.id for n in nodes))
    return topic, nodes


def load_search_words(path: Path, display: str, nodes: dict[str, Node],
                      problems: list[Problem]) -> dict[str, tuple[tuple[str, int], ...]]:
    """Parse a language's ``search-words.md``: ``## step-id`` headings, then ``- phrase`` lines."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(display, 0, f"cannot read the file: {exc}", "save it as UTF-8 text"))
        return {}
    found: dict[str, list[tuple[str, int]]] = {}
    current: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        heading = _HEADING.match(stripped)
        if heading:
            current = heading.group(1).partition("|")[0].strip()
            if current not in nodes:
                problems.append(Problem(display, lineno, f"search words for step '{current}', "
                                        "which does not exist in this language",
                                        "check the step id (the part before '|' in its heading)"))
                current = None
                continue
            found.setdefault(current, [])
            continue
        if current is None or not stripped or stripped.startswith(("#", "<!--")):
            continue  # the title, notes before the first step, blank lines
        if not stripped.startswith("-"):
            problems.append(Problem(display, lineno, f"cannot read {stripped!r}",
                                    "write one phrase per line, starting with '- '"))
            continue
        phrase = stripped[1:].strip()
        if not _WORDISH.search(phrase):
            problems.append(Problem(display, lineno, "an empty search phrase",
                                    "write the words people type after '- ', or remove the line"))
            continue
        if any(phrase.lower() == seen.lower() for seen, _line in found[current]):
            problems.append(Problem(display, lineno, f"'{phrase}' is listed twice for '{current}'",
                                    "keep one", "warning"))
            continue
        found[current].append((phrase, lineno))
    return {step: tuple(phrases) for step, phrases in found.items() if phrases}


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_tree(root: Path, source_language: str = "en") -> tuple[ContentTree, list[Problem]]:
    """Load every language folder under ``root``; return the tree and the problems found."""
    problems: list[Problem] = []
    languages: dict[str, Language] = {}
    digest = hashlib.sha256()
    if not root.is_dir():
        problems.append(Problem(_display(root), 0, "the content folder does not exist",
                                "pass --content with a folder holding en/, es/, fr/ ...",
                                code="E-CONTENT-MISSING"))
    lang_dirs = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for lang_dir in lang_dirs:
        code = lang_dir.name
        files = sorted(f for f in lang_dir.glob("*.md") if f.name != SEARCH_WORDS_FILE)
        if not LANG_CODE.match(code):
            if files:
                problems.append(Problem(_display(lang_dir), 0, f"folder '{code}' is not a language code",
                                        "name language folders like en, es, fr", "warning",
                                        code="W-FOLDER-NAME"))
            continue
        topics: dict[str, TopicFile] = {}
        nodes: dict[str, Node] = {}
        for file in files:
            display = _display(file)
            digest.update(f"{code}/{file.name}\0".encode())
            with contextlib.suppress(OSError):
                digest.update(file.read_bytes())
            topic, file_nodes = load_file(file, display, code, code == source_language, problems)
            if topic is None:
                continue
            topics[topic.name] = topic
            for node in file_nodes:
                if node.id in nodes:
                    first = nodes[node.id]
                    problems.append(
                        Problem(display, node.line, f"step id '{node.id}' is used twice",
                                f"it is already used at {first.path}:{first.line}; rename one",
                                code="E-STEP-ID-TWICE")
                    )
                    continue
                nodes[node.id] = node
        words_file = lang_dir / SEARCH_WORDS_FILE
        search_words: dict[str, tuple[tuple[str, int], ...]] = {}
        if words_file.is_file():
            with contextlib.suppress(OSError):
                digest.update(f"{code}/{SEARCH_WORDS_FILE}\0".encode() + words_file.read_bytes())
            search_words = load_search_words(words_file, _display(words_file), nodes, problems)
        records = {} if code == source_language else translated_from.read(lang_dir, problems)
        with contextlib.suppress(OSError):
            digest.update((lang_dir / translated_from.SIDECAR).read_bytes())
        languages[code] = Language(code, MappingProxyType(topics), MappingProxyType(nodes),
                                   search_words=MappingProxyType(search_words),
                                   search_words_path=_display(words_file) if search_words else "",
                                   records=MappingProxyType(records))
    if root.is_dir() and source_language not in languages:
        problems.append(Problem(_display(root), 0, f"there is no '{source_language}' folder",
                                "the source language holds the reference content", code="E-SOURCE-MISSING"))
    tree = ContentTree(
        languages=MappingProxyType(languages), version=digest.hexdigest()[:10],
        source_language=source_language, root=_display(root),
    )
    return tree, problems

"""``kyr-bot translate``: content strings to and from gettext ``.po`` files, for Poedit/Weblate/Crowdin.

Export writes one entry per title, body and button label of the English content, with the
step id (``tc-start|title``, ``tc-start|body``, ``tc-start|->tc-what``; ``start.md`` for a
file's title) as ``msgctxt`` and today's translation as ``msgstr``. A step whose English
changed since it was translated is ``fuzzy``, with the English it was translated from as
``#| msgid``. Import writes the translated strings back into ``content/<lang>/*.md`` without
touching ids, facts or structure, refuses a file that would break the tree, and records the
steps it completed (see :mod:`bot.translated_from`).
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, normalize, read_po, write_po

from bot.content import translated_from
from bot.content.checks import check_content
from bot.content.loader import LANG_CODE, load_tree
from bot.content.markup import inline, render_body
from bot.content.model import ContentTree, Language, Node
from bot.content.problems import Problem
from bot.content.telegram_html import MAX_BUTTON_CHARS, validate_html

# A body line that the loader would read as structure, not text.
_STRUCTURE = re.compile(r"^(#|->|fact:|end:|input:|legal-change:)", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,2}(?!#)\s*([a-z0-9-]+)\s*(\|.*)?$")
_META = re.compile(r"^(fact:|end:|input:)", re.IGNORECASE)


class TranslateError(Exception):
    """A .po file that cannot be imported; carries every reason as a Problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


def _entries(node: Node) -> Iterator[tuple[str, str, int]]:
    """(context, English text, line) of each string of a step."""
    yield f"{node.id}|title", node.raw_title or node.title, node.line
    if node.body:
        yield f"{node.id}|body", node.body, node.body_line
    for choice in node.choices:
        yield f"{node.id}|->{choice.target}", choice.label, choice.line


def _own(lang: Language | None, context: str, english: Node | str) -> str:
    """Today's translation of one string, or '' when there is none or the step is still English."""
    if lang is None:
        return ""
    step, _sep, part = context.partition("|")
    if not part:
        topic = lang.files.get(step.removesuffix(".md"))
        text = topic.title if topic else ""
        return "" if text == english else text
    node = lang.nodes.get(step)
    if node is None or not isinstance(english, Node):
        return ""
    if (node.raw_title, node.body) == (english.raw_title, english.body):
        return ""  # copied, not translated: a label like "No" may rightly stay the same
    if part == "title":
        return node.raw_title or node.title
    if part == "body":
        return node.body
    choice = node.choice_to(part[2:])
    return choice.label if choice else ""


def export(tree: ContentTree, lang: str) -> Catalog:
    """The catalog of ``lang``'s content strings, stale ones fuzzy with their old English."""
    source = tree.languages[tree.source_language]
    target = tree.languages.get(lang)
    catalog = Catalog(locale=lang.replace("-", "_"), project="kyr-bot content",
                      msgid_bugs_address="", fuzzy=False)
    for name in sorted(source.files):
        topic = source.files[name]
        own_file = target.files.get(name) if target else None
        file_stale = bool(own_file and own_file.translated_from is not None
                          and own_file.translated_from < topic.version)
        catalog.add(topic.title, _own(target, f"{name}.md", topic.title),
                    locations=[(topic.path, 2)], context=f"{name}.md",
                    auto_comments=["the topic's name"])
        for node_id in topic.node_ids:
            node = source.nodes[node_id]
            record = target.records.get(node_id) if target else None
            before = {}
            if record is not None and record.hash != translated_from.step_hash(node):
                before = {"title": record.title, "body": record.body,
                          **{f"->{t}": label for t, label in record.choices.items()}}
            for context, english, line in _entries(node):
                own = _own(target, context, node)
                part = context.partition("|")[2]
                old = before.get(part)
                changed = bool(before) and old != english
                stale = own and (changed or (record is None and file_stale))
                comments = {"title": ["step title, shown in bold"],
                            "body": ["Markdown: keep **bold**, *italic*, links [text](https://...) "
                                     "and '- ' list items"]}.get(part, [
                                         f"button, at most {MAX_BUTTON_CHARS} characters "
                                         "(about 40 fit on a phone)"])
                catalog.add(english, own, locations=[(node.path, line)], context=context,
                            flags=["fuzzy"] if stale else [], auto_comments=comments,
                            previous_id=old if stale and old else ())
    return catalog


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a catalog as a .po file, with the previous English of fuzzy entries as ``#| msgid``."""
    previous = {m.context: m.previous_id for m in catalog if m.context and m.previous_id}
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0)
    lines: list[str] = []
    for line in buffer.getvalue().decode("utf-8").split("\n"):
        # Babel wraps a multi-line previous msgid as comment text, splitting its quoted strings
        # across lines (unreadable for Poedit); write it in gettext's own form instead.
        if line.startswith('msgctxt "') and line[9:-1] in previous:
            old = previous[line[9:-1]]
            quoted = normalize(old if isinstance(old, str) else old[0], width=0).split("\n")
            lines.append("#| msgid " + quoted[0])
            lines.extend("#| " + q for q in quoted[1:])
        lines.append(line)
    path.write_text("\n".join(lines), encoding="utf-8")


@dataclass
class _Strings:
    """Translated strings for one step (or file title), from the .po file."""

    title: str | None = None
    body: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    complete: bool = True  # every string of the step was translated and not fuzzy


def _validate(context: str, text: str, line: int, display: str,
              source: Language) -> tuple[str, str, Problem | None]:
    """Where a translated string goes, or the reason it cannot go there."""
    step, _sep, part = context.partition("|")

    def bad(message: str, hint: str, code: str) -> tuple[str, str, Problem]:
        return step, part, Problem(display, line, message, hint, code=code)

    if not part:
        if step.removesuffix(".md") not in source.files:
            return bad(f"'{context}' is not an English file", "export the .po again", "E-PO-UNKNOWN")
        if "\n" in text:
            return bad("a topic name must be one line", "remove the line break", "E-PO-NEWLINE")
        return step, part, None
    node = source.nodes.get(step)
    if node is None or (part not in ("title", "body") and node.choice_to(part[2:]) is None):
        return bad(f"'{context}' is not in the English content", "export the .po again: the "
                   "English may have changed since this file was made", "E-PO-UNKNOWN")
    if part == "body":
        for offset, body_line in enumerate(text.split("\n")):
            if _STRUCTURE.match(body_line.strip()):
                return bad(f"line {offset + 1} of the translated text starts with "
                           f"{body_line.strip()[:12]!r}, which would change the steps, choices "
                           "or facts", "reword the start of that line", "E-PO-STRUCTURE")
        html = render_body([(i, t) for i, t in enumerate(text.split("\n"))]).html
    else:
        if "\n" in text:
            return bad(f"'{context}' must be one line", "remove the line break", "E-PO-NEWLINE")
        if part != "title" and ("]" in text or len(text) > MAX_BUTTON_CHARS):
            return bad(f"button text {text!r} has ']' or is over {MAX_BUTTON_CHARS} characters",
                       "shorten it", "E-PO-LABEL")
        html = inline(text)
    found = validate_html(html)
    if found:
        return bad(f"'{context}': {found[0].message}", "fix the text in the .po file",
                   "E-PO-HTML")
    return step, part, None


def _render_step(node_id: str, title: str, meta: list[str], body: str,
                 choices: list[tuple[str, str]]) -> list[str]:
    lines = [f"## {node_id} | {title}", ""]
    if meta:
        lines += [*meta, ""]
    if body:
        lines += [*body.split("\n"), ""]
    if choices:
        lines += [f"-> [{label}]({target})" for target, label in choices] + [""]
    return lines


def _blocks(lines: list[str], start: int) -> list[tuple[str, int, int]]:
    """(step id, first line index, end index) of each step block after the front matter."""
    heads = [(m.group(1), i) for i in range(start, len(lines))
             if (m := _HEADING.match(lines[i].strip()))]
    return [(sid, i, heads[k + 1][1] if k + 1 < len(heads) else len(lines))
            for k, (sid, i) in enumerate(heads)]


def _front_end(lines: list[str]) -> int:
    if not lines or lines[0].strip() != "---":
        return 0
    return next((i + 1 for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)


def _new_file_lines(topic_path: Path, version: int) -> list[str]:
    """A translation's front matter: English's, unreviewed, with 'translated-from' added."""
    lines = topic_path.read_text(encoding="utf-8-sig").split("\n")
    end = _front_end(lines)
    head: list[str] = []
    for line in lines[:end - 1]:
        key = line.split(":", 1)[0].strip().lower()
        if key in ("reviewed", "reviewer"):
            line = f"{key}:"  # a review of the English is not a review of the translation
        if key != "translated-from":
            head.append(line)
    return [*head, f"translated-from: {version}", "---", ""]


def _apply_file(path: Path, english_path: Path, english: list[Node], own: Language | None,
                wanted: dict[str, _Strings], file_title: str | None, version: int) -> None:
    lines = (path.read_text(encoding="utf-8-sig").split("\n") if path.exists()
             else _new_file_lines(english_path, version))
    end = _front_end(lines)
    if file_title is not None:
        for i in range(1, end):
            if lines[i].split(":", 1)[0].strip().lower() == "title":
                lines[i] = f"title: {file_title}"
    blocks = {sid: (a, b) for sid, a, b in _blocks(lines, end)}
    edits: list[tuple[int, int, int, list[str]]] = []  # (at, order, lines replaced, new lines)
    order = [n.id for n in english]
    for seq, node in enumerate(english):
        strings = wanted.get(node.id)
        if strings is None:
            continue
        current = own.nodes.get(node.id) if own else None
        title = strings.title or (current.raw_title if current else node.raw_title)
        body = strings.body if strings.body is not None else (current.body if current else node.body)
        have = {c.target: c.label for c in current.choices} if current else {}
        choices = [(c.target, strings.labels.get(c.target) or have.get(c.target, ""))
                   for c in node.choices]
        choices = [(t, label) for t, label in choices if label]
        # A choice English does not have is the checker's to report, not the import's to drop.
        choices += [(t, label) for t, label in have.items() if node.choice_to(t) is None]
        if node.id in blocks:
            start, stop = blocks[node.id]
            meta = [lines[i].strip() for i in range(start + 1, stop) if _META.match(lines[i].strip())]
            edits.append((start, seq, stop - start, _render_step(node.id, title, meta, body, choices)))
        else:
            meta = ([f"fact: {f.spec()}" for f in node.facts] + (["end: yes"] if node.end else [])
                    + ([f"input: {node.input}"] if node.input else []))
            earlier = [blocks[o][1] for o in order[:seq] if o in blocks]
            at = max(earlier) if earlier else min((a for a, _ in blocks.values()), default=len(lines))
            edits.append((at, seq, 0, _render_step(node.id, title, meta, body, choices)))
    for at, _seq, replaced, new in sorted(edits, reverse=True):
        lines[at:at + replaced] = new
    text = "\n".join(lines).rstrip("\n") + "\n"
    path.write_text(text, encoding="utf-8")


def read_catalog(po: Path) -> Catalog:
    """Read a .po file, turning Babel's syntax errors into a path:line problem."""
    try:
        with po.open("rb") as fh:
            return read_po(fh, abort_invalid=True)
    except (OSError, PoFileError, ValueError) as exc:
        raise TranslateError([Problem(str(po), getattr(exc, "lineno", 0) or 0,
                                      f"cannot read the .po file: {exc}",
                                      "open it in Poedit, which shows where", code="E-PO-SYNTAX")]) from exc


def po_language(catalog: Catalog, po: Path) -> str:
    """The language a .po file is for, from its 'Language:' header."""
    lang = str(catalog.locale) if catalog.locale else ""
    if not LANG_CODE.match(lang):
        raise TranslateError([Problem(str(po), 0, "the .po file does not say which language it "
                                      "is for", "give it with --lang es", code="E-PO-LANGUAGE")])
    return lang


def import_po(po: Path, root: Path, locales: Path | None, lang: str | None = None) -> list[str]:
    """Write a translated .po into ``root/<lang>/``; return the steps recorded as done.

    Nothing is written unless the result checks with no new error.
    """
    catalog = read_catalog(po)
    lang = lang or po_language(catalog, po)
    tree, _ = load_tree(root)
    if lang == tree.source_language or tree.source_language not in tree.languages:
        raise TranslateError([Problem(str(po), 0, f"cannot import into '{lang}'",
                                      "import translations, not the English source",
                                      code="E-PO-LANGUAGE")])
    source = tree.languages[tree.source_language]
    problems: list[Problem] = []
    wanted: dict[str, _Strings] = {}
    titles: dict[str, str] = {}
    seen: dict[str, set[str]] = {}
    po_lines: dict[str, int] = {}  # step -> line of its (body) entry in the .po file
    for message in catalog:
        if not message.id or not message.context:
            continue
        text = message.string if isinstance(message.string, str) else ""
        step, part, problem = _validate(message.context, text.strip("\n"), message.lineno or 0,
                                        str(po), source) if text else (
            message.context.partition("|")[0], message.context.partition("|")[2], None)
        if problem is not None:
            problems.append(problem)
            continue
        if not part:
            if text and not message.fuzzy:
                titles[step.removesuffix(".md")] = text.strip()
            continue
        strings = wanted.setdefault(step, _Strings())
        seen.setdefault(step, set()).add(part)
        if text and (step not in po_lines or part == "body"):
            po_lines[step] = message.lineno or 0
        if not text or message.fuzzy:
            strings.complete = False
            continue
        text = text.strip("\n")
        if part == "title":
            strings.title = text.strip()
        elif part == "body":
            strings.body = text
        else:
            strings.labels[part[2:]] = text.strip()
    if problems:
        raise TranslateError(problems)
    for step, strings in wanted.items():
        node = source.nodes[step]
        expected = {p for p in ("title", "body") if p != "body" or node.body}
        expected |= {f"->{c.target}" for c in node.choices}
        if not expected <= seen.get(step, set()):
            strings.complete = False
    wanted = {s: v for s, v in wanted.items()
              if v.title is not None or v.body is not None or v.labels}
    # Errors already in the content are not the .po file's fault; any other one is. Both
    # checks run on the same trial copy, so paths match; lines may shift, so they are ignored.
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "content"
        shutil.copytree(root, trial)
        before = {(p.path, p.code, p.message) for p in check_content(trial, locales).errors}
        _write(trial, tree, lang, wanted, titles)
        report = check_content(trial, locales)
        new = [p for p in report.errors if (p.path, p.code, p.message) not in before]
        if new:
            raise TranslateError([_blame(p, report.tree, lang, po, po_lines, trial, root)
                                  for p in new])
    _write(root, tree, lang, wanted, titles)
    done = [s for s, v in wanted.items() if v.complete]
    fresh, _ = load_tree(root)
    return translated_from.mark_done(root, fresh, lang, done)


def _blame(problem: Problem, trial_tree: ContentTree, lang: str, po: Path, po_lines: dict[str, int],
           trial: Path, root: Path) -> Problem:
    """An error the import would cause, pointed at the .po entry of the step it is in."""
    message = problem.message.replace(str(trial), str(root))
    hint = problem.hint.replace(str(trial), str(root))
    language = trial_tree.languages.get(lang)
    for node in language.nodes.values() if language else ():
        if (node.path == problem.path and node.id in po_lines
                and node.line <= problem.line <= max(node.last_line, node.line)):
            return replace(problem, path=str(po), line=po_lines[node.id],
                           message=f"after import, step '{node.id}': {message}", hint=hint)
    return replace(problem, path=problem.path.replace(str(trial), str(root), 1), line=0,
                   message=f"after import: {message}", hint=hint)


def _write(root: Path, tree: ContentTree, lang: str, wanted: dict[str, _Strings],
           titles: dict[str, str]) -> None:
    source = tree.languages[tree.source_language]
    own = tree.languages.get(lang)
    (root / lang).mkdir(exist_ok=True)
    for name, topic in source.files.items():
        steps = {s: wanted[s] for s in topic.node_ids if s in wanted}
        if not steps and name not in titles:
            continue
        english = [source.nodes[s] for s in topic.node_ids]
        _apply_file(root / lang / f"{name}.md", root / tree.source_language / f"{name}.md",
                    english, own, steps, titles.get(name), topic.version)

"""The termbase (``content/terms.md``): one required rendering per legal term and language.

``kyr-bot check`` warns where a translated step uses a rendering marked wrong, or lacks the
required one while the English step has the term. The format is described in the file itself
and in ``content/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.model import ContentTree, Node
from bot.content.problems import Problem
from bot.content.telegram_html import visible_text

TERMS_FILE = "terms.md"
_TERM = re.compile(r"^##(?!#)\s*(.+?)\s*$")
_RENDERING = re.compile(r"^([a-z]{2,3})(-not)?\s*:\s*(.*)$")


@dataclass
class Term:
    """An English term, its required renderings and its wrong ones, per language."""

    english: str
    line: int
    required: dict[str, list[str]] = field(default_factory=dict)
    forbidden: dict[str, list[str]] = field(default_factory=dict)


def _fold(text: str) -> str:
    """Case-, apostrophe- and space-insensitive form for matching."""
    return " ".join(text.replace("’", "'").replace("\u00a0", " ").casefold().split())


def _has(text: str, phrase: str) -> bool:
    """True when ``phrase`` starts a word in ``text`` (both folded): 'motion' finds 'motions'."""
    return re.search(r"(?<!\w)" + re.escape(_fold(phrase)), text) is not None


def parse_terms(path: Path, display: str) -> tuple[list[Term], list[Problem]]:
    """Read a termbase; lines that are not '## term' or 'xx: a | b' / 'xx-not: ...' are prose."""
    terms: list[Term] = []
    problems: list[Problem] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(display, 0, f"cannot read the termbase: {exc}", "save it as UTF-8 text")]
    for lineno, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        heading = _TERM.match(stripped)
        if heading:
            terms.append(Term(heading.group(1), lineno))
            continue
        rendering = _RENDERING.match(stripped)
        if rendering is None or not terms:
            continue
        lang, negative, value = rendering.groups()
        options = [v.strip() for v in value.split("|") if v.strip()]
        if not options:
            problems.append(Problem(display, lineno, f"no rendering after '{lang}:'",
                                    "write 'es: rendering' or 'es-not: wrong | also wrong'",
                                    "warning"))
            continue
        table = terms[-1].forbidden if negative else terms[-1].required
        table.setdefault(lang, []).extend(options)
    return terms, problems


def _text(node: Node) -> str:
    htmls = [html for _sel, html, _map in node.variants] or [node.html]
    return _fold(" ".join(visible_text(h) for h in [node.title, *htmls]))


def check_terms(tree: ContentTree, content_dir: Path) -> list[Problem]:
    """Warnings for translated steps that break the termbase (none without a terms.md)."""
    path = content_dir / TERMS_FILE
    if not path.is_file():
        return []
    display = str(Path(tree.root) / TERMS_FILE) if tree.root else str(path)
    terms, problems = parse_terms(path, display)
    source = tree.languages.get(tree.source_language)
    if source is None:
        return problems
    for language in tree.translations:
        code = language.code
        for node_id, node in language.nodes.items():
            original = source.nodes.get(node_id)
            english = _text(original) if original is not None else ""
            text = _text(node)
            for term in terms:
                for wrong in term.forbidden.get(code, []):
                    if _has(text, wrong):
                        good = " or ".join(f"'{r}'" for r in term.required.get(code, [])) or "another term"
                        problems.append(Problem(
                            node.path, node.line,
                            f"'{node_id}' says '{wrong}' for '{term.english}'",
                            f"use {good} ({display}:{term.line})", "warning"))
                required = term.required.get(code, [])
                if required and _has(english, term.english) and not any(_has(text, r) for r in required):
                    problems.append(Problem(
                        node.path, node.line,
                        f"'{node_id}' lacks the termbase rendering of '{term.english}'",
                        "use " + " or ".join(f"'{r}'" for r in required)
                        + f" ({display}:{term.line})", "warning"))
    return problems

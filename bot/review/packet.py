"""The printable review packet: one HTML page per topic for a lawyer to check and sign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from bot.content.markup import inline
from bot.content.model import ContentTree, Node, TopicFile
from bot.content.render import render_node
from bot.review.legal_facts import FactRow, read_fact_rows, rows_for_source
from bot.review.policy import ReviewPolicy
from bot.review.records import ReviewStatus, review_status

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True, slots=True)
class SourceEntry:
    """A source the topic cites and the legal-facts rows resting on it (none: check the source)."""

    source: str
    rows: tuple[FactRow, ...]


@dataclass(frozen=True, slots=True)
class StepCell:
    """One step in one language, ready to print."""

    lang: str
    node: Node | None
    html: Markup


def _markdown(text: str) -> Markup:
    """The legal-facts file's *italic* and **bold**, shown as such (the rest escaped)."""
    return Markup(inline(str(escape(text))))


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["md"] = _markdown
    return env


def _cells(tree: ContentTree, node_id: str) -> list[StepCell]:
    cells = []
    for code in tree.codes:
        node = tree.node(code, node_id)
        html = Markup(render_node(node)) if node else Markup()
        cells.append(StepCell(code, node, html))
    return cells


def build_packet(tree: ContentTree, topic_name: str, facts_rows: list[FactRow], policy: ReviewPolicy,
                 today: date) -> str:
    """The packet page for one topic, as a complete HTML document."""
    source = tree.languages[tree.source_language]
    topic: TopicFile = source.files[topic_name]
    status: ReviewStatus = review_status(topic, policy, today)
    sources = [SourceEntry(s, tuple(rows_for_source(s, facts_rows))) for s in topic.sources]
    translations = {code: tree.languages[code].files.get(topic_name) for code in tree.codes[1:]}
    steps = [(source.nodes[node_id], _cells(tree, node_id)) for node_id in topic.node_ids]
    return _env().get_template("packet.html.j2").render(
        topic=topic, status=status, sources=sources, steps=steps, codes=tree.codes,
        translations=translations, today=today, has_facts=bool(facts_rows),
    )


def write_packets(tree: ContentTree, out: Path, facts_file: Path | None, policy: ReviewPolicy,
                  today: date, topic: str | None = None) -> list[Path]:
    """Write ``<out>/<topic>.html`` for one topic or all; return the pages written."""
    rows = read_fact_rows(facts_file) if facts_file and facts_file.is_file() else []
    source = tree.languages[tree.source_language]
    names = [topic] if topic else sorted(source.files)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        page = out / f"review-{name}.html"
        page.write_text(build_packet(tree, name, rows, policy, today), encoding="utf-8")
        written.append(page)
    return written

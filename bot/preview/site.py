"""Build the static preview site: index with the map, a page per step, a page per topic."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.content.checks import check_content
from bot.content.english_first import served
from bot.content.model import ContentTree
from bot.conversation.engine import Engine
from bot.preview.qr import PLACEHOLDER_BOT, DeepLink, deep_link, valid_username, write_qr
from bot.preview.screens import Phone, sample_path, sample_sheet, step_phone
from bot.preview.status import StatusIndex
from bot.preview.treemap import MapMode, map_svg, tree_graph
from bot.review.policy import load_policy
from bot.review.records import review_status
from bot.words.i18n import language_name

HERE = Path(__file__).resolve().parent
MARKER = ".kyr-preview"  # only a folder holding this file is ever emptied before a build


class PreviewError(ValueError):
    """The site cannot be built where asked; nothing was deleted."""


@dataclass
class SiteReport:
    """What a build produced."""

    out: Path
    pages: int = 0
    qr_codes: int = 0
    map_drawn_by: str = ""
    notes: list[str] = field(default_factory=list)


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["language_name"] = language_name
    return env


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise PreviewError(f"{out} is not empty and was not made by 'kyr-bot preview'; "
                               "choose an empty or new folder with --out")
        shutil.rmtree(out)
    for sub in ("steps", "topics", "qr"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by kyr-bot preview; emptied on the next build\n", encoding="utf-8")
    shutil.copyfile(HERE / "style.css", out / "style.css")


def _parents(tree: ContentTree) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {}
    for node in tree.languages[tree.source_language].nodes.values():
        for choice in node.choices:
            parents.setdefault(choice.target, []).append(node.id)
    return parents


def build_site(content_dir: Path, locales_dir: Path, out: Path, bot: str = "",
               map_mode: MapMode = "auto", today: date | None = None) -> SiteReport:
    """Check the content, then write the whole site into ``out``."""
    today = today or date.today()
    report = check_content(content_dir, locales_dir, today=today)
    tree = report.tree
    if tree.node(tree.source_language, tree.start) is None:
        raise PreviewError("the content has no English start step; run 'kyr-bot check'")
    site = SiteReport(out)
    if not valid_username(bot):
        site.notes.append(f"no bot username (--bot or BOT_USERNAME): deep links use {PLACEHOLDER_BOT}")
        bot = PLACEHOLDER_BOT
    _prepare(out)
    # The tree the bot serves: untranslated steps in English with a notice, unfinished languages out.
    engine = Engine(served(tree, report.status), report.i18n)
    policy, _problems = load_policy(content_dir)
    status = StatusIndex(report)
    env = _env()
    source = tree.languages[tree.source_language]
    graph = tree_graph(tree)
    svg, site.map_drawn_by = map_svg(tree, map_mode)
    (out / "map.svg").write_text(svg, encoding="utf-8")
    codes = tree.codes
    topic_of = {n.id: n.topic for n in source.nodes.values()}
    reviews = {name: review_status(topic, policy, today) for name, topic in source.files.items()}
    common = {"tree": tree, "codes": codes, "bot": bot, "today": today, "source": source,
              "reviews": reviews, "notes": site.notes, "hidden": report.status.hidden}

    def write(page: Path, template: str, **values: object) -> None:
        page.write_text(env.get_template(template).render(**common, **values), encoding="utf-8")
        site.pages += 1

    cells = {node_id: {code: status.cell(tree.languages[code], node_id, topic_of[node_id]) for code in codes}
             for node_id in source.nodes}
    write(out / "index.html", "index.html.j2", report=report, svg=svg, graph=graph, cells=cells,
          map_drawn_by=site.map_drawn_by, root="")

    parents = _parents(tree)
    for node_id, node in source.nodes.items():
        phones: dict[str, Phone | None] = {
            code: step_phone(engine, code, node_id, lambda t: f"{t}.html",
                             f"../topics/{node.topic}.html#summary")
            for code in codes}
        write(out / "steps" / f"{node_id}.html", "step.html.j2", node=node, phones=phones,
              cells=cells[node_id], parents=parents.get(node_id, []), graph=graph, root="../")

    for name, topic in source.files.items():
        links: dict[str, DeepLink] = {}
        for code in codes:
            if name in tree.languages[code].files:
                links[code] = deep_link(bot, code, name)
                write_qr(links[code], out / "qr")
                site.qr_codes += 1
        path = sample_path(tree, name)
        samples = {code: sample_sheet(engine, code, path, lambda t: f"../steps/{t}.html", "#summary")
                   for code in codes}
        write(out / "topics" / f"{name}.html", "topic.html.j2", topic=topic, links=links, path=path,
              samples=samples, root="../",
              titles={code: tree.languages[code].files[name].title for code in codes
                      if name in tree.languages[code].files})
    return site

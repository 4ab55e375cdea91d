"""The map of the whole tree as SVG: Graphviz ``dot`` when it is installed, else drawn here."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass
from typing import Literal

from bot.content.model import ContentTree
from bot.content.telegram_html import escape_attr, visible_text

MapMode = Literal["auto", "dot", "builtin"]
# Light fills, one per topic, all dark-text readable (contrast over 7:1 with #111).
PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1", "#ffedd5", "#f3e8ff")
BOX_W, BOX_H, COL_W, ROW_H, PAD = 210, 42, 260, 54, 16


@dataclass(frozen=True, slots=True)
class MapNode:
    """A step on the map: where it links, how it looks."""

    id: str
    title: str
    topic: str
    end: bool
    reachable: bool
    depth: int


@dataclass(frozen=True, slots=True)
class TreeGraph:
    """The source language's steps and choices, with depth from ``start``."""

    nodes: dict[str, MapNode]
    edges: list[tuple[str, str]]
    topics: list[str]


def tree_graph(tree: ContentTree) -> TreeGraph:
    """Steps of the source language, their choices, and how far each is from the start."""
    language = tree.languages[tree.source_language]
    depth: dict[str, int] = {}
    if tree.start in language.nodes:
        depth[tree.start] = 0
        queue = deque([tree.start])
        while queue:
            current = queue.popleft()
            for choice in language.nodes[current].choices:
                if choice.target in language.nodes and choice.target not in depth:
                    depth[choice.target] = depth[current] + 1
                    queue.append(choice.target)
    last = max(depth.values(), default=0) + 1
    nodes = {
        node.id: MapNode(node.id, visible_text(node.title), node.topic, node.end, node.id in depth,
                         depth.get(node.id, last))
        for node in language.nodes.values()
    }
    edges = [(node.id, c.target) for node in language.nodes.values() for c in node.choices
             if c.target in language.nodes]
    return TreeGraph(nodes, edges, sorted(language.files))


def _colour(graph: TreeGraph, topic: str) -> str:
    return PALETTE[graph.topics.index(topic) % len(PALETTE)] if topic in graph.topics else "#eeeeee"


def _short(text: str, size: int = 30) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _positions(graph: TreeGraph) -> dict[str, tuple[int, int]]:
    """Column (depth) and row of each step; a step sits near the first step that leads to it."""
    columns: dict[int, list[str]] = {}
    for node in graph.nodes.values():
        columns.setdefault(node.depth, []).append(node.id)
    parents: dict[str, list[str]] = {}
    for source, target in graph.edges:
        parents.setdefault(target, []).append(source)
    rows: dict[str, int] = {}
    for col in sorted(columns):
        def key(node_id: str) -> tuple[float, str, str]:
            placed = [rows[p] for p in parents.get(node_id, []) if p in rows]
            return (min(placed) if placed else 1e9, graph.nodes[node_id].topic, node_id)
        for row, node_id in enumerate(sorted(columns[col], key=key)):
            rows[node_id] = row
    return {node_id: (graph.nodes[node_id].depth, rows[node_id]) for node_id in graph.nodes}


def builtin_svg(graph: TreeGraph, href: str = "steps/{id}.html") -> str:
    """An SVG map laid out in columns by distance from the start, each box a link to its step."""
    pos = _positions(graph)
    width = PAD * 2 + (max((c for c, _r in pos.values()), default=0) + 1) * COL_W
    height = PAD * 2 + (max((r for _c, r in pos.values()), default=0) + 1) * ROW_H

    def box(node_id: str) -> tuple[int, int]:
        col, row = pos[node_id]
        return PAD + col * COL_W, PAD + row * ROW_H

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="treemap" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" aria-labelledby="map-title">',
             '<title id="map-title">Map of every step: boxes are steps, arrows are choices</title>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
             '</marker></defs>']
    for source, target in graph.edges:
        (x1, y1), (x2, y2) = box(source), box(target)
        if pos[target][0] == pos[source][0]:  # a choice within one column: an arc on its right
            sx, sy, ty = x1 + BOX_W, y1 + BOX_H // 2, y2 + BOX_H // 2
            bulge = sx + 22 + min(abs(sy - ty) // 10, 18)
            d = f"M{sx},{sy} C{bulge},{sy} {bulge},{ty} {sx},{ty}"
            style = 'stroke="#767676" stroke-dasharray="5 4" opacity="0.8"'
        elif pos[target][0] < pos[source][0]:  # a choice leading back: dashed, left to right side
            sx, sy, tx, ty = x1, y1 + BOX_H // 2, x2 + BOX_W, y2 + BOX_H // 2
            d = f"M{sx},{sy} C{sx - 30},{sy} {tx + 30},{ty} {tx},{ty}"
            style = 'stroke="#767676" stroke-dasharray="5 4" opacity="0.8"'
        else:
            sx, sy, tx, ty = x1 + BOX_W, y1 + BOX_H // 2, x2, y2 + BOX_H // 2
            mid = (sx + tx) // 2
            d = f"M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}"
            style = 'stroke="#555"'
        parts.append(f'<path d="{d}" fill="none" {style} stroke-width="1.3" marker-end="url(#arrow)">'
                     f"<title>{escape_attr(source)} → {escape_attr(target)}</title></path>")
    for node in graph.nodes.values():
        x, y = box(node.id)
        dash = "" if node.reachable else ' stroke-dasharray="4 3"'
        border = 3 if node.end else 1
        mark = " ■ ending" if node.end else ("" if node.reachable else " (unreachable)")
        label = f"{node.id}: {node.title}{' (ending)' if node.end else ''}"
        parts.append(
            f'<a href="{href.format(id=node.id)}" class="map-node" aria-label="{escape_attr(label)}">'
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{_colour(graph, node.topic)}" stroke="#222" stroke-width="{border}"{dash}/>'
            f'<text x="{x + 8}" y="{y + 17}" font-size="12" font-weight="bold" fill="#111">'
            f"{escape_attr(node.id)}{mark}</text>"
            f'<text x="{x + 8}" y="{y + 33}" font-size="11" fill="#111">{escape_attr(_short(node.title))}'
            "</text></a>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _dot_source(graph: TreeGraph, href: str) -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph tree {", "rankdir=LR; bgcolor=transparent;",
             'node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11, '
             'fontcolor="#111111"];',
             'edge [color="#555555", arrowsize=0.7];']
    for node in graph.nodes.values():
        style = '"rounded,filled"' if node.reachable else '"rounded,filled,dashed"'
        label = q(node.id + "\n" + _short(node.title)).replace("\n", "\\n")
        lines.append(f"{q(node.id)} [label={label}, URL={q(href.format(id=node.id))}, "
                     f"tooltip={q(node.id + ': ' + node.title)}, fillcolor={q(_colour(graph, node.topic))}, "
                     f"style={style}, penwidth={3 if node.end else 1}];")
    for source, target in graph.edges:
        lines.append(f"{q(source)} -> {q(target)};")
    lines.append("}")
    return "\n".join(lines)


def dot_svg(graph: TreeGraph, href: str = "steps/{id}.html") -> str | None:
    """The map drawn by Graphviz, or None when ``dot`` is missing or fails."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        result = subprocess.run([dot, "-Tsvg"], input=_dot_source(graph, href).encode(),
                                capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    svg = result.stdout.decode("utf-8", "replace")
    svg = svg[svg.find("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    # Graphviz names the graph "tree" in a <title>; say what the picture is instead.
    svg = svg.replace("<title>tree</title>",
                      "<title>Map of every step: boxes are steps, arrows are choices</title>", 1)
    return svg.replace("<svg ", '<svg class="treemap" ', 1)


def map_svg(tree: ContentTree, mode: MapMode = "auto") -> tuple[str, str]:
    """The map's SVG and what drew it (``dot`` or ``builtin``)."""
    graph = tree_graph(tree)
    if mode in ("auto", "dot"):
        svg = dot_svg(graph)
        if svg is not None:
            return svg, "dot"
    return builtin_svg(graph), "builtin"

"""Screens exactly as the bot builds them (the real engine), turned into links for the preview."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from bot.content.model import ContentTree
from bot.conversation import actions
from bot.conversation.engine import Engine
from bot.conversation.screen import Screen
from bot.conversation.state import State, apply_facts


@dataclass(frozen=True, slots=True)
class PhoneButton:
    """A button as drawn: its label and, when the preview can follow it, where it leads."""

    label: str
    href: str | None
    kind: str  # choice | sheet | nav


@dataclass(frozen=True, slots=True)
class Phone:
    """One message with its inline keyboard, in one language."""

    lang: str
    text: Markup  # Telegram HTML: b, i, u, s, a, code, pre, blockquote are HTML too
    rows: tuple[tuple[PhoneButton, ...], ...]


def _button(label: str, action: actions.Action, href: Callable[[str], str], sheet_href: str,
            start: str) -> PhoneButton:
    match action:
        case actions.Go(target=target):
            return PhoneButton(label, href(target), "choice")
        case actions.Sheet():
            return PhoneButton(label, sheet_href, "sheet")
        case actions.Home():
            return PhoneButton(label, href(start), "nav")
        case _:
            return PhoneButton(label, None, "nav")


def to_phone(lang: str, screen: Screen, href: Callable[[str], str], sheet_href: str, start: str) -> Phone:
    """A screen from the engine as a phone message with followable buttons."""
    rows = tuple(tuple(_button(b.label, b.action, href, sheet_href, start) for b in row)
                 for row in screen.rows)
    return Phone(lang, Markup(screen.text), rows)


def step_phone(engine: Engine, lang: str, node_id: str, href: Callable[[str], str],
               sheet_href: str) -> Phone | None:
    """The step as a person arriving from the main menu sees it (so Back and Main menu show)."""
    tree = engine.tree
    if tree.node(lang, node_id) is None:
        return None
    trail = () if node_id == tree.start else ((tree.start, ()),)
    state = State(lang=lang, node=node_id, trail=trail, version=tree.version)
    _state, screen = engine.step(state, actions.Show())
    return to_phone(lang, screen, href, sheet_href, tree.start)


def sample_path(tree: ContentTree, topic: str) -> list[str]:
    """A path from the topic's first step to the ending that records the most facts (shortest first)."""
    language = tree.languages[tree.source_language]
    first = language.files[topic].node_ids[0] if language.files[topic].node_ids else tree.start
    previous: dict[str, str | None] = {first: None}
    queue = deque([first])
    while queue:
        current = queue.popleft()
        for choice in language.nodes[current].choices:
            if choice.target in language.nodes and choice.target not in previous:
                previous[choice.target] = current
                queue.append(choice.target)

    def path_to(node_id: str) -> list[str]:
        path: list[str] = []
        step: str | None = node_id
        while step is not None:
            path.append(step)
            step = previous[step]
        return path[::-1]

    endings = [n for n in previous if language.nodes[n].end and language.nodes[n].topic == topic]
    endings = endings or [n for n in previous if language.nodes[n].end] or [first]

    def weight(node_id: str) -> tuple[int, int]:
        path = path_to(node_id)
        return (-sum(len(language.nodes[n].facts) for n in path), len(path))

    return path_to(min(endings, key=weight))


def sample_sheet(engine: Engine, lang: str, path: list[str], href: Callable[[str], str],
                 sheet_href: str) -> tuple[list[str], Phone] | None:
    """The answers chosen along ``path`` in ``lang`` and the lawyer summary the bot shows for them."""
    tree = engine.tree
    nodes = [tree.node(lang, n) for n in path]
    if any(node is None for node in nodes):
        return None
    facts: tuple[tuple[str, str], ...] = ()
    trail: list[tuple[str, tuple[tuple[str, str], ...]]] = [(tree.start, ())]
    answers = []
    for i, node in enumerate(nodes):
        assert node is not None
        facts = apply_facts(facts, node.facts)
        if i:
            parent = nodes[i - 1]
            choice = parent.choice_to(node.id) if parent else None
            answers.append(choice.label if choice else node.id)
        if i < len(nodes) - 1:
            trail.append((node.id, facts))
    state = State(lang=lang, node=path[-1], trail=tuple(trail), facts=facts, version=tree.version)
    _state, screen = engine.step(state, actions.Sheet())
    return answers, to_phone(lang, screen, href, sheet_href, tree.start)

"""The v2 topics (detention, voluntary departure, finding help, keeping in touch, fees), walked
button by button in every language through the real engine and the real catalogs."""

from __future__ import annotations

import re
from collections import deque

import pytest

from bot.app import build_engine
from bot.content.render import DISCLAIMER
from bot.content.telegram_html import visible_text
from bot.conversation import actions as a
from bot.conversation.engine import Engine
from bot.conversation.screen import Screen, ScreenKind
from bot.conversation.state import State
from helpers import CONTENT, LOCALES

LANGS = ("en", "es", "fr")
TOPICS = {"detention": "det-start", "voluntary-departure": "vd-start", "find-help": "fh-start",
          "keep-in-touch": "tch-start", "fees": "fee-start"}
NEW_ON_MENU = ("det-start", "tch-start", "vd-start", "fee-start", "fh-start")

# Figures legal-facts.md orders removed, in the ways each language writes thousands.
FORBIDDEN_FIGURES = ("17,500", "16,000", "17.500", "16.000", "17 500", "16 000",
                     "17\u202f500", "16\u202f000", "17\u00a0500", "16\u00a0000")
# The only phone numbers and sites legal-facts.md gives for these topics.
PHONES = {"1-800-898-7180", "1-888-351-4024"}
SITES = ("https://locator.ice.gov", "https://www.justice.gov/eoir")
PHONE = re.compile(r"\b1-8\d\d-\d{3}-\d{4}\b")
HREF = re.compile(r'href="([^"]+)"')
# A family member must never be addressed as the person in court, nor the detained person be
# told to use the bot: these topics stay in neutral wording.
SELF_VOICE = {"en": ("you are afraid", "tell the judge that you"),
              "es": ("usted tiene miedo", "dígale al juez que usted"),
              "fr": ("vous avez peur", "dites au juge que vous")}
NO_APPS = ("telegram", "whatsapp")
BAD_SOURCES = ("via seeds", "common", "eoir practice", "law-firm article", "guidance (")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return build_engine(CONTENT, LOCALES)


def topic_nodes(engine: Engine, lang: str) -> set[str]:
    language = engine.tree.languages[lang]
    return {node_id for name in TOPICS for node_id in language.files[name].node_ids}


def go_actions(screen: Screen) -> list[a.Go]:
    return [b.action for b in screen.buttons() if isinstance(b.action, a.Go)]


def check_screen(engine: Engine, lang: str, node_id: str, screen: Screen) -> None:
    """What every screen of these topics must satisfy."""
    node = engine.tree.languages[lang].nodes[node_id]
    text = visible_text(screen.text)
    lowered = text.lower()
    for figure in FORBIDDEN_FIGURES:
        assert figure not in text, f"{lang}/{node_id} repeats the removed figure {figure}"
    for phone in PHONE.findall(text):
        assert phone in PHONES, f"{lang}/{node_id}: phone number {phone} is not in legal-facts.md"
    for href in HREF.findall(screen.text):
        assert href.startswith(SITES), f"{lang}/{node_id}: link {href} is not in legal-facts.md"
    for phrase in SELF_VOICE[lang]:
        assert phrase not in lowered, f"{lang}/{node_id} addresses the reader as the person in court"
    for app in NO_APPS:
        assert app not in lowered, f"{lang}/{node_id} mentions {app}"
    notice = engine.i18n.gettext(lang, DISCLAIMER)
    first_sentence = notice.split(".")[0]
    if node.end:
        assert text.count(first_sentence) == 1, f"{lang}/{node_id}: the notice must appear once"
        assert any(isinstance(b.action, a.Sheet) for b in screen.buttons())
    else:
        assert first_sentence not in text
        assert go_actions(screen), f"{lang}/{node_id} is a dead end"
    for choice in node.choices:
        assert len(choice.label) <= 30, f"{lang}/{node_id}: button '{choice.label}' is too long"


@pytest.mark.parametrize("lang", LANGS)
def test_every_button_of_the_new_topics_from_the_main_menu(engine: Engine, lang: str) -> None:
    state, menu = engine.step(engine.new_state(lang), a.Start())
    on_menu = {action.target for action in go_actions(menu)}
    assert set(NEW_ON_MENU) <= on_menu
    mine = topic_nodes(engine, lang)
    reached: set[str] = set()
    queue: deque[tuple[State, Screen]] = deque()
    for start in TOPICS.values():
        new_state, screen = engine.step(state, a.Go(start))
        assert new_state.node == start
        check_screen(engine, lang, start, screen)
        reached.add(start)
        queue.append((new_state, screen))
    while queue:  # every button of every screen is pressed once; each node is expanded once
        state, screen = queue.popleft()
        for action in go_actions(screen):
            new_state, new_screen = engine.step(state, action)
            assert new_state.node == action.target
            if action.target not in mine:
                continue  # a link into another topic: that topic's own tests walk it
            check_screen(engine, lang, action.target, new_screen)
            if action.target not in reached:
                reached.add(action.target)
                queue.append((new_state, new_screen))
    assert reached == mine


@pytest.mark.parametrize("lang", LANGS)
def test_each_topic_reaches_an_ending(engine: Engine, lang: str) -> None:
    nodes = engine.tree.languages[lang].nodes
    for name, start in TOPICS.items():
        seen, queue = {start}, deque([start])
        while queue:
            for choice in nodes[queue.popleft()].choices:
                if nodes[choice.target].topic == name and choice.target not in seen:
                    seen.add(choice.target)
                    queue.append(choice.target)
        assert any(nodes[node_id].end for node_id in seen), f"{lang}/{name} never ends"


def test_front_matter_names_its_sources(engine: Engine) -> None:
    english = engine.tree.languages["en"].files
    for lang in LANGS:
        for name in TOPICS:
            topic = engine.tree.languages[lang].files[name]
            assert topic.sources, f"{lang}/{name} lists no sources"
            for source in topic.sources:
                assert not any(bad in source.lower() for bad in BAD_SOURCES), source
            assert topic.review_needed  # each rests on a secondary or news source
            if lang != "en":
                assert topic.translated_from == english[name].version


def test_old_find_help_buttons_still_land(engine: Engine) -> None:
    for lang in LANGS:
        state, _ = engine.step(engine.new_state(lang), a.Start())
        for old in ("fh-start", "fh-detained", "fh-locator", "fh-hotline", "fh-probono",
                    "fh-interpreter"):
            new_state, screen = engine.step(state, a.Go(old))
            assert new_state.node == old and screen.kind is ScreenKind.NODE
        new_state, _ = engine.step(state, a.Go("fh-detained"))
        assert new_state.facts == ()  # an old button from another step answers nothing
        at_question, _ = engine.step(state, a.Go("fh-start"))
        new_state, _ = engine.step(at_question, a.Go("fh-detained"))  # answered where it is asked
        assert ("who", "relative") in new_state.facts and ("detained", "yes") in new_state.facts

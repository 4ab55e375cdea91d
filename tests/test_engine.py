"""The pure engine: every node reachable in every language, Back/Home/stale actions, facts."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.content.telegram_html import MAX_MESSAGE_CHARS, telegram_length, validate_html, visible_text
from bot.conversation import actions
from bot.conversation.engine import Engine
from bot.conversation.screen import Effect, Screen
from bot.conversation.state import State
from helpers import CONTENT, LOCALES, MINI, copy_tree, edit


@pytest.fixture(scope="module")
def mini() -> Engine:
    return build_engine(MINI, LOCALES)


@pytest.fixture(scope="module")
def real() -> Engine:
    return build_engine(CONTENT, LOCALES)


def labels(screen: Screen) -> list[str]:
    return [b.label for b in screen.buttons()]


def actions_of(screen: Screen) -> list[actions.Action]:
    return [b.action for b in screen.buttons()]


def assert_screen_ok(screen: Screen) -> None:
    assert validate_html(screen.text) == []
    assert 0 < telegram_length(visible_text(screen.text)) <= MAX_MESSAGE_CHARS
    for button in screen.buttons():
        assert 0 < len(button.label) <= 64
        if not isinstance(button.action, actions.Start | actions.Search | actions.Invalid):
            assert len(actions.encode(button.action).encode()) <= 64


def walk(engine: Engine, lang: str) -> set[str]:
    """Breadth-first over every button from /start; returns the nodes reached."""
    state, screen = engine.step(engine.new_state(lang), actions.Start())
    seen = {state.node}
    queue = deque([(state, screen)])
    while queue:
        state, screen = queue.popleft()
        assert_screen_ok(screen)
        nav = labels(screen)
        assert any("Language" in x or "Idioma" in x or "Langue" in x for x in nav) or screen.kind != "node"
        for action in actions_of(screen):
            if isinstance(action, actions.Go) and action.target not in seen:
                new_state, new_screen = engine.step(state, action)
                assert new_state.node == action.target
                seen.add(action.target)
                queue.append((new_state, new_screen))
    return seen


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_every_real_node_is_reachable_through_buttons(real: Engine, lang: str) -> None:
    assert walk(real, lang) == set(real.tree.languages[lang].nodes)


def test_every_real_screen_kind_renders_in_every_language(real: Engine) -> None:
    for lang in real.tree.codes:
        state, _ = real.step(real.new_state(lang), actions.Start())
        for action in (actions.PickLanguage(), actions.AskForget(), actions.Sheet(), actions.Privacy(),
                       actions.Help(), actions.Search("judge lawyer"), actions.Invalid("old"),
                       actions.Forget()):
            _, screen = real.step(state, action)
            assert_screen_ok(screen)


def test_endings_carry_notice_and_lawyer_summary(real: Engine) -> None:
    for lang in real.tree.codes:
        notice = real.i18n.gettext(lang, "This is general information, not legal advice. Laws and "
                                         "policies change fast: talk to an immigration lawyer or "
                                         "accredited representative about your case.")
        for node in real.tree.languages[lang].nodes.values():
            state = State(lang=lang, node=node.id, version=real.tree.version)
            _, screen = real.step(state, actions.Show())
            if node.end:
                assert notice in visible_text(screen.text)
                assert any(isinstance(x, actions.Sheet) for x in actions_of(screen))


def test_navigation_buttons_on_every_screen(mini: Engine) -> None:
    state, screen = mini.step(mini.new_state("en"), actions.Start())
    kinds = [type(x) for x in actions_of(screen)]
    assert actions.PickLanguage in kinds and actions.AskForget in kinds
    assert actions.Back not in kinds  # nothing to go back to on the very first screen
    state, screen = mini.step(state, actions.Go("fear"))
    kinds = [type(x) for x in actions_of(screen)]
    assert {actions.Back, actions.Home, actions.PickLanguage, actions.AskForget} <= set(kinds)


def test_back_restores_node_and_facts(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    state, _ = mini.step(state, actions.Go("fear"))
    assert state.facts == (("fear", "unsure"),)
    state, _ = mini.step(state, actions.Go("fear-yes"))
    assert state.facts == (("fear", "yes"),)
    state, screen = mini.step(state, actions.Back())
    assert state.node == "fear" and state.facts == (("fear", "unsure"),)
    assert "Are you afraid?" in screen.text
    state, _ = mini.step(state, actions.Back())
    state, screen = mini.step(state, actions.Back())  # nothing left: stays put
    assert state.node == "start" and screen.kind == "node"


def test_list_facts_accumulate_and_home_keeps_them(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    state, _ = mini.step(state, actions.Go("grounds"))
    state, _ = mini.step(state, actions.Go("fear"))
    state, _ = mini.step(state, actions.Go("fear-no"))
    state, _ = mini.step(state, actions.Go("grounds"))
    assert state.facts == (("ground", "religion"), ("ground", "race"), ("fear", "no"))
    state, _ = mini.step(state, actions.Home())
    assert state.node == "start" and ("fear", "no") in state.facts
    state, _ = mini.step(state, actions.Back())
    assert state.node == "grounds"


def test_restart_clears_trail_and_facts(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("es"), actions.Start())
    state, _ = mini.step(state, actions.Go("fear"))
    state, _ = mini.step(state, actions.Restart())
    assert (state.node, state.trail, state.facts, state.lang) == ("start", (), (), "es")


def test_language_switch_stays_on_node(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    state, _ = mini.step(state, actions.Go("fear"))
    state, screen = mini.step(state, actions.PickLanguage())
    assert screen.kind == "language" and "Español" in labels(screen)
    state, screen = mini.step(state, actions.SetLanguage("es"))
    assert state.lang == "es" and state.node == "fear" and "¿Tiene miedo?" in screen.text
    state, screen = mini.step(state, actions.SetLanguage("xx"))
    assert state.lang == "es" and screen.kind == "language"


def test_stale_button_to_removed_node(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    state, screen = mini.step(state, actions.Go("no-such-node"))
    assert state.node == "start" and "older version" in screen.text
    state, screen = mini.step(state, actions.Invalid("malformed"))
    assert "older version" in screen.text and screen.kind == "node"


def test_node_removed_by_content_update(mini: Engine, tmp_path: Path) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    state, _ = mini.step(state, actions.Go("fear"))
    state, _ = mini.step(state, actions.Go("fear-no"))
    root = copy_tree(MINI, tmp_path / "content")
    for lang in ("en", "es"):
        f = root / lang / "topic.md"
        text = f.read_text()
        f.write_text(text[: text.index("## fear-no")] + text[text.index("## grounds"):])
        edit(f, "(fear-no)\n", "(grounds)\n")
        edit(f, "-> [No](grounds)\n", "")
    updated = build_engine(root, LOCALES)
    assert updated.tree.version != mini.tree.version
    new, screen = updated.step(state, actions.Back())
    assert new.node == "start" and "updated" in screen.text
    assert new.version == updated.tree.version
    new, screen = updated.step(state, actions.Go("fear-yes"))
    assert new.node == "fear-yes"


def test_unknown_language_in_state_falls_back(mini: Engine) -> None:
    state = State(lang="de", node="fear")
    new, _ = mini.step(state, actions.Show())
    assert new.lang == "en" and new.node == "fear"


def test_forget_resets_and_flags(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("es"), actions.Start())
    state, _ = mini.step(state, actions.Go("fear"))
    _, ask = mini.step(state, actions.AskForget())
    assert ask.kind == "forget-ask" and ask.effect is Effect.NONE
    new, screen = mini.step(state, actions.Forget())
    assert screen.effect is Effect.DELETE_SESSION and new.facts == () and new.trail == () and new.lang == "es"


@pytest.mark.parametrize(
    ("payload", "lang", "node"),
    [
        ("es-topic", "es", "fear"),
        ("es-fear-yes", "es", "fear-yes"),
        ("fear", "en", "fear"),
        ("es", "es", "start"),
        ("zz-nothing", "en", "start"),
        ("", "en", "start"),
        ("../../etc", "en", "start"),
    ],
)
def test_deep_links(mini: Engine, payload: str, lang: str, node: str) -> None:
    state, screen = mini.step(mini.new_state("en"), actions.Start(payload))
    assert (state.lang, state.node) == (lang, node)
    assert screen.kind == "node"


def test_telegram_language_negotiation(mini: Engine) -> None:
    assert mini.new_state("es-MX").lang == "es"
    assert mini.new_state("pt-BR").lang == "en"
    assert mini.new_state(None).lang == "en"


def test_search_finds_nodes_in_the_users_language(real: Engine) -> None:
    state, _ = real.step(real.new_state("es"), actions.Start())
    _, screen = real.step(state, actions.Search("abogado"))
    assert screen.kind == "search"
    targets = [x.target for x in actions_of(screen) if isinstance(x, actions.Open)]
    assert 1 <= len(targets) <= 3
    _, screen = real.step(state, actions.Search("xyzzy qwerty"))
    assert screen.kind == "search-none"


def test_search_ranks_titles_first(mini: Engine) -> None:
    state, _ = mini.step(mini.new_state("en"), actions.Start())
    _, screen = mini.step(state, actions.Search("grounds"))
    targets = [x.target for x in actions_of(screen) if isinstance(x, actions.Open)]
    assert targets[0] == "grounds"


def test_state_round_trip() -> None:
    state = State(lang="fr", node="x", trail=(("start", ()), ("a", (("k", "v"),))),
                  facts=(("k", "v"), ("g", "1")), version="abc")
    assert State.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError):
        State.from_dict({"node": "x"})


@pytest.mark.parametrize("data", ["", "0:g:x", "1:g:", "1:zz", "1:g:a:b", "garbage", "1:l:"])
def test_malformed_callback_data_decodes_to_invalid(data: str) -> None:
    assert isinstance(actions.decode(data), actions.Invalid)


def test_callback_round_trip() -> None:
    for action in (actions.Go("tc-start"), actions.SetLanguage("es"), actions.Back(), actions.Home(),
                   actions.Show(), actions.PickLanguage(), actions.Restart(), actions.AskForget(),
                   actions.Forget(), actions.Sheet(), actions.Privacy(), actions.Help()):
        assert actions.decode(actions.encode(action)) == action
    with pytest.raises(ValueError):
        actions.encode(actions.Search("x"))

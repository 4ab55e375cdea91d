"""Property-based tests: any sequence of actions, stale or malformed, keeps a valid state."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_engine
from bot.content.telegram_html import MAX_MESSAGE_CHARS, telegram_length, validate_html, visible_text
from bot.conversation import actions
from bot.conversation.state import MAX_TRAIL, State
from helpers import LOCALES, MINI

ENGINE = build_engine(MINI, LOCALES)
NODES = sorted(ENGINE.tree.languages["en"].nodes)
LANGS = sorted(ENGINE.tree.languages)

node_ids = st.sampled_from(NODES) | st.text(max_size=30)
any_action = st.one_of(
    st.builds(actions.Go, node_ids),
    st.builds(actions.SetLanguage, st.sampled_from(LANGS) | st.text(max_size=5)),
    st.builds(actions.SwitchTo, st.sampled_from(LANGS) | st.text(max_size=5), node_ids),
    st.builds(actions.Start, st.text(max_size=64)),
    st.builds(actions.Search, st.text(max_size=300)),
    st.builds(actions.Invalid, st.text(max_size=10)),
    st.sampled_from([actions.Back(), actions.Home(), actions.Show(), actions.PickLanguage(),
                     actions.Restart(), actions.AskForget(), actions.Forget(), actions.Sheet(),
                     actions.Privacy(), actions.Help()]),
    st.text(max_size=70).map(actions.decode),
)
states = st.builds(
    State,
    lang=st.sampled_from(LANGS) | st.text(max_size=4),
    node=node_ids,
    trail=st.lists(st.tuples(node_ids, st.just(())), max_size=5).map(tuple),
    facts=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=4).map(tuple),
    version=st.text(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=states, steps=st.lists(any_action, max_size=25))
def test_any_action_sequence_keeps_a_valid_state(start: State, steps: list[actions.Action]) -> None:
    state = start
    for action in steps:
        state, screen = ENGINE.step(state, action)
        assert state.lang in ENGINE.tree.languages
        assert ENGINE.tree.node(state.lang, state.node) is not None
        assert len(state.trail) <= MAX_TRAIL
        assert state.version == ENGINE.tree.version
        assert validate_html(screen.text) == []
        assert 0 < telegram_length(visible_text(screen.text)) <= MAX_MESSAGE_CHARS
        for button in screen.buttons():
            assert len(actions.encode(button.action).encode()) <= 64
            assert 0 < len(button.label) <= 64
        assert State.from_dict(state.to_dict()) == state


@given(st.text(max_size=100))
def test_decode_never_raises(data: str) -> None:
    assert actions.decode(data) is not None

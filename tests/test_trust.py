"""A conversation that never misleads, through the engine: true answers, ticks, a way back."""

from __future__ import annotations

import io

import pytest

from bot.app import build_engine
from bot.content.telegram_html import visible_text
from bot.conversation import actions
from bot.conversation.engine import Engine
from bot.conversation.screen import Screen
from bot.conversation.state import DELETABLE_MINUTES, MAX_MESSAGES, State
from bot.terminal import parse_input, run_chat
from helpers import CONTENT, LOCALES, MINI

LANGS = ["en", "es", "fr"]


@pytest.fixture(scope="module")
def real() -> Engine:
    return build_engine(CONTENT, LOCALES)


@pytest.fixture(scope="module")
def mini() -> Engine:
    return build_engine(MINI, LOCALES)


def button(screen: Screen, action: actions.Action) -> str:
    """The label of the button performing ``action`` (fails if there is none)."""
    labels = [b.label for b in screen.buttons() if b.action == action]
    assert labels, f"no button for {action} in {[b.action for b in screen.buttons()]}"
    return labels[0]


def title(engine: Engine, lang: str, node: str) -> str:
    return visible_text(engine.tree.languages[lang].nodes[node].title)


def walk(engine: Engine, lang: str, *steps: actions.Action) -> tuple[State, Screen]:
    state, screen = engine.step(engine.new_state(lang), actions.Start())
    for action in steps:
        state, screen = engine.step(state, action)
    return state, screen


# -- answers stay true ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_a_step_found_by_search_records_nothing_the_person_did_not_answer(real: Engine,
                                                                         lang: str) -> None:
    """The issue's example: type "Honduras", tap the result, answer Yes."""
    state, screen = walk(real, lang, actions.Search("Honduras"))
    result = actions.Open("tc-country-hn")
    button(screen, result)  # the search offers the step, as a button that answers nothing
    state, screen = real.step(state, result)
    assert state.node == "tc-country-hn" and state.facts == ()
    yes = real.tree.languages[lang].nodes["tc-country-hn"].choices[0]
    state, screen = real.step(state, button_action(screen, yes.label))
    assert state.facts == (("fear", "yes"),)  # the one question the person answered
    sheet = visible_text(real.step(state, actions.Sheet())[1].text)
    assert "Honduras" not in sheet  # the same word in the three languages
    named = real.i18n.gettext(lang, "Country the government named: %(country)s").split(":")[0]
    assert named not in sheet


def button_action(screen: Screen, label: str) -> actions.Action:
    return next(b.action for b in screen.buttons() if b.label == label)


@pytest.mark.parametrize("lang", LANGS)
def test_a_deep_link_records_nothing(real: Engine, lang: str) -> None:
    state, _ = real.step(real.new_state("en"), actions.Start(f"{lang}-tc-country-hn"))
    assert (state.lang, state.node, state.facts) == (lang, "tc-country-hn", ())
    state, _ = real.step(state, actions.Go("tc-fear-no"))
    assert state.facts == (("fear", "no"),)


@pytest.mark.parametrize("lang", LANGS)
def test_answering_the_asking_step_records_its_answer(real: Engine, lang: str) -> None:
    state, _ = walk(real, lang, actions.Go("tc-start"), actions.Go("tc-who"), actions.Go("tc-self"))
    assert ("who", "self") in state.facts
    state, _ = real.step(state, actions.Home())
    assert ("who", "self") in state.facts  # the main menu keeps answers and adds none


def test_a_choice_pressed_on_an_old_message_of_another_step_records_nothing(mini: Engine) -> None:
    state, _ = walk(mini, "en")
    state, _ = mini.step(state, actions.Go("fear-yes"))  # "Yes" of the step "fear", from start
    assert state.node == "fear-yes" and state.facts == ()
    state, _ = walk(mini, "en", actions.Go("fear"), actions.Go("fear-yes"))
    assert state.facts == (("fear", "yes"),)


def test_a_result_found_in_another_language_records_nothing(real: Engine) -> None:
    state, _ = walk(real, "en", actions.Go("tc-start"), actions.Go("tc-who"), actions.Go("tc-self"),
                    actions.Go("tc-detained"), actions.Go("tc-motion-aca"))
    new, _ = real.step(state, actions.SwitchTo("es", "tc-country-hn"))  # a choice of this step
    assert (new.lang, new.node, new.facts) == ("es", "tc-country-hn", state.facts)


def test_open_of_a_removed_step_keeps_the_person_where_they_are(mini: Engine) -> None:
    state, screen = walk(mini, "en", actions.Open("gone"))
    assert state.node == "start" and "older version" in screen.text


# -- multi-select questions --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_chosen_grounds_are_ticked_and_a_second_tap_removes_one(real: Engine, lang: str) -> None:
    state, screen = walk(real, lang, actions.Go("ag-start"), actions.Go("ag-race"),
                         actions.Go("ag-start"), actions.Go("ag-religion"), actions.Go("ag-start"))
    assert state.facts == (("ground", "race"), ("ground", "religion"))
    choices = {c.target: c.label for c in real.tree.languages[lang].nodes["ag-start"].choices}
    assert button(screen, actions.Untick("ag-race")) == "✓ " + choices["ag-race"]
    assert button(screen, actions.Untick("ag-religion")) == "✓ " + choices["ag-religion"]
    assert button(screen, actions.Go("ag-nationality")) == choices["ag-nationality"]  # not chosen
    state, screen = real.step(state, actions.Untick("ag-race"))
    assert state.node == "ag-start" and state.facts == (("ground", "religion"),)
    assert button(screen, actions.Go("ag-race")) == choices["ag-race"]
    assert choices["ag-race"] in visible_text(screen.text).split("\n")[0]  # said, not only shown
    sheet = real.step(state, actions.Sheet())[1].text
    assert real.i18n.gettext(lang, "religion") in sheet and real.i18n.gettext(lang, "race") not in sheet


def test_untick_from_another_step_changes_nothing(real: Engine) -> None:
    state, _ = walk(real, "en", actions.Go("ag-start"), actions.Go("ag-race"))
    new, screen = real.step(state, actions.Untick("ag-race"))  # on ag-race, not its question
    assert new.facts == state.facts and new.node == "ag-race" and screen.kind == "node"


# -- /start with answers -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_start_with_answers_asks_before_erasing_them(real: Engine, lang: str) -> None:
    state, _ = walk(real, lang, actions.Go("tc-start"), actions.Go("tc-who"), actions.Go("tc-self"))
    asked, screen = real.step(state, actions.Start())
    assert screen.kind == "start-ask" and asked.facts == state.facts and asked.node == "tc-self"
    _ = real.i18n.translator(lang)
    assert _("Continue where I was") in button(screen, actions.Show())
    assert _("Start over") in button(screen, actions.Restart())
    kept, screen = real.step(asked, actions.Show())
    assert kept.node == "tc-self" and kept.facts == state.facts and kept.trail == state.trail
    again, screen = real.step(asked, actions.Restart())
    assert (again.node, again.facts, again.trail) == ("start", (), ())
    # Back from the question returns to the step, answers intact.
    back, screen = real.step(asked, actions.Back())
    assert back.node == "tc-self" and back.facts == state.facts


def test_a_flyer_link_with_answers_asks_in_the_links_language(real: Engine) -> None:
    state, _ = walk(real, "en", actions.Go("tc-start"), actions.Go("tc-who"), actions.Go("tc-self"))
    asked, screen = real.step(state, actions.Start("es-asylum-grounds"))
    assert asked.lang == "es" and screen.kind == "start-ask"
    assert real.i18n.gettext("es", "Start over") in button(screen, actions.Restart("ag-start"))
    fresh, screen = real.step(asked, actions.Restart("ag-start"))
    assert (fresh.lang, fresh.node, fresh.facts) == ("es", "ag-start", ())
    assert title(real, "es", "ag-start") in screen.text
    assert actions.decode(actions.encode(actions.Restart("ag-start"))) == actions.Restart("ag-start")


def test_start_without_answers_does_not_ask(mini: Engine) -> None:
    state, _ = walk(mini, "en", actions.Go("grounds"))
    state, _ = mini.step(state, actions.Back())  # place and trail, but no answer left
    state, screen = mini.step(state, actions.Start("fear"))
    assert screen.kind == "node" and state.node == "fear" and state.facts == ()


# -- Back returns to the step under help, privacy, language, search, summary ------------------------

ASIDES = [actions.Privacy(), actions.Help(), actions.PickLanguage(), actions.Search("lawyer"),
          actions.Sheet(), actions.Search("xyzzy qwerty"), actions.Search("je veux un avocat")]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("aside", ASIDES, ids=lambda x: type(x).__name__ + getattr(x, "text", ""))
def test_back_after_a_screen_over_the_step_returns_to_that_step(real: Engine, lang: str,
                                                                aside: actions.Action) -> None:
    state, _ = walk(real, lang, actions.Go("tc-start"), actions.Go("tc-what"))
    over, screen = real.step(state, aside)
    assert screen.kind != "node"
    # The Back command (or /back) and the screen's own Back button both return to the step.
    backs = [actions.Back(), *(b.action for b in screen.buttons()
                               if b.label.endswith(real.i18n.gettext(lang, "Back")))]
    assert len(backs) == 2
    for back in backs:
        new, shown = real.step(over, back)
        assert new.node == "tc-what" and new.trail == state.trail and new.facts == state.facts
        assert shown.kind == "node" and title(real, lang, "tc-what") in shown.text
    # Once back on the step, Back goes one step back as usual.
    new, _ = real.step(real.step(over, actions.Back())[0], actions.Back())
    assert new.node == "tc-start"


def test_help_and_privacy_at_the_very_start_offer_a_way_back(real: Engine) -> None:
    state, _ = walk(real, "en")
    for aside in (actions.Help(), actions.Privacy()):
        _, screen = real.step(state, aside)
        assert button(screen, actions.Show()).endswith("Back")


# -- the terminal chat -----------------------------------------------------------------------------

def test_terminal_out_of_range_number_and_unknown_command_get_help(mini: Engine) -> None:
    _state, screen = walk(mini, "en")
    assert parse_input("99", screen) == actions.Help()
    assert parse_input("0", screen) == actions.Help()
    assert parse_input("/nosuchcommand", screen) == actions.Help()
    assert parse_input("/start es-topic", screen) == actions.Start("es-topic")
    assert parse_input("judge", screen) == actions.Search("judge")
    out = io.StringIO()
    run_chat(mini, "es", io.StringIO("1\n/start\n"), out)
    text = out.getvalue()
    assert mini.i18n.gettext("es", "Continue where I was") in text  # asked, not erased


# -- privacy and /forget in words ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_privacy_says_what_is_kept_what_cannot_be_erased_and_how_to_delete_the_chat(
        real: Engine, lang: str) -> None:
    _, screen = walk(real, lang, actions.Privacy())
    _ = real.i18n.translator(lang)
    for heading in ("What this bot keeps:", "What it cannot erase:", "How to delete everything:"):
        assert _(heading) in screen.text
        assert _(heading) != heading or lang == "en"  # translated, not English left over
    assert "/forget" in screen.text


@pytest.mark.parametrize("lang", LANGS)
def test_forget_report_says_what_could_not_be_deleted(real: Engine, lang: str) -> None:
    report = real.forget_report(lang, 7, 2)
    assert "7" in report and "2" in report and "48" in report
    assert "48" not in real.forget_report(lang, 7, 0).split("\n")[-1]


# -- the messages the bot may delete, in the session ---------------------------------------------------

def test_message_ids_are_bounded_aged_and_kept_only_until_forget(mini: Engine) -> None:
    state = State(lang="en").with_messages([5, 6], minute=1000)
    assert state.messages == ((5, 1000), (6, 1000)) and state.older == 0
    state = state.with_messages([6, 7], minute=1001)  # 6 again: kept once
    assert [i for i, _m in state.messages] == [5, 6, 7]
    assert state.deletable(1000 + DELETABLE_MINUTES - 1) == ([5, 6, 7], 0)
    assert state.deletable(1000 + DELETABLE_MINUTES) == ([7], 2)
    aged = state.with_messages([8], minute=1000 + DELETABLE_MINUTES)
    assert [i for i, _m in aged.messages] == [7, 8] and aged.older == 2
    many = State(lang="en").with_messages(list(range(MAX_MESSAGES + 5)), minute=1)
    assert len(many.messages) == MAX_MESSAGES and many.older == 5
    assert State.from_dict(aged.to_dict()) == aged
    assert "messages" not in State(lang="en").to_dict()  # the common session stays small
    gone, _ = mini.step(aged, actions.Forget())
    assert gone.messages == () and gone.older == 0
    kept, _ = mini.step(aged, actions.Start())
    assert kept.messages == aged.messages  # starting over keeps what /forget must delete


def test_state_with_an_aside_round_trips() -> None:
    state = State(lang="es", node="x", aside="help", messages=((3, 9),), older=1)
    assert State.from_dict(state.to_dict()) == state
    with pytest.raises(ValueError):
        State.from_dict({"lang": "es", "messages": [["a", 1]]})


# -- readable by a screen reader ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_no_button_is_an_emoji_alone_on_any_screen(real: Engine, lang: str) -> None:
    asides = [*ASIDES, actions.AskForget(), actions.Forget(), actions.Start()]
    for node in real.tree.languages[lang].nodes:
        state = State(lang=lang, node=node, trail=(("start", ()),), facts=(("who", "self"),))
        screens = [real.step(state, actions.Show())[1]]
        screens += [real.step(state, aside)[1] for aside in asides] if node == "tc-what" else []
        for screen in screens:
            for b in screen.buttons():
                assert any(ch.isalpha() for ch in b.label), f"{lang}/{node}: {b.label!r}"

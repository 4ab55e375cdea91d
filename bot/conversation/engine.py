"""The conversation engine: a pure step function from (state, action) to (new state, screen).

No Telegram here: the same engine drives the bot, the terminal chat and the tests. Every
action, even a stale or malformed one, yields a screen; nothing raises on a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, assert_never

from bot.content.facts import typed_country
from bot.content.model import ContentTree, Fact, Node
from bot.content.render import DISCLAIMER, NOT_TRANSLATED, render_node, title_label
from bot.conversation import actions
from bot.conversation.actions import Action
from bot.conversation.commands import COMMANDS
from bot.conversation.screen import Button, Effect, Rows, Screen, ScreenKind
from bot.conversation.search import Finder, Found
from bot.conversation.state import MAX_TRAIL, Facts, State, apply_facts
from bot.words.countries import match_country
from bot.words.i18n import N_, I18n, language_name, negotiate
from bot.words.sheet import LawyerSheet, country_name

# Written in the language the steps were found in, for a person who typed in that language.
OTHER_LANGUAGE_OFFER = N_("I found this in %(language)s. Tap a topic to continue in %(language)s:")


@dataclass
class Engine:
    """Steps sessions through one content tree with one set of interface catalogs."""

    tree: ContentTree
    i18n: I18n
    sheet: LawyerSheet = field(init=False, repr=False)
    _node_text: dict[tuple[str, str, tuple[str, ...]], str] = field(default_factory=dict, repr=False)
    finder: Finder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sheet = LawyerSheet(self.i18n, self.tree.source_language)
        for code in self.tree.codes:
            self.sheet.warm(code)
        self.finder = Finder(self.tree)

    # -- entry points ---------------------------------------------------------------------
    def new_state(self, telegram_language: str | None = None) -> State:
        """A fresh session in the language closest to the user's, at the start node."""
        lang = negotiate(telegram_language, self.tree.codes, self.tree.source_language)
        return State(lang=lang, node=self.tree.start, version=self.tree.version)

    def step(self, state: State, action: Action) -> tuple[State, Screen]:
        """Apply ``action`` to ``state``: the new state and the screen to show."""
        state, notice = self._repair(state)
        new_state, screen = self._dispatch(state, action)
        if notice and screen.kind is ScreenKind.NODE:
            screen = self._node_screen(new_state, notice)
        return replace(new_state, version=self.tree.version), screen

    def _dispatch(self, state: State, action: Action) -> tuple[State, Screen]:
        match action:
            case actions.Start():
                return self._on_start(state, action)
            case actions.Go():
                return self._on_go(state, action)
            case actions.Back():
                return self._on_back(state)
            case actions.Home():
                return self._on_go(state, actions.Go(self.tree.start))
            case actions.Show():
                return state, self._node_screen(state)
            case actions.PickLanguage():
                return self._on_pick_language(state)
            case actions.SetLanguage():
                return self._on_set_language(state, action)
            case actions.SwitchTo():
                return self._on_switch_to(state, action)
            case actions.Restart():
                return self._on_start(state, actions.Start(state.lang))
            case actions.AskForget():
                return self._on_ask_forget(state)
            case actions.Forget():
                return self._on_forget(state)
            case actions.Sheet():
                return self._on_sheet(state)
            case actions.Privacy():
                return self._on_privacy(state)
            case actions.Help():
                return self._on_help(state)
            case actions.Search():
                return self._on_search(state, action)
            case actions.Invalid():
                return self._on_invalid(state, action)
            case _:
                if TYPE_CHECKING:  # the type checker proves every action is handled above
                    assert_never(action)
                # Never raise on a user, even for a programming error.
                return state, self._node_screen(state, self.tr(state, "Sorry, I did not understand that."))

    # -- actions ----------------------------------------------------------------------------
    def _on_start(self, state: State, action: actions.Start) -> tuple[State, Screen]:
        lang, target = self.resolve_payload(action.payload, state.lang)
        fresh = State(lang=lang, node=self.tree.start, version=self.tree.version)
        if target != self.tree.start:
            fresh = self._enter(fresh, target)
        else:
            fresh = replace(fresh, facts=apply_facts((), self._node(fresh.lang, target).facts))
        return fresh, self._node_screen(fresh)

    def _on_go(self, state: State, action: actions.Go) -> tuple[State, Screen]:
        if self.tree.node(state.lang, action.target) is None:
            return state, self._node_screen(state, self.tr(
                state, "This button is from an older version of this guide and no longer "
                       "works. Here is where you are now."))
        new = self._enter(state, action.target)
        return new, self._node_screen(new)

    def _on_back(self, state: State) -> tuple[State, Screen]:
        trail = list(state.trail)
        while trail:
            node, facts = trail.pop()
            if self.tree.node(state.lang, node) is not None:
                new = replace(state, node=node, facts=facts, trail=tuple(trail))
                return new, self._node_screen(new)
        return state, self._node_screen(state)

    def _on_pick_language(self, state: State) -> tuple[State, Screen]:
        rows = [(Button(language_name(code), actions.SetLanguage(code)),) for code in self.tree.codes]
        text = "🌐 " + self.tr(state, "Choose your language:")
        return state, Screen(text, (*rows, *self._nav(state)), ScreenKind.LANGUAGE, state.node)

    def _on_set_language(self, state: State, action: actions.SetLanguage) -> tuple[State, Screen]:
        if action.lang not in self.tree.languages:
            return self._on_pick_language(state)
        new = replace(state, lang=action.lang)
        return new, self._node_screen(new)

    def _on_switch_to(self, state: State, action: actions.SwitchTo) -> tuple[State, Screen]:
        if action.lang not in self.tree.languages:
            return self._on_pick_language(state)
        return self._on_go(replace(state, lang=action.lang), actions.Go(action.target))

    def _on_ask_forget(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        text = _("Delete everything this bot keeps about this chat? Your place in the "
                 "guide and your answers will be erased.")
        rows = ((Button("🗑 " + _("Yes, delete"), actions.Forget()),),
                (Button("◀️ " + _("No, go back"), actions.Show()),))
        return state, Screen(text, rows, ScreenKind.FORGET_ASK, state.node)

    def _on_forget(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        fresh = State(lang=state.lang, node=self.tree.start, version=self.tree.version)
        text = _("Done: everything this bot kept about this chat is deleted. "
                 "Press the button or send /start to begin again.")
        rows = ((Button("🏠 " + _("Main menu"), actions.Home()),),)
        return fresh, Screen(text, rows, ScreenKind.FORGOTTEN, None, Effect.DELETE_SESSION)

    def _on_sheet(self, state: State) -> tuple[State, Screen]:
        text = self.sheet.render(state.lang, state.facts)
        return state, Screen(text, self._nav(state), ScreenKind.SHEET, state.node, Effect.ATTACH_SHEET)

    def _on_privacy(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        text = "\n\n".join((
            "<b>" + _("Your privacy") + "</b>",
            _("This bot does not keep your name, your phone number, your Telegram "
              "account or anything you type."),
            _("It keeps only, under a code that cannot be traced back to you: your "
              "language, the step you are on, the buttons you chose, and the date. "
              "This is deleted automatically after some weeks without use."),
            _("The words you type are used once to find a matching topic, then "
              "forgotten."),
            _("Press “Delete my data” or send /forget to delete everything now."),
        ))
        return state, Screen(text, self._nav(state), ScreenKind.PRIVACY, state.node)

    def _on_help(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        text = "\n\n".join((
            "<b>" + _("How to use this bot") + "</b>",
            _("Press the buttons to move through the guide. You can also type a word, "
              "like “judge” or “lawyer”, to find a topic."),
            _("Commands:") + "\n" + "\n".join(
                f"/{command.name}: {_(command.description)}" for command in COMMANDS),
            "<i>" + _(DISCLAIMER) + "</i>",
        ))
        return state, Screen(text, self._nav(state), ScreenKind.HELP, state.node)

    def _on_search(self, state: State, action: actions.Search) -> tuple[State, Screen]:
        if self._current(state).input == "country":
            code = match_country(action.text, state.lang)
            if code is not None:
                return self._typed_country(state, code)
        found = self.finder.find(state.lang, action.text)
        if found.empty and self._current(state).input == "country":
            # Stay on the step: the person was most likely typing a country's name.
            notice = self.tr(state, "I did not recognise a country's name in that. Type it "
                                    "again, or choose an answer below.")
            return state, replace(self._node_screen(state, notice), kind=ScreenKind.SEARCH_NONE)
        if found.empty:
            return state, self._no_match(state)
        if found.lang != state.lang:
            return state, self._other_language(state, found)
        _ = self.i18n.translator(state.lang)
        rows = [(Button(title_label(self._node(state.lang, n)), actions.Go(n)),) for n in found.ids]
        text = _("These parts of the guide may help:")
        return state, Screen(text, (*rows, *self._nav(state)), ScreenKind.SEARCH, state.node)

    def _typed_country(self, state: State, code: str) -> tuple[State, Screen]:
        """Note a country the person typed, as its ISO code only, and stay on the step."""
        value = typed_country(code)
        new = replace(state, facts=apply_facts(state.facts, (Fact("country", "=", value, 0),)))
        notice = self.tr(state, "Noted for the lawyer: %(country)s. If that is not the right "
                                "country, type its name again.") % {
            "country": escape(country_name(value, state.lang))}
        return new, replace(self._node_screen(new, notice), kind=ScreenKind.COUNTRY)

    def _no_match(self, state: State) -> Screen:
        """Nothing found: say so kindly and offer the main topics."""
        _ = self.i18n.translator(state.lang)
        text = _("Sorry, I did not find anything for those words. Here are the main topics. "
                 "You can also try other words, like “lawyer”, “judge” or “afraid”.")
        start = self._node(state.lang, self.tree.start)
        rows = [(Button(c.label, actions.Go(c.target)),) for c in start.choices]
        return Screen(text, (*rows, *self._nav(state)), ScreenKind.SEARCH_NONE, state.node)

    def _other_language(self, state: State, found: Found) -> Screen:
        """Steps found in another language, offered in that language with a one-tap switch."""
        offer = self.i18n.gettext(found.lang, OTHER_LANGUAGE_OFFER) % {
            "language": language_name(found.lang, in_sentence=True)}
        missed = self.tr(state, "(Nothing found in %(language)s for these words.)") % {
            "language": language_name(state.lang, in_sentence=True)}
        rows = [(Button(title_label(self._node(found.lang, n)), actions.SwitchTo(found.lang, n)),)
                for n in found.ids]
        return Screen(f"{offer}\n\n<i>{missed}</i>", (*rows, *self._nav(state)),
                      ScreenKind.SEARCH_OTHER, state.node)

    def _on_invalid(self, state: State, action: actions.Invalid) -> tuple[State, Screen]:
        if action.reason == "unsupported":
            notice = self.tr(state, "I can only read text and buttons. Please use the buttons below.")
        else:
            notice = self.tr(state, "This button is from an older version of this guide and no "
                                   "longer works. Here is where you are now.")
        return state, self._node_screen(state, notice)

    # -- helpers ------------------------------------------------------------------------------
    def tr(self, state: State, msgid: str) -> str:
        """Translate ``msgid`` into the session's language."""
        return self.i18n.gettext(state.lang, msgid)

    def _repair(self, state: State) -> tuple[State, str]:
        """Fix a state the current tree cannot serve (removed language or node)."""
        notice = ""
        if state.lang not in self.tree.languages:
            state = replace(state, lang=self.tree.source_language)
        if self.tree.node(state.lang, state.node) is None:
            notice = self.tr(state, "This guide was updated and the step you were on is gone. "
                                   "Here is the main menu.")
            state = replace(state, node=self.tree.start, trail=())
        return state, notice

    def _enter(self, state: State, target: str) -> State:
        node = self._node(state.lang, target)
        trail = (*state.trail, (state.node, state.facts))[-MAX_TRAIL:]
        return replace(state, node=target, trail=trail, facts=apply_facts(state.facts, node.facts))

    def _node(self, lang: str, node_id: str) -> Node:
        node = self.tree.node(lang, node_id)
        if node is None:
            raise KeyError(node_id)
        return node

    def _current(self, state: State) -> Node:
        return self._node(state.lang, state.node)

    def resolve_payload(self, payload: str, lang: str) -> tuple[str, str]:
        """Language and node for a deep-link payload like ``es-third-country`` or ``tc-fear``."""
        payload = payload.strip().lower()
        head, _sep, rest = payload.partition("-")
        if head in self.tree.languages:
            lang, payload = head, rest
        elif payload in self.tree.languages:
            lang, payload = payload, ""
        language = self.tree.languages.get(lang) or self.tree.languages[self.tree.source_language]
        if payload in language.nodes:
            return language.code, payload
        topic = language.files.get(payload)
        if topic is not None and topic.node_ids:
            return language.code, topic.node_ids[0]
        return language.code, self.tree.start

    def node_text(self, lang: str, node_id: str, facts: Facts = ()) -> str:
        """The message text of a node for these facts, cached per language, node and variant."""
        node = self._node(lang, node_id)
        key = (lang, node_id, node.selection(facts))
        text = self._node_text.get(key)
        if text is None:
            text = render_node(node, self.i18n.gettext(lang, DISCLAIMER) if node.end else "",
                               node.html_for(facts))
            if node_id in self.tree.fallback.get(lang, ()):
                text = f"<i>{self.i18n.gettext(lang, NOT_TRANSLATED)}</i>\n\n{text}"
            self._node_text[key] = text
        return text

    def _node_screen(self, state: State, notice: str = "") -> Screen:
        text = self.node_text(state.lang, state.node, state.facts)
        if notice:
            text = f"<i>{notice}</i>\n\n{text}"
        return Screen(text, self._node_rows(state, self._current(state)), ScreenKind.NODE, state.node)

    def _node_rows(self, state: State, node: Node) -> Rows:
        rows: list[tuple[Button, ...]] = [(Button(c.label, actions.Go(c.target)),) for c in node.choices]
        if node.end:
            rows.append((Button("📄 " + self.tr(state, "Summary for a lawyer"), actions.Sheet()),))
        return (*rows, *self._nav(state))

    def _nav(self, state: State) -> Rows:
        _ = self.i18n.translator(state.lang)
        first: list[Button] = []
        if state.trail:
            first.append(Button("◀️ " + _("Back"), actions.Back()))
        if state.node != self.tree.start or state.trail:
            first.append(Button("🏠 " + _("Main menu"), actions.Home()))
        second = (Button("🌐 " + _("Language"), actions.PickLanguage()),
                  Button("🗑 " + _("Delete my data"), actions.AskForget()))
        return (tuple(first), second) if first else (second,)

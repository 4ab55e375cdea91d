"""The conversation engine: a pure step function from (state, action) to (new state, screen).

No Telegram here: the same engine drives the bot, the terminal chat and the tests. Every
action, even a stale or malformed one, yields a screen; nothing raises on a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, assert_never

from bot.content.facts import typed_country
from bot.content.model import Choice, ContentTree, Fact, Node
from bot.content.render import DISCLAIMER, NOT_TRANSLATED, render_node, title_label
from bot.content.telegram_html import visible_text
from bot.conversation import actions
from bot.conversation.actions import Action
from bot.conversation.commands import COMMANDS
from bot.conversation.screen import Button, Effect, Rows, Screen, ScreenKind
from bot.conversation.search import Finder, Found
from bot.conversation.state import MAX_TRAIL, Facts, State, apply_facts
from bot.review.records import parse_day, review_notice
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
        state, gone = self._repair(state)
        new_state, screen = self._dispatch(state, action)
        if gone and screen.kind is ScreenKind.NODE:
            screen = self._node_screen(new_state, self._gone_notice(new_state))
        return replace(new_state, version=self.tree.version, aside=self._aside(new_state, screen)), screen

    def _aside(self, state: State, screen: Screen) -> str:
        """The kind of a screen shown over the step (it does not show the step), else ""."""
        if screen.kind in (ScreenKind.NODE, ScreenKind.COUNTRY):
            return ""
        try:
            shows_step = self.node_text(state.lang, state.node) in screen.text
        except KeyError:
            return ""
        # Back from a screen over the step (help, search results...) returns to the step itself.
        return "" if shows_step else str(screen.kind)

    def _dispatch(self, state: State, action: Action) -> tuple[State, Screen]:
        match action:
            case actions.Start():
                return self._on_start(state, action)
            case actions.Go():
                return self._on_go(state, action)
            case actions.Open():
                return self._open(state, action.target, answered=False)
            case actions.Untick():
                return self._on_untick(state, action)
            case actions.Back():
                return self._on_back(state)
            case actions.Home():
                return self._open(state, self.tree.start, answered=False)
            case actions.Show():
                return state, self._node_screen(state)
            case actions.PickLanguage():
                return self._on_pick_language(state)
            case actions.SetLanguage():
                return self._on_set_language(state, action)
            case actions.SwitchTo():
                return self._on_switch_to(state, action)
            case actions.Restart():
                return self._on_restart(state, action)
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
        if not state.facts:
            return self._begin(state, lang, target)
        # Answers were given: never erase them silently (a flyer link or /start may come at any time).
        asked = replace(state, lang=lang)
        _ = self.i18n.translator(lang)
        text = _("You already answered some questions. Do you want to continue where you "
                 "were, or start over? Starting over erases your answers.")
        again = actions.Restart("" if target == self.tree.start else target)
        rows = ((Button("▶️ " + _("Continue where I was"), actions.Show()),),
                (Button("🔄 " + _("Start over"), again),))
        return asked, Screen(text, rows, ScreenKind.START_ASK, state.node)

    def _on_restart(self, state: State, action: actions.Restart) -> tuple[State, Screen]:
        target = action.target if self.tree.node(state.lang, action.target) else self.tree.start
        return self._begin(state, state.lang, target)

    def _begin(self, state: State, lang: str, target: str) -> tuple[State, Screen]:
        """A fresh start in ``lang`` at ``target``; the chat's message list is kept for /forget."""
        fresh = replace(state, lang=lang, node=self.tree.start, trail=(), facts=(), aside="")
        if target != self.tree.start:
            fresh = self._enter(fresh, target, answered=False)  # a link answers nothing
        return fresh, self._node_screen(fresh)

    def _on_go(self, state: State, action: actions.Go) -> tuple[State, Screen]:
        # A fact is recorded only when the person answers the question that asks it: the step
        # they are on must offer this choice (not a search result, a link or an old message).
        answered = self._current(state).choice_to(action.target) is not None
        return self._open(state, action.target, answered)

    def _open(self, state: State, target: str, answered: bool) -> tuple[State, Screen]:
        if self.tree.node(state.lang, target) is None:
            return state, self._node_screen(state, self.tr(
                state, "This button is from an older version of this guide and no longer "
                       "works. Here is where you are now."))
        new = self._enter(state, target, answered)
        return new, self._node_screen(new)

    def _on_untick(self, state: State, action: actions.Untick) -> tuple[State, Screen]:
        choice = self._current(state).choice_to(action.target)
        node = self.tree.node(state.lang, action.target)
        if choice is None or node is None:
            return state, self._node_screen(state)
        drop = {(f.key, f.value) for f in node.facts if f.op == "+="}
        new = replace(state, facts=tuple(f for f in state.facts if f not in drop))
        _ = self.i18n.translator(state.lang)
        notice = _("Removed from your summary: %(choice)s") % {"choice": choice.label}
        return new, self._node_screen(new, notice)

    def _on_back(self, state: State) -> tuple[State, Screen]:
        if state.aside:  # help, privacy, search results...: back to the step under them
            return state, self._node_screen(state)
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
        return state, Screen(text, (*rows, *self._nav(state, aside=True)), ScreenKind.LANGUAGE,
                             state.node)

    def _on_set_language(self, state: State, action: actions.SetLanguage) -> tuple[State, Screen]:
        if action.lang not in self.tree.languages:
            return self._on_pick_language(state)
        new = replace(state, lang=action.lang)
        return new, self._node_screen(new)

    def _on_switch_to(self, state: State, action: actions.SwitchTo) -> tuple[State, Screen]:
        if action.lang not in self.tree.languages:
            return self._on_pick_language(state)
        # A search result in another language: opening it answers nothing.
        return self._open(replace(state, lang=action.lang), action.target, answered=False)

    def _on_ask_forget(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        text = _("Delete everything this bot keeps about this chat? Your place in the "
                 "guide and your answers will be erased, and so will the messages of this "
                 "chat that Telegram still lets the bot delete (those less than 48 hours old).")
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

    def forget_report(self, lang: str, deleted: int, kept: int) -> str:
        """What /forget deleted from the chat on Telegram, and what it could not."""
        _ = self.i18n.translator(lang)
        lines = [_("Messages deleted from this chat: %(count)d.") % {"count": deleted}]
        if kept:
            lines.append(_("Messages Telegram no longer lets the bot delete (more than 48 hours "
                           "old): %(count)d.") % {"count": kept})
        lines.append(_("The rest of this chat, and this message, stay on your phone and on "
                       "Telegram until you delete the chat: in your list of chats, press and "
                       "hold this chat (on iPhone, swipe it to the left) and choose “Delete”."))
        return "\n".join(lines)

    def _on_sheet(self, state: State) -> tuple[State, Screen]:
        text = self.sheet.render(state.lang, state.facts, reviews=self.reviews(state))
        return state, Screen(text, self._nav(state, aside=True), ScreenKind.SHEET, state.node,
                             Effect.ATTACH_SHEET)

    def _on_privacy(self, state: State) -> tuple[State, Screen]:
        _ = self.i18n.translator(state.lang)
        text = "\n\n".join((
            "<b>" + _("Your privacy") + "</b>",
            "<b>" + _("What this bot keeps:") + "</b> " + _(
                "nothing that identifies you. It does not keep your name, your phone number, "
                "your Telegram account or anything you type."),
            _("To guide you, it keeps only, under a code that cannot be traced back to you: "
              "your language, the step you are on, the answers you chose, the date, and the "
              "numbers of its messages in this chat from the last two days, so that it can "
              "delete them. All of this is deleted automatically after some weeks without use."),
            _("The words you type are used once to find a matching topic, then "
              "forgotten."),
            "<b>" + _("What it cannot erase:") + "</b> " + _(
                "this chat. It stays on your phone, and on Telegram, until you delete it. "
                "Anyone who can open your phone can read it."),
            "<b>" + _("How to delete everything:") + "</b> " + _(
                "send /forget (or press “Delete my data”). The bot then erases what it keeps "
                "and deletes the messages of this chat that Telegram still lets it delete. "
                "Then delete the chat in Telegram: in your list of chats, press and hold this "
                "chat (on iPhone, swipe it to the left) and choose “Delete”."),
        ))
        return state, Screen(text, self._nav(state, aside=True), ScreenKind.PRIVACY, state.node)

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
        return state, Screen(text, self._nav(state, aside=True), ScreenKind.HELP, state.node)

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
        rows = [(Button(title_label(self._node(state.lang, n)), actions.Open(n)),) for n in found.ids]
        text = _("These parts of the guide may help:")
        return state, Screen(text, (*rows, *self._nav(state, aside=True)), ScreenKind.SEARCH,
                             state.node)

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
        rows = [(Button(c.label, actions.Open(c.target)),) for c in start.choices]
        return Screen(text, (*rows, *self._nav(state, aside=True)), ScreenKind.SEARCH_NONE,
                      state.node)

    def _other_language(self, state: State, found: Found) -> Screen:
        """Steps found in another language, offered in that language with a one-tap switch."""
        offer = self.i18n.gettext(found.lang, OTHER_LANGUAGE_OFFER) % {
            "language": language_name(found.lang, in_sentence=True)}
        missed = self.tr(state, "(Nothing found in %(language)s for these words.)") % {
            "language": language_name(state.lang, in_sentence=True)}
        rows = [(Button(title_label(self._node(found.lang, n)), actions.SwitchTo(found.lang, n)),)
                for n in found.ids]
        return Screen(f"{offer}\n\n<i>{missed}</i>", (*rows, *self._nav(state, aside=True)),
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

    def _repair(self, state: State) -> tuple[State, bool]:
        """Fix a state the current tree cannot serve (removed language or node); True if its step is gone."""
        gone = False
        if state.lang not in self.tree.languages:
            state = replace(state, lang=self.tree.source_language)
        if self.tree.node(state.lang, state.node) is None:
            gone = True
            state = replace(state, node=self.tree.start, trail=())
        return state, gone

    def _gone_notice(self, state: State) -> str:
        """The notice over the screen shown after the user's step vanished: it names that screen."""
        if state.node == self.tree.start:
            return self.tr(state, "This guide was updated and the step you were on is gone. "
                                  "Here is the main menu.")
        title = escape(visible_text(self._node(state.lang, state.node).title))
        return self.tr(state, "This guide was updated and the step you were on is gone. "
                              "Here is “%(title)s”.") % {"title": title}

    def _enter(self, state: State, target: str, answered: bool) -> State:
        node = self._node(state.lang, target)
        trail = (*state.trail, (state.node, state.facts))[-MAX_TRAIL:]
        facts = apply_facts(state.facts, node.facts) if answered else state.facts
        return replace(state, node=target, trail=trail, facts=facts)

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
            text = render_node(node, self._ending_footer(lang, node) if node.end else "",
                               node.html_for(facts))
            if node_id in self.tree.fallback.get(lang, ()):
                text = f"<i>{self.i18n.gettext(lang, NOT_TRANSLATED)}</i>\n\n{text}"
            self._node_text[key] = text
        return text

    def _ending_footer(self, lang: str, node: Node) -> str:
        """The notice under an ending: not legal advice, and who checked this topic when."""
        topic = self.tree.languages[lang].files.get(node.topic)
        checked = review_notice(topic.reviewed if topic else "", topic.reviewer if topic else "",
                                lang, self.i18n.translator(lang))
        return self.i18n.gettext(lang, DISCLAIMER) + "\n" + escape(checked, quote=False)

    def reviews(self, state: State) -> tuple[tuple[str, str, str], ...]:
        """Each topic the person went through: title, reviewer and review date, for the sheet."""
        language = self.tree.languages[state.lang]
        seen: dict[str, tuple[str, str, str]] = {}
        for node_id in (*(n for n, _facts in state.trail), state.node):
            node = language.nodes.get(node_id)
            topic = language.files.get(node.topic) if node else None
            if topic is not None and topic.name not in seen:
                day = parse_day(topic.reviewed)
                seen[topic.name] = (visible_text(topic.title), topic.reviewer if day else "",
                                    day.isoformat() if day else "")
        return tuple(seen.values())

    def _node_screen(self, state: State, notice: str = "") -> Screen:
        text = self.node_text(state.lang, state.node, state.facts)
        if notice:
            text = f"<i>{notice}</i>\n\n{text}"
        return Screen(text, self._node_rows(state, self._current(state)), ScreenKind.NODE, state.node)

    def _node_rows(self, state: State, node: Node) -> Rows:
        rows: list[tuple[Button, ...]] = [(self._choice_button(state, c),) for c in node.choices]
        if node.end:
            rows.append((Button("📄 " + self.tr(state, "Summary for a lawyer"), actions.Sheet()),))
        return (*rows, *self._nav(state))

    def _choice_button(self, state: State, choice: Choice) -> Button:
        """A choice's button; an option of a multi-select question already chosen is ticked."""
        target = self.tree.node(state.lang, choice.target)
        added = [(f.key, f.value) for f in target.facts if f.op == "+="] if target else []
        if added and all(f in state.facts for f in added):
            return Button("✓ " + choice.label, actions.Untick(choice.target))
        return Button(choice.label, actions.Go(choice.target))

    def _nav(self, state: State, aside: bool = False) -> Rows:
        """Back, Main menu, Language, Delete; on a screen over the step, Back returns to the step."""
        _ = self.i18n.translator(state.lang)
        first: list[Button] = []
        if aside:  # Show, not Back: a press on this message even much later returns to the step
            first.append(Button("◀️ " + _("Back"), actions.Show()))
        elif state.trail:
            first.append(Button("◀️ " + _("Back"), actions.Back()))
        if state.node != self.tree.start or state.trail:
            first.append(Button("🏠 " + _("Main menu"), actions.Home()))
        second = (Button("🌐 " + _("Language"), actions.PickLanguage()),
                  Button("🗑 " + _("Delete my data"), actions.AskForget()))
        return (tuple(first), second) if first else (second,)

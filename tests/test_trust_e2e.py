"""A conversation that never misleads, end to end: the real bot and aiogram client over HTTP
against the fake Bot API, in the three languages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.content.loader import load_tree
from bot.content.telegram_html import visible_text
from bot.words.i18n import I18n
from e2e import bot_settings, running
from fake_telegram import FakeTelegram, FakeUser
from fake_telegram.rules import MAX_DESCRIPTION_CHARS, MAX_SHORT_DESCRIPTION_CHARS
from helpers import CONTENT, LOCALES

TREE, _ = load_tree(CONTENT)
I18N = I18n.load(LOCALES)
LANGS = ["en", "es", "fr"]


def title(lang: str, node: str) -> str:
    return visible_text(TREE.languages[lang].nodes[node].title)


def label(lang: str, node: str, target: str) -> str:
    choice = TREE.languages[lang].nodes[node].choice_to(target)
    assert choice is not None
    return choice.label


def tr(lang: str, msgid: str) -> str:
    return I18N.gettext(lang, msgid)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def assert_clean_and_readable(fake: FakeTelegram) -> None:
    """No refusal; every press answered without a toast; no button is an emoji alone."""
    assert fake.violations == [], fake.violations
    for record in fake.callbacks.values():
        assert record.answer is not None
        assert not record.answer.get("text") and not record.answer.get("show_alert")
    for outgoing in (o for box in fake.outbox.values() for o in box):
        for text in outgoing.buttons:
            assert any(ch.isalpha() for ch in text), f"button without words: {text!r}"


async def step(user: FakeUser, press: str | None = None, text: str | None = None,
               replies: int = 1) -> str:
    """Press a button or send text; the plain text of the last reply."""
    if press is not None:
        user.press(press)
    else:
        assert text is not None
        user.send_text(text)
    out = await user.wait_reply(replies)
    return out[-1].plain if replies == 1 else out[0].plain


@pytest.mark.parametrize("lang", LANGS)
async def test_searching_a_country_and_answering_yes_does_not_name_it(fake_telegram: FakeTelegram,
                                                                      data: Path, lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7000 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        await step(user, text="Honduras")
        shown = await step(user, press="1:o:tc-country-hn")
        assert title(lang, "tc-country-hn") in shown
        shown = await step(user, press="1:g:tc-fear-yes")
        assert title(lang, "tc-fear-yes") in shown
        user.send_text("/lawyer")
        sheet, document = await user.wait_reply(2)
        assert tr(lang, "Summary for a lawyer") in sheet.plain
        assert "Honduras" not in sheet.plain
        assert "Honduras" not in document.message.document.data.decode()
        assert tr(lang, "The person is afraid of being sent to that country.") in sheet.plain
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_grounds_show_a_tick_and_a_second_tap_removes_one(fake_telegram: FakeTelegram,
                                                                data: Path, lang: str) -> None:
    race = label(lang, "ag-start", "ag-race")
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7100 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        for target in ("ag-start", "ag-race", "ag-start"):
            await step(user, press=f"1:g:{target}")
        assert f"✓ {race}" in user.buttons() and race not in user.buttons()
        shown = await step(user, press=f"✓ {race}")
        assert shown.startswith(tr(lang, "Removed from your summary: %(choice)s") % {"choice": race})
        assert race in user.buttons() and f"✓ {race}" not in user.buttons()
        user.send_text("/lawyer")
        sheet, _document = await user.wait_reply(2)
        assert tr(lang, "Asylum grounds that may fit:") not in sheet.plain
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_start_with_answers_asks_continue_or_start_over(fake_telegram: FakeTelegram,
                                                              data: Path, lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(7200 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        for target in ("tc-start", "tc-who", "tc-self"):
            await step(user, press=f"1:g:{target}")
        asked = await step(user, text="/start")
        assert asked == tr(lang, "You already answered some questions. Do you want to continue "
                                 "where you were, or start over? Starting over erases your answers.")
        assert user.buttons() == ["▶️ " + tr(lang, "Continue where I was"),
                                  "🔄 " + tr(lang, "Start over")]
        shown = await step(user, press="1:s")
        assert title(lang, "tc-self") in shown
        key = service.runtime.keyer.key(user.chat_id)
        saved, _rev = await service.runtime.store.load(key)
        assert saved is not None and ["who", "self"] in saved["facts"]
        await step(user, text="/start")
        shown = await step(user, press="1:r")
        assert title(lang, "start") in shown
        saved, _rev = await service.runtime.store.load(key)
        assert saved is not None and saved["facts"] == [] and saved["trail"] == []
        shown = await step(user, text="/start")  # no answers any more: no question
        assert title(lang, "start") in shown
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_back_after_help_privacy_language_search_and_summary(fake_telegram: FakeTelegram,
                                                                   data: Path, lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7300 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        await step(user, press="1:g:tc-start")
        await step(user, press="1:g:tc-what")
        back = "◀️ " + tr(lang, "Back")
        for typed, replies in (("/help", 1), ("/privacy", 1), ("/language", 1),
                               ("juez lawyer avocat", 1), ("/lawyer", 2)):
            await step(user, text=typed, replies=replies)
            shown = await step(user, press=back)  # the Back button of that screen
            assert title(lang, "tc-what") in shown, typed
            await step(user, text=typed, replies=replies)
            shown = await step(user, text="/back")  # or the /back command
            assert title(lang, "tc-what") in shown, typed
        sheets = [m for m in user.messages() if tr(lang, "Questions to ask") in m.plain]
        assert len(sheets) == 2  # Back under the summary sent the step anew: the summary stays
        shown = await step(user, text="/back")  # on the step itself, Back goes one step back
        assert title(lang, "tc-start") in shown
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_unknown_command_gets_the_help(fake_telegram: FakeTelegram, data: Path,
                                             lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7400 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        shown = await step(user, text="/nosuchcommand")
        assert tr(lang, "How to use this bot") in shown
        assert "older version" not in shown and "ancienne version" not in shown
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_privacy_says_what_stays_on_the_phone_and_how_to_delete_the_chat(
        fake_telegram: FakeTelegram, data: Path, lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7500 + LANGS.index(lang), language_code=lang)
        shown = await step(user, text="/privacy")
        for msgid in ("What this bot keeps:", "What it cannot erase:", "How to delete everything:"):
            assert tr(lang, msgid) in shown
        assert "/forget" in shown and "iPhone" in shown
    assert_clean_and_readable(fake_telegram)


async def test_descriptions_are_set_per_language_within_telegrams_limits(
        fake_telegram: FakeTelegram, data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        pass
    assert set(fake_telegram.descriptions) == {"", "en", "es", "fr"}
    assert set(fake_telegram.short_descriptions) == {"", "en", "es", "fr"}
    words = {"en": "lawyer", "es": "abogado", "fr": "avocat"}
    for lang, word in words.items():
        description = fake_telegram.descriptions[lang]
        short = fake_telegram.short_descriptions[lang]
        assert 0 < len(description) <= MAX_DESCRIPTION_CHARS and word in description
        assert 0 < len(short) <= MAX_SHORT_DESCRIPTION_CHARS and word in short
    assert fake_telegram.descriptions[""] == fake_telegram.descriptions["en"]
    assert len({fake_telegram.descriptions[x] for x in words}) == 3  # really translated
    assert_clean_and_readable(fake_telegram)


@pytest.mark.parametrize("lang", LANGS)
async def test_forget_deletes_recent_messages_and_says_what_it_could_not(
        fake_telegram: FakeTelegram, data: Path, lang: str) -> None:
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(7600 + LANGS.index(lang), language_code=lang)
        await step(user, text="/start")
        await step(user, text="mi hermano esta detenido")  # typed words, then a search reply
        await step(user, text="/privacy")
        await step(user, press="1:s")  # an edit: no new message
        user.send_text("/lawyer")
        await user.wait_reply(2)
        old = {m.message_id for m in user.messages()}
        # Two days later (for Telegram and for the bot), the person goes on and then forgets.
        fake_telegram.advance(49 * 3600)
        service.runtime.clock = lambda: time.time() + 49 * 3600
        recent_typed = user.send_text("/help")
        await user.wait_reply()
        recent = {m.message_id for m in user.messages()} - old
        forget_typed = user.send_text("/forget")
        (report,) = await user.wait_reply()
        assert tr(lang, "Messages deleted from this chat: %(count)d.") % {"count": 3} in report.plain
        older = tr(lang, "Messages Telegram no longer lets the bot delete (more than 48 hours old): "
                         "%(count)d.") % {"count": 9}  # 4 typed by the person, 5 sent by the bot
        assert older in report.plain
        assert set(fake_telegram.deleted[user.chat_id]) == recent | {recent_typed, forget_typed}
        assert fake_telegram.user_message_deleted(user.chat_id, recent_typed)
        assert {m.message_id for m in user.messages()} == old | {report.message.message_id}
        assert await service.runtime.store.session_count() == 0
    assert_clean_and_readable(fake_telegram)


async def test_forget_deletes_in_batches_of_at_most_100(fake_telegram: FakeTelegram,
                                                        data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(7700, language_code="en")
        for _ in range(60):  # 120 messages: 60 typed, 60 answers
            user.send_text("judge")
            await user.wait_reply()
        user.press("🗑 " + tr("en", "Delete my data"))
        await user.wait_reply()
        user.press("🗑 " + tr("en", "Yes, delete"))
        (report,) = await user.wait_reply()
        assert "Messages deleted from this chat: 120." in report.plain
        calls = [c for c in fake_telegram.calls("deleteMessages") if c.ok]
        assert len(calls) == 2 and all(len(c.params["message_ids"]) <= 100 for c in calls)
        assert [m.message_id for m in user.messages()] == [report.message.message_id]
    assert_clean_and_readable(fake_telegram)

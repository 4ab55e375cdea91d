"""The lawyer sheet: rendered from facts, in every language, within Telegram's limits."""

from __future__ import annotations

from datetime import date

import pytest

from bot.content.telegram_html import MAX_MESSAGE_CHARS, telegram_length, validate_html, visible_text
from bot.words.i18n import I18n
from bot.words.sheet import LawyerSheet
from helpers import LOCALES

I18N = I18n.load(LOCALES)
SHEET = LawyerSheet(I18N)
DAY = date(2026, 11, 23)
ALL_FACTS = (("who", "relative"), ("detained", "yes"), ("motion", "aca"), ("country", "mexico"),
             ("fear", "yes"), ("ground", "religion"), ("ground", "political-opinion"),
             ("ground", "social-group"), ("arrival", "over-1-year"), ("hearing", "scheduled"))
COMBOS = [
    (),
    ALL_FACTS,
    (("motion", "dismiss"), ("country", "other"), ("fear", "no")),
    (("motion", "pretermit"), ("country", "ecuador"), ("entry", "after-2019-11-19"),
     ("alone", "yes"), ("fear", "unsure"), ("arrival", "under-1-year")),
    (("motion", "dismiss-case"), ("order", "final"), ("entry", "unknown"), ("alone", "unknown")),
    (("motion", "unknown"), ("country", "unknown"), ("fear", "unsure"), ("arrival", "unknown")),
    (("who", "self"), ("detained", "no"), ("country", "south-sudan"), ("ground", "race")),
]
MEXICO = {"en": "Mexico", "es": "México", "fr": "Mexique"}


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("facts", COMBOS)
def test_sheet_is_valid_telegram_html_within_limits(lang: str, facts: tuple) -> None:
    text = SHEET.render(lang, facts, DAY)
    assert validate_html(text) == []
    assert telegram_length(visible_text(text)) <= MAX_MESSAGE_CHARS
    assert "1-800-898-7180" in text and "https://www.justice.gov/eoir" in text
    assert "\n\n\n" not in text  # no empty sections or stray blank lines
    assert all(line == line.strip() for line in text.splitlines())


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_sheet_shows_the_facts_chosen(lang: str) -> None:
    _ = I18N.translator(lang)
    text = visible_text(SHEET.render(lang, ALL_FACTS, DAY))
    assert MEXICO[lang] in text
    for msgid in ("religion", "political opinion", "membership in a particular social group",
                  "The person is detained.",
                  "Can an exception to the one-year asylum deadline apply?"):
        assert _(msgid) in text
    assert _("race") not in text.split(_("Questions to ask"))[0].split(":")[-1]
    empty = visible_text(SHEET.render(lang, (), DAY))
    assert _("No answers were chosen yet: go through the guide to fill in this summary.") in empty
    assert _("Is there a government motion in this case? Which one?") in empty
    assert _("The person is detained.") not in empty


def test_sheet_is_translated_and_dated_in_the_readers_language() -> None:
    es = SHEET.render("es", ALL_FACTS, DAY)
    fr = SHEET.render("fr", ALL_FACTS, DAY)
    en = SHEET.render("en", ALL_FACTS, DAY)
    assert "23 de noviembre de 2026" in es and "23 novembre 2026" in fr and "November 23, 2026" in en
    assert es != en != fr
    assert I18N.gettext("es", "Summary for a lawyer") != "Summary for a lawyer"
    assert I18N.gettext("es", "Summary for a lawyer") in es


def test_document_puts_the_language_and_english_side_by_side() -> None:
    name, content, caption = SHEET.document("fr", ALL_FACTS, DAY)
    html = content.decode()
    assert name == "lawyer-summary-fr.html"
    assert '<section class="column" lang="fr">' in html and '<section class="column" lang="en">' in html
    assert "Mexique" in html and "Mexico" in html
    assert caption == I18N.gettext("fr", "For your lawyer: you can forward or print this file. It "
                                         "holds no name.")
    _name, english_only, _caption = SHEET.document("en", ALL_FACTS, DAY)
    assert english_only.decode().count('<section class="column"') == 1


def test_sheets_are_cached_per_language_facts_and_day() -> None:
    sheet = LawyerSheet(I18N)
    first = sheet.render("es", ALL_FACTS, DAY)
    assert sheet.render("es", ALL_FACTS, DAY) is first  # rendered once
    next_day = sheet.render("es", ALL_FACTS, date(2026, 11, 24))
    assert "24 de noviembre de 2026" in next_day and "23 de noviembre" not in next_day
    assert sheet.render("en", ALL_FACTS, DAY) != first
    assert sheet.render("es", ALL_FACTS[:3], DAY) != first
    name, html, _caption = sheet.document("fr", ALL_FACTS, DAY)
    assert sheet.document("fr", ALL_FACTS, DAY)[1] is html
    assert sheet.document("fr", ALL_FACTS, date(2026, 11, 24))[1] != html
    assert name == "lawyer-summary-fr.html"


PRETERMIT = ("The government asked the judge to deny the asylum application without a full hearing "
             "and send the person to a third country under an agreement (a motion to pretermit).")
DISMISS = "The government asked the judge to dismiss (end) the whole removal case (a motion to dismiss)."
UNCLEAR = ("The government filed a motion to pretermit or to dismiss; which one is not clear: "
           "check the papers.")
ECUADOR = {"en": "Ecuador", "es": "Ecuador", "fr": "Équateur"}


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_sheet_shows_the_content_v2_facts_in_the_readers_language(lang: str) -> None:
    _ = I18N.translator(lang)
    facts = (("who", "self"), ("motion", "pretermit"), ("country", "ecuador"),
             ("entry", "after-2019-11-19"), ("alone", "yes"), ("fear", "yes"))
    text = visible_text(SHEET.render(lang, facts, DAY))
    for msgid in (PRETERMIT, "Entered the United States on or after November 19, 2019.",
                  "Came to the United States under 18, with no parent or legal guardian in the "
                  "United States able to care for them.",
                  "Proof of age at arrival, and of travelling without a parent or guardian"):
        assert _(msgid) in text
        assert lang == "en" or _(msgid) != msgid  # really translated
    assert ECUADOR[lang] in text
    assert _(DISMISS) not in text and _(UNCLEAR) not in text
    case = visible_text(SHEET.render(lang, (("motion", "dismiss-case"), ("order", "final"),
                                            ("entry", "before-2019-11-19"), ("alone", "no")), DAY))
    for msgid in (DISMISS, "The person has a final removal order and was told they will be sent "
                  "to a third country.", "Entered the United States before November 19, 2019.",
                  "Did not come to the United States as a child alone.",
                  "How can the person oppose the dismissal, and what is the risk of arrest after "
                  "a dismissal?"):
        assert _(msgid) in case
    assert _(PRETERMIT) not in case


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
def test_an_old_sessions_motion_renders_honestly(lang: str) -> None:
    """Sessions saved before content v2 hold motion=aca (pretermit) or motion=dismiss (either)."""
    _ = I18N.translator(lang)
    old_aca = visible_text(SHEET.render(lang, (("motion", "aca"), ("country", "honduras")), DAY))
    assert _(PRETERMIT) in old_aca and _(DISMISS) not in old_aca
    old_dismiss = visible_text(SHEET.render(lang, (("motion", "dismiss"),), DAY))
    assert _(UNCLEAR) in old_dismiss
    assert _(PRETERMIT) not in old_dismiss and _(DISMISS) not in old_dismiss
    assert _("Is the motion a motion to pretermit or a motion to dismiss the case?") in old_dismiss
    english = SHEET.document(lang, (("motion", "dismiss"),), DAY)[1].decode()
    assert UNCLEAR.split(";")[0] in english  # the English column says it too

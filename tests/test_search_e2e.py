"""Typed words end to end: the real bot and aiogram client against the fake Bot API, per language."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.content.loader import load_tree
from bot.content.telegram_html import visible_text
from bot.store.stats import SEARCH_MISS_EVENT, SEARCH_MISS_NODE
from e2e import ON_PG, bot_settings, content_buttons, running
from fake_telegram import FakeTelegram
from helpers import CONTENT

TREE, _ = load_tree(CONTENT)

# language: (a slang or misspelt query and a step it must offer, words of another language and
# that language, a country typed with a typo and its name in the language, the no-match words)
CASES = {
    "es": ("abogao", "fh-probono", "ICE took my son", "en", "Guatamala", "Guatemala",
           "no encontré nada"),
    "fr": ("avoca", "fh-probono", "necesito un abogado", "es", "Turqie", "Turquie",
           "je n'ai rien trouvé"),
    "en": ("lawer", "fh-probono", "me quieren deportar", "es", "Hondras", "Honduras",
           "did not find anything"),
}


def title(lang: str, node: str) -> str:
    return visible_text(TREE.languages[lang].nodes[node].title)


@pytest.mark.parametrize("lang", ["es", "fr", "en"])
async def test_typed_words_find_steps_offer_languages_and_note_a_country(
        fake_telegram: FakeTelegram, tmp_path: Path, lang: str) -> None:
    query, step, foreign, other, typed, country, none = CASES[lang]
    async with running(bot_settings(fake_telegram, tmp_path / "data")) as service:
        user = fake_telegram.user(4100 + len(lang) + ord(lang[0]), language_code=lang)
        user.send_text(f"/start {lang}-tc-country-other")  # "Another country"
        (reply,) = await user.wait_reply()
        assert title(lang, "tc-country-other") in reply.plain
        user.send_text(typed)  # its name, with a typo
        (reply,) = await user.wait_reply()
        assert country in reply.plain
        user.send_text("/lawyer")
        sheet, _document = await user.wait_reply(2)
        assert country in sheet.plain
        user.send_text("/menu")
        await user.wait_reply()

        user.send_text(query)  # slang or a typo, in the person's language
        await user.wait_reply()
        # A search result opens its step without answering anything (1:o:, not a choice's 1:g:).
        assert f"1:o:{step}" in [data for _label, data in content_buttons(fake_telegram, user)]

        user.send_text("qqqq zzzz")  # nothing: said kindly, with the main topics
        (reply,) = await user.wait_reply()
        assert none in reply.plain
        assert "1:o:tc-start" in reply.message.callback_data and "1:o:fh-start" in reply.message.callback_data

        user.send_text(foreign)  # another language's words: offered in that language
        (reply,) = await user.wait_reply()
        switches = [d for d in reply.message.callback_data if d.startswith(f"1:x:{other}:")]
        assert switches, reply.message.callback_data
        user.press(switches[0])
        (reply,) = await user.wait_reply()
        assert title(other, switches[0].split(":")[3]) in reply.plain
        await service.runtime.store.flush_counts()
        rows = await service.runtime.store.stats()
    assert (date.today(), lang, SEARCH_MISS_NODE, SEARCH_MISS_EVENT, 1) in rows
    assert fake_telegram.violations == []


async def test_typed_words_and_country_names_are_never_stored(fake_telegram: FakeTelegram,
                                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    secrets = ("Zorblaxian quintessa", "Zorblaxian", "Turqia", "Turquía")
    async with running(bot_settings(fake_telegram, data)) as service:
        user = fake_telegram.user(4201, language_code="es")
        user.send_text("/start es-tc-country-other")
        await user.wait_reply()
        user.send_text(secrets[0])  # finds nothing: counted, not kept
        await user.wait_reply()
        user.send_text(secrets[2])  # a country: kept as its code only
        await user.wait_reply()
        await service.runtime.store.flush_counts()
        if ON_PG:
            raw = repr([r for t in ("sessions", "daily_counts")
                        for r in await service.runtime.store.rows.execute(f"SELECT * FROM {t}")]).encode()
        else:
            raw = b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith("kyr.db"))
    assert b"iso:TR" in raw and SEARCH_MISS_NODE.encode() in raw
    for secret in secrets:
        assert secret.encode() not in raw, f"{secret!r} found in the database"

"""The interface catalogs are in step with the code, and broken translations fall back safely."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.pofile import read_po

from bot.words import catalogs
from bot.words.i18n import I18n
from helpers import LOCALES, ROOT


def msgids(po: Path) -> set[str]:
    with po.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


def test_template_and_catalogs_hold_every_string_in_the_code(tmp_path: Path) -> None:
    fresh = catalogs.extract(tmp_path, ROOT)
    in_code = msgids(fresh)
    assert "Summary for a lawyer" in in_code and "Back" in in_code
    assert msgids(LOCALES / "messages.pot") == in_code, "run: kyr-bot catalogs update"
    for lang in ("en", "es", "fr"):
        assert msgids(LOCALES / lang / "LC_MESSAGES" / "messages.po") >= in_code, lang


def test_broken_translations_fall_back_to_english(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    po = locales / "es" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    text = text.replace('msgstr "Atrás"', 'msgstr "Atrás <"')
    text = text.replace('msgid "Language"\nmsgstr "Idioma"', '#, fuzzy\nmsgid "Language"\nmsgstr "Idioma"')
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines)
                 if line.startswith("msgstr") and "%(country)s" in line)
    lines[first] = lines[first].replace("%(country)s", "%(pais)s")
    text = "\n".join(lines)
    po.write_text(text)
    i18n = I18n.load(locales)
    assert i18n.gettext("es", "Back") == "Back"  # the stray '<' would break Telegram
    assert i18n.gettext("es", "Language") == "Language"  # fuzzy: not used
    assert i18n.gettext("es", "Main menu") == "Menú principal"
    messages = [str(p) for p in i18n.problems]
    assert any("translation of 'Back'" in m and "'<'" in m for m in messages)
    assert any("fuzzy translation of 'Language'" in m for m in messages)
    assert any("different placeholders" in m and "keep exactly these placeholders: country" in m
               for m in messages)
    assert all(m.startswith(str(po)) for m in messages)


def test_catalogs_add_never_overwrites_and_accepts_regional_codes(tmp_path: Path) -> None:
    from test_cli import kyr

    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    es = locales / "es" / "LC_MESSAGES" / "messages.po"
    before = es.read_bytes()
    refused = kyr("catalogs", "add", "es", "--locales", str(locales))
    assert refused.returncode == 1
    assert refused.stderr == (f"error: {es} already exists and may hold translations; to start "
                              "it over, add --force\n")
    assert es.read_bytes() == before
    bad = kyr("catalogs", "add", "xx-zz-yy", "--locales", str(locales))
    assert bad.returncode == 1
    assert bad.stderr == "error: 'xx-zz-yy' is not a language code: use one like 'pt' or 'pt_BR'\n"
    added = kyr("catalogs", "add", "pt-BR", "--locales", str(locales))
    assert added.returncode == 0, added.stderr
    po = locales / "pt_BR" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    assert str(catalog.locale) == "pt_BR" and msgids(po) == msgids(locales / "messages.pot")
    forced = kyr("catalogs", "add", "es", "--force", "--locales", str(locales))
    assert forced.returncode == 0 and es.read_bytes() != before
    assert I18n.load(locales).gettext("es", "Back") == "Back"  # started over, as asked


def test_regional_content_folder_serves_telegram_regional_code() -> None:
    from bot.words.i18n import negotiate

    assert negotiate("pt-br", ("en", "pt_BR"), "en") == "pt_BR"
    assert negotiate("pt-PT", ("en", "pt"), "en") == "pt"
    assert negotiate("pt-br", ("en", "pt", "pt_BR"), "en") == "pt_BR"

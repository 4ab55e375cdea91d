"""English first and the translator's tools: what users see, and the .po round trip, end to end."""

from __future__ import annotations

import filecmp
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.app import build_engine
from bot.content import translated_from
from bot.content.checks import check_content
from bot.content.loader import load_tree
from bot.content.translate import TranslateError, export, import_po, write_catalog
from bot.conversation import actions
from bot.conversation.engine import Engine
from bot.conversation.screen import Screen
from bot.conversation.state import State
from e2e import bot_settings, running
from fake_telegram import FakeTelegram
from helpers import CONTENT, LOCALES, MINI, copy_tree, edit, line_of
from test_cli import kyr

NOTICE_ES = "<i>Esta parte todavía no está traducida a su idioma, por eso aparece en inglés.</i>"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_tree(MINI, tmp_path / "content")


def go(engine: Engine, lang: str, *targets: str) -> Screen:
    state, screen = engine.step(State(lang=lang), actions.Start())
    for target in targets:
        state, screen = engine.step(state, actions.Go(target))
    return screen


def labels(screen: Screen) -> list[str]:
    return [b.label for b in screen.buttons()]


def mark_all_done(root: Path, lang: str = "es") -> None:
    loaded, _ = load_tree(root)
    translated_from.mark_done(root, loaded, lang, list(loaded.languages[lang].nodes))


# -- what users see -------------------------------------------------------------------------

def test_missing_step_is_served_in_english_with_a_notice_in_spanish(tree: Path) -> None:
    es = tree / "es/topic.md"
    es.write_text(es.read_text().split("## grounds |")[0])
    screen = go(build_engine(tree, LOCALES), "es", "grounds")
    assert screen.text.startswith(NOTICE_ES + "\n\n<b>The grounds</b>")
    assert "🏠 Menú principal" in labels(screen)  # the interface stays Spanish
    translated = go(build_engine(tree, LOCALES), "es", "fear")
    assert "no está traducida" not in translated.text and "<b>¿Tiene miedo?</b>" in translated.text


def test_choice_english_added_is_shown_with_its_english_label(tree: Path) -> None:
    edit(tree / "en/topic.md", "-> [No](fear-no)", "-> [No](fear-no)\n-> [The grounds](grounds)")
    edit(tree / "en/topic.md", "version: 1", "version: 2")
    screen = go(build_engine(tree, LOCALES), "es", "fear")
    assert labels(screen)[:3] == ["Sí", "No", "The grounds"]
    assert "no está traducida" not in screen.text


def test_legal_change_serves_english_until_the_step_is_translated_again(tree: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "version: 1", "version: 2")
    edit(en, "Tell the judge why.", "Tell the judge why. New rule: say it at the first hearing.")
    cosmetic = go(build_engine(tree, LOCALES), "es", "fear", "fear-yes")
    assert "Explíquele al juez por qué." in cosmetic.text  # a cosmetic change keeps Spanish
    edit(en, "end: yes\n\nTell the judge", "end: yes\nlegal-change: 2\n\nTell the judge")
    legal = go(build_engine(tree, LOCALES), "es", "fear", "fear-yes")
    assert legal.text.startswith(NOTICE_ES) and "New rule" in legal.text
    edit(tree / "es/topic.md", "Explíquele al juez por qué.",
         "Explíquele al juez por qué. Nueva regla: dígalo en la primera audiencia.")
    assert kyr("translate", "done", "es", "fear-yes", "--content", str(tree)).returncode == 0
    updated = go(build_engine(tree, LOCALES), "es", "fear", "fear-yes")
    assert "Nueva regla" in updated.text and "no está traducida" not in updated.text
    assert check_content(tree, LOCALES).errors == []


def test_stale_translation_that_now_contradicts_english_is_served_in_english(tree: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "version: 1", "version: 2")
    edit(en, "fact: fear=unsure", "fact: fear=unsure\nfact: hearing=scheduled")
    assert check_content(tree, LOCALES).errors == []  # stale, not a contradiction
    assert go(build_engine(tree, LOCALES), "es", "fear").text.startswith(NOTICE_ES)


def test_language_without_its_main_menu_is_not_offered(tree: Path) -> None:
    (tree / "es/start.md").unlink()
    engine = build_engine(tree, LOCALES)
    assert engine.new_state("es-MX").lang == "en"
    _, picker = engine.step(State(lang="en"), actions.PickLanguage())
    assert "Español" not in labels(picker)
    state, screen = engine.step(State(lang="es", node="fear"), actions.Show())
    assert state.lang == "en" and "<b>Are you afraid?</b>" in screen.text


# -- the .po round trip -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_tree(CONTENT, tmp_path_factory.mktemp("real") / "content")


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_export_then_import_changes_nothing(real: Path, tmp_path: Path, lang: str) -> None:
    root = copy_tree(real, tmp_path / "content")
    po = tmp_path / f"{lang}.po"
    result = kyr("translate", "export", lang, "--content", str(root), "-o", str(po))
    assert result.returncode == 0, result.stderr
    with po.open("rb") as fh:
        catalog = read_po(fh, abort_invalid=True)
    source = load_tree(root)[0].languages["en"]
    contexts = {m.context for m in catalog if m.id}
    assert {f"{n}|title" for n in source.nodes} <= contexts
    assert {f"{n.id}|->{c.target}" for n in source.nodes.values() for c in n.choices} <= contexts
    assert all(m.string and not m.fuzzy for m in catalog if m.id)  # es and fr are complete
    result = kyr("translate", "import", str(po), "--content", str(root))
    assert result.returncode == 0, result.stderr
    compared = filecmp.dircmp(real / lang, root / lang)
    assert compared.diff_files == [] and compared.left_only == [] and compared.right_only == []


def test_english_exports_as_an_empty_template_and_cannot_be_imported(real: Path, tmp_path: Path) -> None:
    loaded, _ = load_tree(real)
    catalog = export(loaded, "en")
    entries = [m for m in catalog if m.id]
    assert entries and all(m.string == "" for m in entries)
    po = tmp_path / "en.po"
    write_catalog(catalog, po)
    with pytest.raises(TranslateError) as caught:
        import_po(po, real, LOCALES)
    assert caught.value.problems[0].code == "E-PO-LANGUAGE"


def test_stale_step_exports_fuzzy_with_the_previous_english(tree: Path, tmp_path: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "version: 1", "version: 2")
    edit(en, "Tell the judge why.", "Tell the judge why,\nin your own words.")
    loaded, _ = load_tree(tree)
    po = tmp_path / "es.po"
    write_catalog(export(loaded, "es"), po)
    text = po.read_text()
    assert ('#, fuzzy\n#| msgid "Tell the judge why."\nmsgctxt "fear-yes|body"\n'
            'msgid ""\n"Tell the judge why,\\n"\n"in your own words."\nmsgstr "Explíquele al juez por qué."'
            in text)
    assert text.count("#, fuzzy") == 1  # the title and other steps did not change
    with po.open("rb") as fh:
        read_po(fh, abort_invalid=True)


def set_translation(po: Path, context: str, text: str) -> None:
    with po.open("rb") as fh:
        catalog = read_po(fh)
    for message in catalog:
        if message.context == context:
            message.string = text
            message.flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, width=0)


@pytest.mark.parametrize(
    ("context", "text", "code"),
    [("fear|body", "Primera línea.\n-> [Otro](start)", "E-PO-STRUCTURE"),
     ("fear|body", "Texto con <script> roto.", "E-PO-HTML"),
     ("fear|->fear-yes", "Sí]", "E-PO-LABEL"),
     ("fear|title", "Dos\nlíneas", "E-PO-NEWLINE")],
)
def test_import_refuses_a_file_that_would_break_the_tree(tree: Path, tmp_path: Path, context: str,
                                                         text: str, code: str) -> None:
    po = tmp_path / "es.po"
    write_catalog(export(load_tree(tree)[0], "es"), po)
    set_translation(po, context, text)
    before = {p.name: p.read_bytes() for p in (tree / "es").iterdir()}
    result = kyr("translate", "import", str(po), "--content", str(tree))
    assert result.returncode == 1
    line = line_of(po, f'msgctxt "{context}"') + 1  # Babel counts from the msgid line
    assert result.stderr.startswith(f"error: {po}:{line}: "), result.stderr
    assert "nothing was imported" in result.stderr
    assert {p.name: p.read_bytes() for p in (tree / "es").iterdir()} == before


def test_import_refuses_an_entry_english_does_not_have(tree: Path, tmp_path: Path) -> None:
    po = tmp_path / "es.po"
    write_catalog(export(load_tree(tree)[0], "es"), po)
    po.write_text(po.read_text().replace('msgctxt "grounds|title"', 'msgctxt "grounds-old|title"'))
    result = kyr("translate", "import", str(po), "--content", str(tree))
    line = line_of(po, 'msgctxt "grounds-old|title"') + 1
    assert result.returncode == 1
    assert f"error: {po}:{line}: 'grounds-old|title' is not in the English content" in result.stderr


# -- the two flows the README describes -------------------------------------------------------

NEW_TOPIC = """---
title: Work permit
version: 1
reviewed:
reviewer:
sources:
  - 8 C.F.R. 208.7
---

## wp-start | Can I work while my asylum case is pending?

You may ask for a work permit some time after you apply for asylum. Ask a lawyer about the
waiting time in your case.

-> [Back to the main menu](start)
"""


def add_choice(path: Path, line: str) -> None:
    """Add a choice after the last choice in a file (start.md has one step)."""
    lines = path.read_text().split("\n")
    last = max(i for i, text in enumerate(lines) if text.startswith("-> "))
    path.write_text("\n".join([*lines[:last + 1], line, *lines[last + 1:]]))


def raise_version(path: Path) -> int:
    """Raise a file's 'version' by one, as a maintainer does; return the new version."""
    text = path.read_text()
    old = int(re.search(r"^version: (\d+)$", text, re.M).group(1))  # type: ignore[union-attr]
    path.write_text(text.replace(f"version: {old}\n", f"version: {old + 1}\n", 1))
    return old + 1


def test_legal_aid_flow_new_english_topic_served_in_spanish_then_translated(
        real: Path, tmp_path: Path) -> None:
    root = copy_tree(real, tmp_path / "content")
    # 1. Legal-aid staff add an English topic and link it from the main menu.
    (root / "en/work-permit.md").write_text(NEW_TOPIC)
    add_choice(root / "en/start.md", "-> [Work permit](wp-start)")
    raise_version(root / "en/start.md")
    # 2. The check passes: the missing Spanish and French are warnings, not errors.
    result = kyr("check", "--content", str(root), "--verbose")
    assert result.returncode == 0, result.stdout
    assert f"warning: {root / 'es/work-permit.md'}: es has no work-permit.md yet" in result.stdout
    es_start = f"{root / 'es/start.md'}:{line_of(root / 'es/start.md', '## start')}"
    assert (f"warning: {es_start}: step 'start' changed in en since it was translated; its users "
            "still see this translation") in result.stdout
    assert "    button wp-start: added 'Work permit'" in result.stdout
    # 3. A Spanish user sees the new topic the same day, in English, with a notice in Spanish.
    engine = build_engine(root, LOCALES)
    menu = go(engine, "es")
    choices = len(load_tree(root)[0].languages["es"].nodes["start"].choices)
    assert labels(menu)[choices] == "Work permit" and not menu.text.startswith(NOTICE_ES)
    topic = go(engine, "es", "wp-start")
    assert topic.text.startswith(NOTICE_ES + "\n\n<b>Can I work while my asylum case is pending?</b>")
    # 4. A translator adds the Spanish file and the menu choice, then marks them done.
    (root / "es/work-permit.md").write_text(
        NEW_TOPIC.replace("version: 1\n", "version: 1\ntranslated-from: 1\n")
        .replace("Work permit", "Permiso de trabajo")
        .replace("Can I work while my asylum case is pending?",
                 "¿Puedo trabajar mientras espero mi caso de asilo?")
        .replace("You may ask for a work permit some time after you apply for asylum. Ask a lawyer "
                 "about the\nwaiting time in your case.",
                 "Puede pedir un permiso de trabajo un tiempo después de pedir asilo. Pregunte a un "
                 "abogado cuánto\ntiene que esperar en su caso.")
        .replace("Back to the main menu", "Volver al menú principal"))
    add_choice(root / "es/start.md", "-> [Permiso de trabajo](wp-start)")
    done = kyr("translate", "done", "es", "work-permit", "start", "--content", str(root))
    assert done.returncode == 0, done.stderr
    # 5. The notice is gone and the check no longer lists Spanish.
    engine = build_engine(root, LOCALES)
    assert "Permiso de trabajo" in labels(go(engine, "es"))
    topic = go(engine, "es", "wp-start")
    assert topic.text.startswith("<b>¿Puedo trabajar mientras espero mi caso de asilo?</b>")
    result = kyr("check", "--content", str(root), "--verbose")
    assert result.returncode == 0
    assert "/es/" not in "\n".join(line for line in result.stdout.splitlines()
                                   if "legal review" not in line and "phones" not in line)


def test_translator_flow_export_translate_import_check(real: Path, tmp_path: Path) -> None:
    root = copy_tree(real, tmp_path / "content")
    # English changes one step and raises the file's version.
    en = root / "en/find-help.md"
    edit(en, "What do you need?", "What do you need today?")
    version = raise_version(en)
    check = kyr("check", "--content", str(root), "--verbose")
    es = root / "es/find-help.md"
    assert (f"warning: {es}:{line_of(es, '## fh-start')}: step 'fh-start' changed in en since it "
            "was translated") in check.stdout
    assert "      +What do you need today?" in check.stdout
    # 1. Export: the one changed entry is fuzzy, with the English before.
    po = tmp_path / "es.po"
    assert kyr("translate", "export", "es", "--content", str(root), "-o", str(po)).returncode == 0
    with po.open("rb") as fh:
        fuzzy = [m for m in read_po(fh) if m.fuzzy]
    assert [m.context for m in fuzzy] == ["fh-start|body"]
    # 2. Translate in the .po, as Poedit would save it.
    set_translation(po, "fh-start|body", fuzzy[0].string.replace("¿Qué necesita?",
                                                                 "¿Qué necesita hoy?"))
    # 3. Import and check.
    result = kyr("translate", "import", str(po), "--content", str(root))
    assert result.returncode == 0, result.stderr
    assert "¿Qué necesita hoy?" in es.read_text()
    assert f"translated-from: {version}" in es.read_text()
    check = kyr("check", "--content", str(root))
    assert check.returncode == 0
    assert "es: interface 100%, content 100%" in check.stdout and "0 out of date" in check.stdout
    verbose = kyr("check", "--content", str(root), "--verbose").stdout
    stale = [line for line in verbose.splitlines() if "changed in en since" in line]
    assert len(stale) == 1 and f"{root / 'fr/find-help.md'}:" in stale[0]  # es has none left


async def test_telegram_user_gets_the_new_english_topic_with_the_notice(
        fake_telegram: FakeTelegram, real: Path, tmp_path: Path) -> None:
    root = copy_tree(real, tmp_path / "content")
    (root / "en/work-permit.md").write_text(NEW_TOPIC)
    add_choice(root / "en/start.md", "-> [Work permit](wp-start)")
    raise_version(root / "en/start.md")
    settings = bot_settings(fake_telegram, tmp_path / "data", CONTENT_DIR=str(root))
    async with running(settings):
        user = fake_telegram.user(7001, language_code="es")
        user.send_text("/start")
        (menu,) = await user.wait_reply()
        assert "Work permit" in menu.buttons and "🌐 Idioma" in menu.buttons
        user.press("Work permit")
        (reply,) = await user.wait_reply()
        assert reply.plain.startswith("Esta parte todavía no está traducida a su idioma, por eso "
                                      "aparece en inglés.\n\nCan I work while my asylum case is "
                                      "pending?")
        assert "🏠 Menú principal" in reply.buttons


def test_import_refuses_a_translation_telegram_could_not_send(tree: Path, tmp_path: Path) -> None:
    po = tmp_path / "es.po"
    write_catalog(export(load_tree(tree)[0], "es"), po)
    set_translation(po, "fear-yes|body", "Explíquele al juez por qué. " * 200)
    before = (tree / "es/topic.md").read_bytes()
    result = kyr("translate", "import", str(po), "--content", str(tree))
    assert result.returncode == 1
    line = line_of(po, 'msgctxt "fear-yes|body"') + 1
    assert result.stderr.startswith(f"error: {po}:{line}: after import, step 'fear-yes': step "
                                    "'fear-yes' is "), result.stderr
    assert "Telegram allows 4096" in result.stderr
    assert (tree / "es/topic.md").read_bytes() == before


def test_language_copied_from_english_is_not_offered(tree: Path, tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    assert kyr("catalogs", "add", "pt", "--locales", str(locales)).returncode == 0
    (tree / "pt").mkdir()
    for source in (tree / "en").glob("*.md"):
        text = source.read_text()
        (tree / "pt" / source.name).write_text(text.replace("---\n", "---\ntranslated-from: 2\n", 1)
                                               if source.name == "start.md" else
                                               text.replace("---\n", "---\ntranslated-from: 1\n", 1))
    report = check_content(tree, locales)
    assert report.errors == []
    assert any(line.startswith("pt:") and "content 0%" in line and "not offered" in line
               for line in report.summary), report.summary
    hidden = [p for p in report.warnings if p.code == "W-LANGUAGE-HIDDEN"]
    assert [p.where for p in hidden] == [str(tree / "pt")]
    assert "its 'start' step (the main menu) is not translated yet" in hidden[0].message
    engine = build_engine(tree, locales)
    assert engine.new_state("pt-BR").lang == "en"
    assert "pt" not in engine.tree.languages


def test_new_language_started_from_a_po_file(tree: Path, tmp_path: Path) -> None:
    po = tmp_path / "pt.po"
    assert kyr("translate", "export", "pt", "--content", str(tree), "-o", str(po)).returncode == 0
    for context, text in {"start.md": "Menu", "start|title": "Bem-vindo",
                          "start|body": "Um guia de **teste**.", "start|->fear": "Medo",
                          "start|->grounds": "Os motivos"}.items():
        set_translation(po, context, text)
    result = kyr("translate", "import", str(po), "--content", str(tree))
    assert result.returncode == 0, result.stderr
    assert "1 step(s) recorded as translated" in result.stdout
    assert (tree / "pt/start.md").read_text() == (
        "---\ntitle: Menu\nversion: 2\nreviewed:\nreviewer:\nsources:\n  - Test source\n"
        "translated-from: 2\n---\n\n## start | Bem-vindo\n\nUm guia de **teste**.\n\n"
        "-> [Medo](fear)\n-> [Os motivos](grounds)\n")
    report = check_content(tree, LOCALES)
    assert report.errors == []
    hidden = [p.message for p in report.warnings if p.code == "W-LANGUAGE-HIDDEN"]
    assert hidden == ["pt is not offered to users: it has no interface catalog (run 'kyr-bot "
                      "catalogs add pt')"]

"""Each checker finding a non-programmer may meet: one broken fixture, its exact path:line and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import translated_from
from bot.content.checks import check_content, report_lines
from bot.content.loader import load_tree
from helpers import LOCALES, MINI, copy_tree, edit, line_of
from test_cli import kyr


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_tree(MINI, tmp_path / "content")


def findings(root: Path) -> list[tuple[str, str, str]]:
    """(severity, path:line, code) of every problem."""
    return [(p.severity, p.where, p.code) for p in check_content(root, LOCALES).problems]


def errors(root: Path) -> list[tuple[str, str]]:
    return [(p.where, p.code) for p in check_content(root, LOCALES).errors]


def test_utf8_bom_and_windows_line_endings_are_read(tree: Path) -> None:
    f = tree / "en/topic.md"
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes().replace(b"\n", b"\r\n"))
    s = tree / "es/start.md"
    s.write_bytes(b"\xef\xbb\xbf" + s.read_bytes())
    assert errors(tree) == []
    node = load_tree(tree)[0].node("en", "fear")
    assert node is not None and "\r" not in node.body and node.line == 11


def test_heading_with_one_hash_is_one_error(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "## fear-no | Not afraid", "# fear-no | Not afraid")
    line = line_of(f, "# fear-no")
    assert errors(tree) == [(f"{f}:{line}", "E-HEADING-ONE-HASH")]
    (problem,) = check_content(tree, LOCALES).errors
    assert "'## step-id | Title'" in problem.hint


def test_heading_without_title(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "## fear-no | Not afraid", "## fear-no")
    line = line_of(f, "## fear-no")
    assert errors(tree) == [(f"{f}:{line}", "E-HEADING-NO-TITLE")]
    assert "'## fear-no | Title'" in check_content(tree, LOCALES).errors[0].hint


@pytest.mark.parametrize(("url", "hint"), [("www.example.org", "https://"),
                                            ("fear-no", "use a choice"),
                                            ("javascript:alert(1)", "https://")])
def test_link_that_is_not_web_phone_or_telegram(tree: Path, url: str, hint: str) -> None:
    f = tree / "en/topic.md"
    edit(f, "- Ask for an interpreter.", f"- Ask for an [interpreter]({url}).")
    line = line_of(f, "[interpreter]")
    assert errors(tree) == [(f"{f}:{line}", "E-LINK-SCHEME")]
    assert hint in check_content(tree, LOCALES).errors[0].hint


def test_phone_and_telegram_links_are_fine(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "- Ask for an interpreter.", "- Call [the line](tel:+18002345678) or [us](tg://resolve?domain=x).")
    assert errors(tree) == []


def test_unknown_fact_key_is_one_error_not_three(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=unsure", "fact: feer=unsure")
    # es still says fear=unsure: no follow-on error telling es to copy the typo.
    assert errors(tree) == [(f"{f}:{line_of(f, 'feer')}", "E-FACT-KEY")]
    assert "fear" in check_content(tree, LOCALES).errors[0].hint


def test_unknown_fact_value_and_wrong_operator(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=yes", "fact: fear=yess")
    edit(f, "fact: ground+=race", "fact: ground=race")
    assert errors(tree) == [(f"{f}:{line_of(f, 'fear=yess')}", "E-FACT-VALUE"),
                            (f"{f}:{line_of(f, 'ground=race')}", "E-FACT-OP")]


def test_button_label_phones_will_cut_is_a_warning(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "-> [See the grounds](grounds)",
         "-> [See the five grounds the law protects, one by one](grounds)")
    assert ("warning", f"{f}:{line_of(f, 'five grounds')}", "W-BUTTON-LONG") in findings(tree)
    assert errors(tree) == []


def test_translation_contradicting_english_is_an_error(tree: Path) -> None:
    f = tree / "es/topic.md"
    edit(f, "-> [Ver los motivos](grounds)", "-> [Volver](fear)")
    assert errors(tree) == [(f"{f}:{line_of(f, '## fear-no')}", "E-CHOICES-DIFFER")]


def test_missing_step_is_a_warning_served_in_english(tree: Path) -> None:
    f = tree / "es/topic.md"
    edit(f, "## grounds |", "## gone |")
    f.write_text(f.read_text().split("## gone |")[0])
    assert errors(tree) == []
    assert ("warning", str(f), "W-STEP-UNTRANSLATED") in findings(tree)


def test_choice_english_added_is_a_warning(tree: Path) -> None:
    en = tree / "en/topic.md"
    edit(en, "-> [No](fear-no)", "-> [No](fear-no)\n-> [The grounds](grounds)")
    edit(en, "version: 1", "version: 2")
    es = tree / "es/topic.md"
    assert errors(tree) == []
    assert ("warning", f"{es}:{line_of(es, '## fear |')}", "W-CHOICE-UNTRANSLATED") in findings(tree)


def test_step_identical_to_english_counts_as_untranslated(tree: Path) -> None:
    es = tree / "es/topic.md"
    edit(es, "## fear-yes | Dígaselo al juez", "## fear-yes | Say it to the judge")
    edit(es, "Explíquele al juez por qué.", "Tell the judge why.")
    assert ("warning", f"{es}:{line_of(es, '## fear-yes')}", "W-STEP-SAME-AS-SOURCE") in findings(tree)
    summary = check_content(tree, LOCALES).summary
    assert any(line.startswith("es:") and "content 80%" in line for line in summary), summary


def mark_all_done(root: Path, lang: str = "es") -> None:
    tree, _ = load_tree(root)
    translated_from.mark_done(root, tree, lang, list(tree.languages[lang].nodes))


def test_stale_step_named_with_english_before_and_after(tree: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "Tell the judge why.", "Tell the judge why, in your own words.")
    edit(en, "version: 1", "version: 2")
    es = tree / "es/topic.md"
    report = check_content(tree, LOCALES)
    (stale,) = [p for p in report.warnings if p.code == "W-STALE-STEP"]
    assert stale.where == f"{es}:{line_of(es, '## fear-yes')}"
    assert "'fear-yes'" in stale.message and "still see this translation" in stale.message
    assert stale.detail == ("body:", "  -Tell the judge why.", "  +Tell the judge why, in your own words.")
    assert not [p for p in report.warnings if p.code == "W-VERSION-NOT-RAISED"]
    assert any(line.startswith("es:") and "1 out of date" in line for line in report.summary)


def test_english_edit_without_version_bump_is_caught(tree: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "Tell the judge why.", "Tell the judge why, in your own words.")
    assert ("warning", f"{en}:3", "W-VERSION-NOT-RAISED") in findings(tree)


def test_legal_change_is_named_as_such(tree: Path) -> None:
    mark_all_done(tree)
    en = tree / "en/topic.md"
    edit(en, "Tell the judge why.", "Tell the judge why. New rule: say it at the first hearing.")
    edit(en, "version: 1", "version: 2")
    edit(en, "end: yes\n\nTell the judge", "end: yes\nlegal-change: 2\n\nTell the judge")
    es = tree / "es/topic.md"
    report = check_content(tree, LOCALES)
    (legal,) = [p for p in report.warnings if p.code == "W-STALE-LEGAL"]
    assert legal.where == f"{es}:{line_of(es, '## fear-yes')}"
    assert "see the English step until it is updated" in legal.message


def test_bad_legal_change_value(tree: Path) -> None:
    en = tree / "en/topic.md"
    edit(en, "end: yes\n\nTell the judge", "end: yes\nlegal-change: soon\n\nTell the judge")
    assert errors(tree) == [(f"{en}:{line_of(en, 'legal-change')}", "E-LEGAL-CHANGE")]


def test_language_without_translated_main_menu_is_not_offered(tree: Path) -> None:
    (tree / "es/start.md").unlink()
    assert errors(tree) == []
    assert ("warning", str(tree / "es"), "W-LANGUAGE-HIDDEN") in findings(tree)


def test_check_prints_errors_first_then_grouped_warnings(tree: Path) -> None:
    en = tree / "en/topic.md"
    edit(en, "fact: fear=yes", "fact: fear=yess")
    for lang in ("en", "es"):
        edit(tree / f"{lang}/start.md", "sources:", "review: needed\nsources:")
    lines = report_lines(check_content(tree, LOCALES))
    assert lines == [
        f"error: {en}:{line_of(en, 'fear=yess')}: unknown value 'yess' for fact 'fear' "
        "(use one of: yes, no, unsure)",
        f"warning: 4 files need legal review: {tree / 'en/start.md'}, {en}, "
        f"{tree / 'es/start.md'}, {tree / 'es/topic.md'} (kyr-bot check --verbose shows each)",
    ]
    verbose = report_lines(check_content(tree, LOCALES), verbose=True)
    assert verbose[0] == lines[0]
    assert [line.split(": ")[1] for line in verbose[1:]] == [
        f"{tree / 'en/start.md'}:1", f"{en}:1", f"{tree / 'es/start.md'}:1", f"{tree / 'es/topic.md'}:1"]


def test_check_command_verbose_flag(tree: Path) -> None:
    for lang in ("en", "es"):
        edit(tree / f"{lang}/start.md", "sources:", "review: needed\nsources:")
    short = kyr("check", "--content", str(tree))
    assert short.returncode == 0
    assert "warning: 4 files need legal review:" in short.stdout
    full = kyr("check", "--content", str(tree), "--verbose")
    assert full.stdout.count("needs legal review") == 4


def test_unreadable_english_fact_gives_no_follow_on_error_in_translations(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=unsure", "fact: fear is unsure")
    assert errors(tree) == [(f"{f}:{line_of(f, 'fear is unsure')}", "E-FACT-SYNTAX")]

"""The loader and checker: valid content passes; each kind of breakage is reported at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.checks import check_content
from helpers import LOCALES, MINI, copy_tree, edit, line_of


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_tree(MINI, tmp_path / "content")


def problems_at(root: Path) -> list[str]:
    return [str(p) for p in check_content(root, LOCALES).problems]


def assert_reported(root: Path, path: Path, line: int, fragment: str, *, error: bool = True) -> None:
    report = check_content(root, LOCALES)
    pool = report.errors if error else report.warnings
    where = f"{path}:{line}:" if line else f"{path}:"
    matches = [str(p) for p in pool if str(p).startswith(where) and fragment in p.message]
    assert matches, f"expected {where} ...{fragment}... in:\n" + "\n".join(map(str, report.problems))


def test_valid_fixture_has_no_errors(tree: Path) -> None:
    report = check_content(tree, LOCALES)
    assert report.errors == []
    assert {p.path for p in report.warnings} == {str(tree / "en/topic.md"), str(tree / "es/topic.md")}
    assert all("needs legal review" in p.message for p in report.warnings)


def test_real_content_has_no_errors() -> None:
    from helpers import CONTENT

    report = check_content(CONTENT, LOCALES)
    assert [str(p) for p in report.errors] == []
    assert set(report.tree.codes) >= {"en", "es", "fr"}


def test_missing_front_matter(tree: Path) -> None:
    f = tree / "en/topic.md"
    f.write_text(f.read_text().split("---\n", 2)[2])
    assert_reported(tree, f, 1, "must start with a front matter block")


def test_unclosed_front_matter(tree: Path) -> None:
    f = tree / "en/topic.md"
    text = f.read_text()
    f.write_text("---\ntitle: x\nversion: 1\n" + text.split("---\n", 2)[2])
    assert_reported(tree, f, 1, "never closed")


def test_bad_front_matter_line_and_version(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "version: 1", "version: one")
    edit(f, "reviewer:", "this line has no colon\nreviewer:")
    assert_reported(tree, f, 3, "'version' must be a whole number")
    assert_reported(tree, f, 5, "cannot read front matter line")


def test_missing_title_and_bad_date(tree: Path) -> None:
    f = tree / "en/start.md"
    edit(f, "title: Main menu\n", "")
    edit(f, "reviewed: 2026-11-01", "reviewed: last week")
    assert_reported(tree, f, 1, "has no 'title'")
    assert_reported(tree, f, line_of(f, "reviewed:"), "must be a date")


def test_duplicate_ids(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "## fear-no | Not afraid", "## fear-yes | Not afraid")
    assert_reported(tree, f, line_of(f, "## fear-yes", 2), "'fear-yes' is used twice")


def test_choice_to_missing_node(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "-> [No](fear-no)", "-> [No](fear-nope)")
    assert_reported(tree, f, line_of(f, "fear-nope"), "points at 'fear-nope', which does not exist")


def test_unreachable_node(tree: Path) -> None:
    f = tree / "en/topic.md"
    f.write_text(f.read_text() + "\n## orphan | Nobody links here\n\nText.\nend: yes\n")
    assert_reported(tree, f, line_of(f, "## orphan"), "cannot be reached from 'start'")


def test_dead_end(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=yes\nend: yes", "fact: fear=yes")
    assert_reported(tree, f, line_of(f, "## fear-yes"), "dead end")


def test_language_missing_file_and_node_and_extra(tree: Path) -> None:
    (tree / "es/topic.md").unlink()
    es_start = tree / "es/start.md"
    es_start.write_text(es_start.read_text() + "\n## extra | Extra\n\nTexto.\nend: yes\n")
    assert_reported(tree, tree / "es/topic.md", 0, "es has no topic.md yet: its 4 steps are shown "
                    "in English", error=False)
    assert_reported(tree, es_start, line_of(es_start, "## extra"), "'extra' does not exist in en")
    # The missing file is English-first: its steps are served in English, not an error.
    assert [p.code for p in check_content(tree, LOCALES).errors] == ["E-STEP-EXTRA"]


def test_language_missing_node(tree: Path) -> None:
    f = tree / "es/topic.md"
    text = f.read_text()
    head, _sep, _rest = text.partition("## grounds |")
    f.write_text(head)
    report = problems_at(tree)
    assert any(p.startswith(f"{f}: warning: step 'grounds' is missing") for p in report), report
    assert check_content(tree, LOCALES).errors == []


def test_extra_file_in_translation(tree: Path) -> None:
    extra = tree / "es/extra.md"
    extra.write_text("---\ntitle: x\nversion: 1\ntranslated-from: 1\n---\n\n## x | X\n\nend: yes\n")
    assert_reported(tree, extra, 0, "extra.md has no en original")


def test_choices_differ_between_languages(tree: Path) -> None:
    f = tree / "es/topic.md"
    edit(f, "-> [Sí](fear-yes)\n-> [No](fear-no)", "-> [No](fear-no)\n-> [Sí](fear-yes)")
    assert_reported(tree, f, line_of(f, "## fear |"), "step 'fear' has its choices in another order")


def test_facts_differ_between_languages(tree: Path) -> None:
    f = tree / "es/topic.md"
    edit(f, "fact: fear=yes", "fact: fear=si")
    assert_reported(tree, f, line_of(f, "## fear-yes"), "facts of 'fear-yes' differ")


def test_stale_translation_is_a_warning(tree: Path) -> None:
    f = tree / "es/start.md"
    edit(f, "translated-from: 2", "translated-from: 1")
    assert_reported(tree, f, 1, "out of date with en: translated from version 1, en is at 2", error=False)
    assert check_content(tree, LOCALES).errors == []


def test_translation_without_source_version(tree: Path) -> None:
    f = tree / "es/start.md"
    edit(f, "translated-from: 2\n", "")
    assert_reported(tree, f, 1, "must say which English version")


def test_text_over_telegram_limit(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "Tell the judge why.", "Tell the judge why. " * 230)
    assert_reported(tree, f, line_of(f, "## fear-yes"), "characters long; Telegram allows 4096")


def test_button_label_over_64(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "-> [Yes](fear-yes)", f"-> [{'Y' * 65}](fear-yes)")
    assert_reported(tree, f, line_of(f, "YYYY"), "button text is 65 characters")


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("Ask for an <interpreter>.", "tag <interpreter> is not allowed"),
        ("Ages < 18 are not shown.", "a '<' that does not start a tag"),
        ("Legal aid & you.", "a bare '&'"),
        ("This is <b>bold.", "<b> is never closed"),
        ("This is <b>bold</i>.", "closes a tag that is not open"),
        ('See <a href="x" onclick="y">this</a>.', "attribute 'onclick' is not allowed"),
    ],
)
def test_html_telegram_would_reject(tree: Path, bad: str, fragment: str) -> None:
    f = tree / "en/topic.md"
    edit(f, "- Ask for an interpreter.", "- " + bad)
    assert_reported(tree, f, line_of(f, bad[:12]), fragment)


def test_html_error_on_a_later_line_of_a_paragraph(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "You can tell the judge you are *afraid*.", "First line,\nsecond line,\nthird & last.")
    assert_reported(tree, f, line_of(f, "third & last"), "a bare '&'")


def test_bold_split_across_lines(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "You can tell the judge you are *afraid*.", "You can **tell the\njudge** you are afraid.")
    assert_reported(tree, f, line_of(f, "You can **tell"), "'**' is not closed on this line")


def test_escaped_entities_and_link_ampersands_are_fine(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "Tell the judge why.", "Ages &lt; 18 &amp; more, see [x](https://a.org/?a=1&b=2).")
    assert check_content(tree, LOCALES).errors == []


def test_malformed_heading_choice_and_fact(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "## fear-no | Not afraid", "## Fear No")
    edit(f, "-> [See the grounds](grounds)", "-> See the grounds (grounds)")
    edit(f, "fact: fear=unsure", "fact: fear is unsure")
    assert_reported(tree, f, line_of(f, "## Fear No"), "step heading '## Fear No' has no '| Title'")
    assert_reported(tree, f, line_of(f, "## Fear No"), "step id 'Fear No' is not valid")
    assert_reported(tree, f, line_of(f, "-> See the grounds"), "cannot read choice")
    assert_reported(tree, f, line_of(f, "fact: fear is unsure"), "cannot read fact")


def test_every_problem_is_reported_not_just_the_first(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "-> [No](fear-no)", "-> [No](nowhere)")
    edit(f, "Tell the judge why.", "Tell the judge <why>.")
    edit(tree / "es/topic.md", "-> [Sí](fear-yes)\n", "-> [Otro](start)\n")
    report = check_content(tree, LOCALES)
    messages = " | ".join(p.message for p in report.errors)
    assert "nowhere" in messages and "<why>" in messages
    assert "step 'fear' has a choice to 'start', which en does not have" not in messages


def test_missing_start_and_missing_source_language(tmp_path: Path) -> None:
    root = copy_tree(MINI, tmp_path / "content")
    (root / "en/start.md").unlink()
    (root / "es/start.md").unlink()
    assert any("there is no 'start' step in en" in p for p in problems_at(root))
    other = copy_tree(MINI / "es", tmp_path / "only-es" / "es").parent
    assert any("there is no 'en' folder" in p for p in problems_at(other))


def test_unreadable_file_is_reported(tree: Path) -> None:
    f = tree / "en/topic.md"
    f.write_bytes(b"\xff\xfe\x00bad")
    assert_reported(tree, f, 0, "cannot read the file")

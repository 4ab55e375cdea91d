"""Legal review records: expiry in the checker, the sign-off, the packet, and what people see."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from markupsafe import escape

from bot.app import build_engine
from bot.cli import main
from bot.content.checks import check_content
from bot.content.telegram_html import validate_html
from bot.conversation import actions as a
from bot.conversation.screen import Effect
from bot.conversation.state import State
from bot.review.legal_facts import read_fact_rows, rows_for_source
from bot.review.signoff import SignError, sign_topic
from helpers import CONTENT, LOCALES, MINI, copy_tree, edit

DAY = date(2026, 11, 29)
FACTS_MD = "\n".join((
    "# Legal facts", "", "## 2. At the hearing", "",
    "| fact | source | status |",
    "| --- | --- | --- |",
    "| Withholding and CAT are decided country by country. | INA 241(b)(3); 8 C.F.R. 1208.16-1208.18;"
    " *Matter of A-S-M-* | seen (A-S-M-); regulations to verify |",
    "| Something unrelated. | INA 999 | seen |", "",
))

def _review_problems(root: Path, today: date) -> list[str]:
    report = check_content(root, LOCALES, today=today)
    return [f"{p.severity}: {p.message}" for p in report.problems if "the legal review" in p.message]


def test_sign_changes_only_the_review_lines_byte_for_byte(tmp_path: Path) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    fr = root / "fr" / "third-country.md"
    # One translation with Windows line endings and no 'reviewer' line at all: both must survive.
    crlf = b"".join(line for line in fr.read_bytes().splitlines(keepends=True)
                    if not line.startswith(b"reviewer:")).replace(b"\n", b"\r\n")
    fr.write_bytes(crlf)
    before[fr] = crlf

    changed = sign_topic(root, "third-country", "A. Lawyer, Example Legal Aid", DAY)

    assert sorted(changed) == sorted(root / lang / "third-country.md" for lang in ("en", "es", "fr"))
    for path, old in before.items():
        new = path.read_bytes()
        if path not in changed:
            assert new == old, path
            continue
        nl = b"\r\n" if path == fr else b"\n"
        assert b"review: needed" + nl in old, path
        expected = old.replace(b"reviewed:" + nl, b"reviewed: 2026-11-29" + nl, 1)
        expected = expected.replace(b"review: needed" + nl, b"review: done" + nl, 1)
        if path == fr:
            end = expected.index(b"---\r\n", 5)
            expected = expected[:end] + b"reviewer: A. Lawyer, Example Legal Aid\r\n" + expected[end:]
        else:
            expected = expected.replace(b"reviewer:\n", b"reviewer: A. Lawyer, Example Legal Aid\n", 1)
        assert new == expected, path
    assert not list(root.rglob("*.signing"))
    # The signature is the confirmation 'review: needed' asked for: the checker stops asking.
    flagged = {Path(p.path).name for p in check_content(root, LOCALES, today=DAY).problems
               if p.code == "W-REVIEW-NEEDED"}
    assert "third-country.md" not in flagged and "detention.md" in flagged


def test_sign_replaces_an_old_expiry_and_refuses_bad_input_without_writing(tmp_path: Path) -> None:
    root = copy_tree(MINI, tmp_path / "content")
    edit(root / "es" / "topic.md", "reviewer:\n", "reviewer: Old\nreview-by: 2020-01-01\n")
    sign_topic(root, "topic", "B. Abogada, Ayuda Legal", DAY, review_by=date(2027, 6, 1))
    text = (root / "es" / "topic.md").read_text()
    assert "review-by: 2027-06-01\n" in text and "2020-01-01" not in text
    assert "review-by" in (root / "en" / "topic.md").read_text()  # given explicitly: set everywhere

    snapshot = {p: p.read_bytes() for p in root.rglob("*.md")}
    with pytest.raises(SignError, match="no topic 'nope'"):
        sign_topic(root, "nope", "X", DAY)
    with pytest.raises(SignError, match="one line"):
        sign_topic(root, "topic", "A\nB", DAY)
    (root / "es" / "topic.md").write_text("no front matter\n")
    snapshot[root / "es" / "topic.md"] = b"no front matter\n"
    with pytest.raises(SignError, match="front matter"):
        sign_topic(root, "topic", "C. Lawyer", DAY)
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == snapshot  # en untouched too


def test_checker_warns_before_and_errors_after_review_by(tmp_path: Path) -> None:
    root = copy_tree(MINI, tmp_path / "content")
    sign_topic(root, "topic", "A. Lawyer, Legal Aid", date(2026, 1, 10), review_by=date(2026, 12, 15))
    assert _review_problems(root, date(2026, 11, 1)) == []
    soon = _review_problems(root, date(2026, 12, 1))
    assert soon and all(p.startswith("warning: the legal review expires on 2026-12-15, in 14 day")
                        for p in soon)
    late = _review_problems(root, date(2026, 12, 16))
    assert len(late) == 2 and all(p.startswith("error: the legal review expired on 2026-12-15")
                                  for p in late)
    assert check_content(root, LOCALES, today=date(2026, 12, 16)).errors

    # Without review-by the organisation's period applies; expiry may be only a warning.
    sign_topic(root, "topic", "A. Lawyer, Legal Aid", date(2026, 1, 10))
    (root / "review.toml").write_text('period-days = 100\nwarn-days = 5\nexpired = "warning"\n')
    assert _review_problems(root, date(2026, 4, 14)) == []
    assert all(p.startswith("warning: the legal review expires on 2026-04-20")
               for p in _review_problems(root, date(2026, 4, 17)))
    assert all(p.startswith("warning: the legal review expired on 2026-04-20")
               for p in _review_problems(root, date(2026, 4, 21)))
    (root / "review.toml").write_text('expired = "never"\n')
    assert any("'expired' must be" in p.message
               for p in check_content(root, LOCALES, today=DAY).errors)


def test_checker_lists_what_a_reviewer_must_look_at_first(tmp_path: Path) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    sign_topic(root, "start", "A. Lawyer, Legal Aid", date(2025, 1, 1))
    sign_topic(root, "find-help", "A. Lawyer, Legal Aid", DAY)
    queue = check_content(root, LOCALES, today=DAY).review_first
    assert queue[0].startswith("start (") and "review expired on 2026-01-01" in queue[0]
    flagged = [line.split(" ")[0] for line in queue[1:]]
    assert "find-help" not in flagged  # signed today: nothing left to confirm, nothing expiring
    assert all("never reviewed" in line for line in queue if line.split(" ")[0] in
               ("ask-lawyer", "asylum-grounds", "third-country"))


def test_check_command_prints_the_reviewers_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    sign_topic(root, "start", "A. Lawyer, Legal Aid", date(2021, 1, 1))
    assert main(["check", "--content", str(root)]) == 1  # an expired review is an error by default
    out = capsys.readouterr().out
    assert "content/en/start.md:1: the legal review expired on 2022-01-01 (reviewed 2021-01-01" in out
    assert "For a lawyer to look at first:\n  1. start (Main menu): review expired on 2022-01-01" in out
    engine = build_engine(root, LOCALES)  # the bot still starts: people keep getting help
    _state, screen = engine.step(State("es", "tc-fear-yes", (("start", ()),)), a.Show())
    assert "Todavía no lo ha revisado un abogado." in screen.text  # that topic was never reviewed
    (root / "review.toml").write_text('expired = "warning"\n')
    assert main(["check", "--content", str(root)]) == 0


@pytest.mark.parametrize(("lang", "unchecked", "checked"), [
    ("en", "Not yet checked by a lawyer.", "Checked by A. Lawyer &amp; Co on November 29, 2026."),
    ("es", "Todavía no lo ha revisado un abogado.",
     "Revisado por A. Lawyer &amp; Co el 29 de noviembre de 2026."),
    ("fr", "Pas encore vérifié par un avocat.", "Vérifié par A. Lawyer &amp; Co le 29 novembre 2026."),
])
def test_endings_and_lawyer_summary_say_who_checked_them(tmp_path: Path, lang: str, unchecked: str,
                                                         checked: str) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    state = State(lang=lang, node="tc-fear-yes", trail=(("start", ()), ("tc-start", ())))

    engine = build_engine(root, LOCALES)
    _state, screen = engine.step(state, a.Show())
    assert unchecked in screen.text and checked.split(" ")[0] not in screen.text
    _state, sheet = engine.step(state, a.Sheet())
    assert sheet.effect is Effect.ATTACH_SHEET
    assert sheet.text.count(unchecked) == 2  # main menu and third-country topics

    sign_topic(root, "third-country", "A. Lawyer & Co", DAY)
    engine = build_engine(root, LOCALES)
    _state, screen = engine.step(state, a.Show())
    assert checked in screen.text and unchecked not in screen.text
    _state, sheet = engine.step(state, a.Sheet())
    assert checked in sheet.text and sheet.text.count(unchecked) == 1  # main menu still unchecked
    title = engine.tree.languages[lang].files["third-country"].title
    assert f"{escape(title)}: {checked}" in sheet.text
    assert validate_html(sheet.text) == [] and validate_html(screen.text) == []
    _name, document, _caption = engine.sheet.document(lang, state.facts, DAY, engine.reviews(state))
    assert checked in document.decode()


def test_legal_fact_rows_match_by_cited_source(tmp_path: Path) -> None:
    facts = tmp_path / "legal-facts.md"
    facts.write_text(FACTS_MD)
    rows = read_fact_rows(facts)
    assert [r.status for r in rows] == ["seen (A-S-M-); regulations to verify", "seen"]
    assert rows[0].section == "2. At the hearing"
    assert rows_for_source("INA 241(b)(3); 8 C.F.R. 1208.16-1208.18", rows) == [rows[0]]
    assert rows_for_source("INA 240(b)(4)(A), INA 292", rows) == []


def test_review_packet_and_sign_off_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    facts = tmp_path / "legal-facts.md"
    facts.write_text(FACTS_MD)
    out = tmp_path / "packets"
    assert main(["review", "packet", "--content", str(root), "--facts", str(facts), "--out", str(out),
                 "--topic", "third-country"]) == 0
    page = (out / "review-third-country.html").read_text()
    engine = build_engine(root, LOCALES)
    for node_id in engine.tree.languages["en"].files["third-country"].node_ids:
        assert f'id="{node_id}"' in page
        for lang in ("en", "es", "fr"):
            assert engine.tree.node(lang, node_id).title in page  # type: ignore[union-attr]
    assert "seen (A-S-M-); regulations to verify" in page  # status from the facts row
    assert "<i>Matter of A-S-M-</i>" in page
    assert "check the cited source itself" in page  # a source with no row
    assert "Never reviewed by a lawyer." in page and "Sign-off" in page
    assert "kyr-bot review sign third-country" in page

    assert main(["review", "sign", "third-country", "--content", str(root), "--date", "2026-11-29",
                 "--reviewer", "A. Lawyer, Example Legal Aid"]) == 0
    assert "signed" in capsys.readouterr().out
    assert main(["review", "packet", "--content", str(root), "--facts", str(facts), "--out", str(out)]) == 0
    assert len(list(out.glob("review-*.html"))) == len(engine.tree.languages["en"].files)
    page = (out / "review-third-country.html").read_text()
    assert "Last review: 2026-11-29 by A. Lawyer, Example Legal Aid; valid until 2027-11-29" in page
    assert main(["review", "sign", "nope", "--content", str(root), "--reviewer", "X"]) == 2
    assert "Nothing was changed" in capsys.readouterr().err

"""Conditional blocks (``:: key=value``), fact vocabulary, phone-width labels and the termbase."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_engine
from bot.content.checks import check_content
from bot.content.telegram_html import visible_text
from bot.conversation import actions as a
from helpers import LOCALES, MINI, copy_tree, edit, line_of

VARIANTS = """Before the blocks.

:: who=self
Tell the judge that you are afraid.
:: who=relative
Your relative can tell the judge that they are afraid.
::

After the blocks.
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return copy_tree(MINI, tmp_path / "content")


def with_variants(tree: Path, body: str = VARIANTS) -> Path:
    f = tree / "en/topic.md"
    edit(f, "Tell the judge why.", body.strip())
    return f


def reported(root: Path, path: Path, line: int, fragment: str, *, error: bool = True) -> bool:
    report = check_content(root, LOCALES)
    pool = report.errors if error else report.warnings
    return any(str(p).startswith(f"{path}:{line}:") and fragment in str(p) for p in pool)


def test_engine_shows_the_variant_of_the_answer_given(tree: Path) -> None:
    with_variants(tree)
    engine = build_engine(tree, None)
    texts = {}
    for who in ("self", "relative", None):
        facts = (("who", who),) if who else ()
        texts[who] = visible_text(engine.node_text("en", "fear-yes", facts))
        assert "Before the blocks." in texts[who] and "After the blocks." in texts[who]
    assert "Tell the judge that you are afraid." in texts["self"]
    assert "Your relative" not in texts["self"]
    assert "Your relative can tell the judge that they are afraid." in texts["relative"]
    assert "Tell the judge that you" not in texts["relative"]
    assert texts[None] == texts["self"]  # no answer: the first variant


def test_a_real_session_sees_the_variant_through_the_engine(tree: Path) -> None:
    with_variants(tree)
    engine = build_engine(tree, None)
    state = engine.new_state("en")
    state = type(state)(lang="en", node="fear", facts=(("who", "relative"),), version=state.version)
    state, screen = engine.step(state, a.Go("fear-yes"))
    assert "Your relative can tell" in screen.text and "Tell the judge that you" not in screen.text


def test_an_answer_no_variant_names_shows_nothing_of_the_group(tree: Path) -> None:
    with_variants(tree, "Everyone.\n\n:: detained=yes\nOnly when detained.\n::\n")
    engine = build_engine(tree, None)
    assert "Only when detained." in engine.node_text("en", "fear-yes", (("detained", "yes"),))
    assert "Only when detained." in engine.node_text("en", "fear-yes", ())  # no answer: first
    no = engine.node_text("en", "fear-yes", (("detained", "no"),))
    assert "Only when detained." not in no and "Everyone." in no


def test_valid_variants_pass_the_checker(tree: Path) -> None:
    with_variants(tree)
    assert check_content(tree, LOCALES).errors == []


def test_a_translation_without_the_english_variants_is_warned(tree: Path) -> None:
    with_variants(tree)
    es = tree / "es/topic.md"
    assert reported(tree, es, line_of(es, "## fear-yes"), "has no text for who=relative, who=self",
                    error=False)
    edit(es, "Explíquele al juez por qué.",
         ":: who=self\nDígale al juez por qué.\n:: who=relative\nSu familiar puede decirlo.\n::")
    assert not reported(tree, es, line_of(es, "## fear-yes"), "has no text for", error=False)


@pytest.mark.parametrize(
    ("body", "needle", "fragment"),
    [
        ("Text.\n:: who=self\nOpen for ever.\n", ":: who=self", "is never closed"),
        ("Text.\n::\n", "::", "'::' closes no conditional block"),
        ("Text.\n:: colour=red\nRed.\n::\n", ":: colour", "unknown fact key 'colour'"),
        ("Text.\n:: who=cousin\nHi.\n::\n", ":: who=cousin", "unknown value 'cousin' for fact 'who'"),
        ("Text.\n:: who self\nHi.\n::\n", ":: who self", "cannot read conditional block"),
        ("Text.\n:: who=self\nA.\n:: detained=yes\nB.\n::\n", ":: detained", "this group chooses on 'who'"),
        ("Text.\n:: who=self\nA.\n:: who=self\nB.\n::\n", "B.", "'who=self' is given twice"),
        ("Text.\n:: ground=race\nA.\n::\n", ":: ground", "list fact"),
        ("Text.\n:: who=self\n-> [No](fear-no)\n::\n", "-> [No](fear-no)", "cannot be inside a conditional"),
    ],
)
def test_malformed_blocks_are_errors_at_their_line(tree: Path, body: str, needle: str,
                                                   fragment: str) -> None:
    f = with_variants(tree, body)
    line = line_of(f, needle, 2 if needle.startswith("-> [No]") else 1)
    if "given twice" in fragment:
        line = line_of(f, ":: who=self", 2)
    assert reported(tree, f, line, fragment), [str(p) for p in check_content(tree, LOCALES).problems]


def test_an_unclosed_group_at_the_next_heading_is_reported_there(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "You can tell the judge you are *afraid*.", "Intro.\n:: who=self\nNever closed.")
    assert reported(tree, f, line_of(f, ":: who=self"), "in 'fear' is never closed")


def test_every_variant_is_checked_against_telegram_limits(tree: Path) -> None:
    f = with_variants(tree, "Short.\n\n:: who=self\nShort too.\n:: who=relative\n"
                            + "Far too long. " * 300 + "\n::\n")
    report = check_content(tree, LOCALES)
    long = [str(p) for p in report.errors if "characters long" in p.message]
    assert len(long) == 1 and "(when who=relative)" in long[0], long
    assert long[0].startswith(f"{f}:{line_of(f, '## fear-yes')}:")


def test_html_errors_in_a_later_variant_point_at_its_line(tree: Path) -> None:
    f = with_variants(tree, ":: who=self\nFine.\n:: who=relative\nBroken <why>.\n::\n")
    assert reported(tree, f, line_of(f, "Broken <why>"), "tag <why> is not allowed")


def test_unknown_fact_keys_and_values_are_errors_with_a_hint(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=yes", "fact: colour=red")
    edit(f, "fact: fear=no", "fact: fear=maybe")
    edit(f, "fact: ground+=religion", "fact: ground=religion")
    report = check_content(tree, LOCALES)
    text = "\n".join(str(p) for p in report.errors)
    colour = f"{f}:{line_of(f, 'colour=red')}: unknown fact key 'colour'"
    assert colour + " (use one of: who" in text
    assert f"{f}:{line_of(f, 'fear=maybe')}: unknown value 'maybe' for fact 'fear'" in text
    assert "use one of: yes, no, unsure" in text
    assert (f"{f}:{line_of(f, 'ground=religion')}: fact 'ground' is written with '=' "
            "(write 'fact: ground+=religion')") in text


def test_an_old_motion_value_in_content_is_a_warning_naming_todays_values(tree: Path) -> None:
    f = tree / "en/topic.md"
    edit(f, "fact: fear=yes", "fact: motion=aca")
    assert reported(tree, f, line_of(f, "motion=aca"), "reads it as 'pretermit'", error=False)
    assert reported(tree, f, line_of(f, "motion=aca"), "write one of: pretermit, dismiss-case", error=False)


def test_labels_over_30_characters_warn_in_every_language(tree: Path) -> None:
    en, es = tree / "en/topic.md", tree / "es/topic.md"
    edit(en, "-> [Yes](fear-yes)", f"-> [{'Y' * 31}](fear-yes)")
    edit(es, "-> [Sí](fear-yes)", f"-> [{'S' * 30}](fear-yes)")
    edit(es, "-> [No](fear-no)", f"-> [{'N' * 40}](fear-no)")
    assert reported(tree, en, line_of(en, "YYY"), "is 31 characters", error=False)
    assert reported(tree, es, line_of(es, "NNN"), "is 40 characters", error=False)
    assert not reported(tree, es, line_of(es, "SSS"), "characters", error=False)
    warning = next(str(p) for p in check_content(tree, LOCALES).warnings if "is 31 characters" in str(p))
    assert "phones show about 30 on one button (shorten it to 30 characters or fewer)" in warning


TERMS = """# Test termbase

## withholding of removal
es: suspensión de remoción
es-not: suspensión de la deportación

## interpreter
es: intérprete
"""


def test_termbase_warns_on_a_forbidden_or_missing_rendering(tree: Path) -> None:
    (tree / "terms.md").write_text(TERMS, encoding="utf-8")
    en, es = tree / "en/topic.md", tree / "es/topic.md"
    edit(en, "Tell the judge why.", "Ask for withholding of removal.")
    edit(es, "Explíquele al juez por qué.", "Pida la suspensión de la deportación.")
    report = check_content(tree, LOCALES)
    warnings = [str(p) for p in report.warnings if "terms.md" in str(p)]
    at = f"{es}:{line_of(es, '## fear-yes')}:"
    assert any(w.startswith(at) and "says 'suspensión de la deportación'" in w
               and "use 'suspensión de remoción'" in w for w in warnings), warnings
    assert any(w.startswith(at) and "lacks the termbase rendering of 'withholding of removal'" in w
               for w in warnings), warnings
    # en 'fear' says "Ask for an interpreter." and es 'fear' does not say "intérprete"
    assert any(w.startswith(f"{es}:{line_of(es, '## fear |')}:") and "'interpreter'" in w
               for w in warnings), warnings
    assert report.errors == []


def test_termbase_is_quiet_when_the_translation_follows_it(tree: Path) -> None:
    (tree / "terms.md").write_text(TERMS, encoding="utf-8")
    edit(tree / "en/topic.md", "Tell the judge why.", "Ask for withholding of removal.")
    edit(tree / "es/topic.md", "Explíquele al juez por qué.",
         "Pida la Suspensión de Remoción y un intérprete.")
    edit(tree / "es/topic.md", "Puede decirle al juez que tiene *miedo*.", "Pida un intérprete.")
    assert [str(p) for p in check_content(tree, LOCALES).warnings if "terms.md" in str(p)] == []


def test_no_termbase_no_term_warnings(tree: Path) -> None:
    edit(tree / "es/topic.md", "Explíquele al juez por qué.", "Pida la suspensión de la deportación.")
    assert not any("terms.md" in str(p) for p in check_content(tree, LOCALES).problems)

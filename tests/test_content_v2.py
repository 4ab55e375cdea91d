"""The real content: corrected figures, one voice on the relative path, every path in every language."""

from __future__ import annotations

import re
from collections import deque

import pytest

from bot.app import build_engine
from bot.content.checks import check_content
from bot.content.facts import FACTS
from bot.content.telegram_html import visible_text
from bot.conversation import actions as a
from bot.conversation.engine import Engine
from bot.conversation.state import State
from helpers import CONTENT, LOCALES, ROOT

LANGS = ("en", "es", "fr")


@pytest.fixture(scope="module")
def real() -> Engine:
    return build_engine(CONTENT, LOCALES)


# --- figures and claims legal-facts.md removed ----------------------------------------------

REMOVED_FIGURES = re.compile(r"17[,. \u00a0]?500|16[,. \u00a0]?000")
AGREEMENT = re.compile(r"\bACA\b|agreement|acuerdo|accord", re.IGNORECASE)
MEXICO = re.compile(r"m[eé]xi(co|que)", re.IGNORECASE)
NEGATION = re.compile(r"\b(no|not|ningún|ninguno|aucun|n'en|pas)\b", re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


def mexico_aca_claims(text: str) -> list[str]:
    """Sentences naming Mexico and an agreement without denying that one exists."""
    return [s for s in _sentences(text)
            if MEXICO.search(s) and AGREEMENT.search(s) and not NEGATION.search(s)]


def test_the_claim_detectors_fire_on_known_bad_text() -> None:
    assert REMOVED_FIGURES.search("more than 17,500 people") and REMOVED_FIGURES.search("16.000 a México")
    assert mexico_aca_claims("Mexico signed an Asylum Cooperative Agreement with the US.")
    assert mexico_aca_claims("El acuerdo con México permite enviar personas.")
    assert not mexico_aca_claims("The US has no published asylum agreement with Mexico.")


def test_no_removed_figure_or_mexico_agreement_claim_anywhere() -> None:
    files = [*CONTENT.glob("*/*.md"), *(ROOT / "locales").glob("*/LC_MESSAGES/*.po")]
    assert len(files) >= 15
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not REMOVED_FIGURES.search(text), path
        assert not mexico_aca_claims(text), (path, mexico_aca_claims(text))


@pytest.mark.parametrize("lang", LANGS)
def test_mexico_is_not_offered_as_an_agreement_country(real: Engine, lang: str) -> None:
    nodes = real.tree.languages[lang].nodes
    for node_id in ("tc-motion-aca", "tc-motion-unknown"):
        targets = [c.target for c in nodes[node_id].choices]
        assert "tc-country-mx" not in targets and "tc-country-sv" not in targets
        assert {"tc-country-gt", "tc-country-hn", "tc-country-ec", "tc-country-ug",
                "tc-country-other"} <= set(targets)
    assert "tc-country-mx" in nodes  # kept, so old buttons still land somewhere
    assert "11,886" in nodes["tc-country-mx"].html or "11 886" in nodes["tc-country-mx"].html


def test_every_front_matter_source_names_a_document() -> None:
    vague = re.compile(r"via seeds|law-firm article|eoir practice|common know-your-rights|"
                       r"reported by latin times|exact case name to verify", re.IGNORECASE)
    tree = build_engine(CONTENT, LOCALES).tree
    for lang in tree.languages.values():
        for topic in lang.files.values():
            for source in topic.sources:
                assert not vague.search(source), (topic.path, source)


# --- one voice on the relative path ----------------------------------------------------------

# Phrasings that address the reader as the person in court. On the relative path the reader is a
# family member, so none may appear there.
SELF_ADDRESS = {
    "en": [r"\btell the judge (that )?you\b", r"\byou can tell the judge\b", r"\byou are afraid\b",
           r"\bare you (afraid|detained|held)\b", r"\byou must (show|prove)\b"],
    "es": [r"\bd[ií]gale al juez\b", r"\busted puede decirle al juez\b", r"\busted tiene miedo\b",
           r"¿tiene (usted )?miedo", r"¿est[aá] usted detenid", r"\busted (tiene|debe) (que )?demostrar"],
    "fr": [r"\bdites au juge\b", r"\bvous pouvez dire au juge\b", r"\bvous avez peur\b",
           r"\bavez-vous peur\b", r"\bêtes-vous détenu", r"\bvous devez (montrer|prouver|démontrer)\b"],
}
KNOWN_BAD = {
    "en": "Tell the judge that you are afraid of that country.",
    "es": "Dígale al juez que usted tiene miedo de ese país.",
    "fr": "Dites au juge que vous avez peur de ce pays.",
}


def self_address(lang: str, text: str) -> list[str]:
    return [p for p in SELF_ADDRESS[lang] if re.search(p, text, re.IGNORECASE)]


@pytest.mark.parametrize("lang", LANGS)
def test_self_address_patterns_fire_on_known_bad_text(real: Engine, lang: str) -> None:
    assert self_address(lang, KNOWN_BAD[lang])
    # The person's own variant of the fear ending is, rightly, addressed to them.
    own = visible_text(real.node_text(lang, "tc-fear-yes", (("who", "self"),)))
    assert self_address(lang, own), own


def _records_self(engine: Engine, lang: str, node_id: str) -> bool:
    node = engine.tree.node(lang, node_id)
    return node is not None and any(f.key == "who" and f.value == "self" for f in node.facts)


def walk_as_relative(engine: Engine, lang: str) -> dict[str, str]:
    """Every screen a family member can reach after saying it is about a relative."""
    state = State(lang=lang, node=engine.tree.start, facts=(("who", "relative"),),
                  version=engine.tree.version)
    state, screen = engine.step(state, a.Show())
    screens = {state.node: screen.text}
    queue = deque([state])
    while queue:
        state = queue.popleft()
        node = engine.tree.node(lang, state.node)
        if node is not None and node.end:
            screens[f"sheet after {state.node}"] = engine.step(state, a.Sheet())[1].text
        for choice in node.choices if node else ():
            if choice.target in screens or _records_self(engine, lang, choice.target):
                continue
            new, screen = engine.step(state, a.Go(choice.target))
            assert ("who", "relative") in new.facts
            screens[choice.target] = screen.text
            queue.append(new)
    return screens


@pytest.mark.parametrize("lang", LANGS)
def test_relative_path_never_addresses_the_family_member_as_the_person_in_court(
        real: Engine, lang: str) -> None:
    screens = walk_as_relative(real, lang)
    reachable = {n for n in real.tree.languages[lang].nodes if not _records_self(real, lang, n)}
    assert reachable <= set(screens)
    bad = {where: self_address(lang, visible_text(text)) for where, text in screens.items()}
    assert {k: v for k, v in bad.items() if v} == {}


# --- every path, every language --------------------------------------------------------------

def questionnaire_paths(engine: Engine, lang: str, start: str) -> list[list[str]]:
    """Every path from ``start`` through steps that record facts (or into an ending) to an ending."""
    nodes = engine.tree.languages[lang].nodes
    paths: list[list[str]] = []

    def extend(path: list[str]) -> None:
        node = nodes[path[-1]]
        fresh = [c.target for c in node.choices if c.target not in path]
        nexts = [t for t in fresh if nodes[t].facts] or ([] if node.end else
                                                         [t for t in fresh if nodes[t].end])
        if node.end or not nexts:
            paths.append(path)
        for target in nexts:
            extend([*path, target])

    extend([start])
    return paths


@pytest.mark.parametrize("lang", LANGS)
def test_every_questionnaire_path_ends_with_a_summary_showing_its_answers(
        real: Engine, lang: str) -> None:
    paths = questionnaire_paths(real, lang, "tc-who") + questionnaire_paths(real, lang, "tc-limits")
    assert len(paths) > 100
    for path in paths:
        state, _ = real.step(real.new_state(lang), a.Start())
        for target in path:
            state, screen = real.step(state, a.Go(target))
            assert state.node == target and screen.kind == "node"
        end = real.tree.node(lang, path[-1])
        assert end is not None and end.end, path
        assert "📄" in screen.text or any(b.action == a.Sheet() for b in screen.buttons())
        for key, value in state.facts:
            assert value in FACTS[key].values
        sheet = visible_text(real.step(state, a.Sheet())[1].text)
        assert sheet and "1-800-898-7180" in sheet


ALONE_YES = ("Came to the United States under 18, with no parent or legal guardian in the "
             "United States able to care for them.")
SHEET_LINES = {
    "motion": {"pretermit": "without a full hearing", "dismiss-case": "the whole removal case"},
    "entry": {"before-2019-11-19": "before November 19, 2019",
              "after-2019-11-19": "on or after November 19, 2019"},
    "alone": {"yes": "under 18, with no parent or legal guardian", "no": "as a child alone"},
    "country": {"ecuador": "Ecuador", "uganda": "Uganda", "guatemala": "Guatemala"},
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_walked_path_puts_the_new_facts_in_the_summary_in_both_languages(
        real: Engine, lang: str) -> None:
    state, _ = real.step(real.new_state(lang), a.Start())
    for target in ("tc-start", "tc-who", "tc-relative", "tc-detained", "tc-motion-aca",
                   "tc-country-ec", "tc-fear-yes", "tc-limits", "tc-entry-after", "tc-alone-yes",
                   "tc-nationality"):
        state, _screen = real.step(state, a.Go(target))
    facts = dict(state.facts)
    assert facts == {"who": "relative", "detained": "yes", "motion": "pretermit",
                     "country": "ecuador", "fear": "yes", "entry": "after-2019-11-19",
                     "alone": "yes"}
    _name, document, _caption = real.sheet.document(lang, state.facts)
    english = visible_text(real.sheet.render("en", state.facts))
    for key in ("motion", "entry", "alone", "country"):
        assert SHEET_LINES[key][facts[key]] in english
    local = visible_text(real.sheet.render(lang, state.facts))
    _ = real.i18n.translator(lang)
    assert _("Entered the United States on or after November 19, 2019.") in local
    assert _(ALONE_YES) in local
    assert {"en": "Ecuador", "es": "Ecuador", "fr": "Équateur"}[lang] in local
    assert english.split("\n")[0].strip() in document.decode() or lang == "en"


def test_real_content_check_has_no_errors_and_no_term_or_voice_warnings() -> None:
    report = check_content(CONTENT, LOCALES)
    assert report.errors == []
    assert [str(p) for p in report.warnings if "needs legal review" not in p.message] == []


NOT_ADVICE = {"en": "legal advice", "es": "asesoría legal", "fr": "conseils juridiques"}
CITATION = re.compile(r"Matter of|I&N Dec|C\.F\.R\.|U\.S\.C\.|\bINA \d")


@pytest.mark.parametrize("lang", LANGS)
def test_citations_stay_in_front_matter_and_endings_say_not_advice_once(real: Engine, lang: str) -> None:
    for node in real.tree.languages[lang].nodes.values():
        for selection, html, _map in node.variants or (((), node.html, ()),):
            assert not CITATION.search(visible_text(html)), (node.path, node.id)
            if node.end:
                facts = tuple(zip(node.variant_keys, selection, strict=True))
                text = visible_text(real.node_text(lang, node.id, facts)).lower()
                assert text.count(NOT_ADVICE[lang]) == 1, (node.path, node.id, selection)

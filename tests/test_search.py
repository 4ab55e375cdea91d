"""Search: stems, accents, typos, staff search words, the cross-language offer, typed countries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.content.checks import check_content
from bot.content.loader import load_tree
from bot.conversation import actions as a
from bot.conversation.engine import Engine
from bot.conversation.screen import ScreenKind
from bot.conversation.search import Finder, SearchIndex, stems
from bot.words.countries import match_country
from helpers import CONTENT, LOCALES, line_of

FRONT = "---\ntitle: {title}\nversion: 1\n{extra}---\n\n"
EN = """## start | Know your rights

Choose a topic.

-> [Sent to another country](tc-start)
-> [Free legal help](fh-probono)
-> [A detained relative](fh-detained)

## tc-start | Removal to a third country

The government may ask the judge to send a person to a country that is not their own.
Some people were deported this way.

-> [Which country?](tc-country-other)

## tc-country-other | Which country?

fact: country=other
input: country

Type the country's name.

-> [Free legal help](fh-probono)

## fh-probono | Free legal help

Nonprofit organisations may represent people at no cost.

end: yes

## fh-detained | A detained relative

Use the online locator to find a person held in detention.

end: yes
"""
ES = """## start | Conozca sus derechos

Elija un tema.

-> [Enviado a otro país](tc-start)
-> [Ayuda legal gratuita](fh-probono)
-> [Un familiar detenido](fh-detained)

## tc-start | Envío a un tercer país

El gobierno puede pedir al juez que envíe a una persona a un país que no es el suyo.
Algunas personas fueron deportadas así.

-> [¿Qué país?](tc-country-other)

## tc-country-other | ¿Qué país?

fact: country=other
input: country

Escriba el nombre del país.

-> [Ayuda legal gratuita](fh-probono)

## fh-probono | Ayuda legal gratuita

Algunas organizaciones dan un abogado gratuito.

end: yes

## fh-detained | Un familiar detenido

Use el localizador para encontrar a una persona en detención.

end: yes
"""
EN_WORDS = """# Search words (English)

## fh-detained
- ICE took my son
- la migra

## fh-probono
- lawer
"""
ES_WORDS = """# Palabras de búsqueda

## fh-detained
- la migra agarró a mi hijo

## fh-probono
- abogao
"""


def write_tree(root: Path, en_words: str = EN_WORDS, es_words: str = ES_WORDS,
               en: str = EN) -> Path:
    for lang, body, words in (("en", en, en_words), ("es", ES, es_words)):
        folder = root / lang
        folder.mkdir(parents=True)
        extra = "" if lang == "en" else "translated-from: 1\n"
        (folder / "start.md").write_text(FRONT.format(title="Start", extra=extra) + body, "utf-8")
        if words is not None:
            (folder / "search-words.md").write_text(words, "utf-8")
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tree(tmp_path_factory.mktemp("search") / "content")


@pytest.fixture(scope="module")
def finder(root: Path) -> Finder:
    tree, problems = load_tree(root)
    assert [p for p in problems if p.is_error] == []
    return Finder(tree)


@pytest.fixture(scope="module")
def engine(root: Path) -> Engine:
    return build_engine(root, LOCALES)


def test_stems_meet_across_word_forms_and_accents() -> None:
    assert len(set(stems("deportar deportación DEPORTACION deportado", "es"))) == 1
    assert len(set(stems("deported deportation deport", "en"))) == 1
    assert stems("détention", "fr") == stems("detention", "fr")


def test_languages_a_translator_may_add_are_stemmed_in_their_own_script() -> None:
    assert len(set(stems("книга книги книгу", "ru"))) == 1
    assert len(set(stems("kjøringen kjøring", "nb"))) == 1  # Babel: "Norwegian Bokmål"


def test_a_language_without_a_stemmer_keeps_words_whole() -> None:
    assert stems("Ngozi amaka Ọ́", "ig") == ["ngozi", "amaka", "o"]  # Igbo: no Snowball stemmer
    assert stems("running runs", "zz") == ["running", "runs"]  # not a language code at all


def test_a_word_form_not_in_the_text_finds_its_step(finder: Finder) -> None:
    assert finder.find("en", "deportations").ids[0] == "tc-start"  # text says "deported"
    assert finder.find("es", "DEPORTACIÓN").ids[0] == "tc-start"  # text says "deportadas"
    assert finder.find("es", "detencion").ids[0] == "fh-detained"  # text says "detención"


def test_typos_still_find_the_step(finder: Finder) -> None:
    assert finder.find("en", "orgnisations").ids[0] == "fh-probono"  # a letter missing
    assert finder.find("en", "detnetion").ids[0] == "fh-detained"  # two letters swapped
    assert finder.find("es", "localisador").ids[0] == "fh-detained"  # s for z


def test_staff_search_words_find_steps_their_text_never_names(finder: Finder) -> None:
    assert finder.find("en", "la migra").ids[0] == "fh-detained"
    assert finder.find("en", "ICE took my son yesterday").ids[0] == "fh-detained"
    assert finder.find("es", "la migra agarro a mi hijo").ids[0] == "fh-detained"
    assert finder.find("es", "abogao").ids[0] == "fh-probono"


def test_words_from_nowhere_find_nothing(finder: Finder) -> None:
    found = finder.find("en", "xyzzy qwerty")
    assert found.empty and found.lang == "en"


def test_another_language_is_offered_only_when_it_knows_the_words_better(finder: Finder) -> None:
    found = finder.find("en", "necesito un abogado gratuito")
    assert found.lang == "es" and found.ids[0] == "fh-probono"
    assert finder.find("es", "necesito un abogado gratuito").lang == "es"
    # English words on a Spanish phone: offered in English.
    assert finder.find("es", "nonprofit organisations").lang == "en"
    # Words both languages know stay in the person's language.
    assert finder.find("es", "la migra").lang == "es"


def test_search_words_weigh_more_than_a_body_mention(tmp_path: Path) -> None:
    words = EN_WORDS + "\n## tc-start\n- detention\n"
    tree, _ = load_tree(write_tree(tmp_path / "content", en_words=words))
    # "detention" is in fh-detained's body, but staff listed it for tc-start.
    assert SearchIndex(tree.languages["en"]).search("detention")[0] == "tc-start"


def test_a_whole_staff_phrase_weighs_more_than_its_words(tmp_path: Path) -> None:
    words = EN_WORDS + "\n## tc-start\n- migra\n"
    tree, _ = load_tree(write_tree(tmp_path / "content", en_words=words))
    index = SearchIndex(tree.languages["en"])
    assert index.search("migra")[0] == "tc-start"  # a tie on the word: the first step
    assert index.search("la migra")[0] == "fh-detained"  # the phrase "la migra" is fh-detained's


def test_a_staff_phrase_counts_by_how_much_of_it_the_query_holds(tmp_path: Path) -> None:
    words = EN_WORDS + "\n## tc-start\n- they want to deport me to another country\n"
    tree, _ = load_tree(write_tree(tmp_path / "content", en_words=words))
    index = SearchIndex(tree.languages["en"])
    # "they want" is a small part of tc-start's phrase: it weighs less than "detained".
    assert index.search("they want my relative detained")[0] == "fh-detained"
    # The whole phrase still finds its step.
    assert index.search("they want to deport me to another country")[0] == "tc-start"


def test_the_words_of_a_button_find_the_step_it_leads_to(tmp_path: Path) -> None:
    en = EN.replace("-> [Free legal help](fh-probono)", "-> [No money for a lawyer?](fh-probono)")
    tree, _ = load_tree(write_tree(tmp_path / "content", en=en, en_words=""))
    # "money" is in no step's text, title or search words: only on start's button to fh-probono.
    assert SearchIndex(tree.languages["en"]).search("no money to pay")[:1] == ["fh-probono"]


def test_search_words_problems_are_reported_with_path_and_line(tmp_path: Path) -> None:
    words = EN_WORDS + "\n## tc-nowhere\n- gone\n\n## fh-probono\n- \n- LAWER\nnot a phrase\n"
    root = write_tree(tmp_path / "content", en_words=words)
    report = check_content(root, LOCALES)
    path = root / "en" / "search-words.md"
    shown = {(Path(p.path).name, p.line, p.severity): p.message for p in report.problems}
    name = "search-words.md"
    assert "tc-nowhere" in shown[(name, line_of(path, "## tc-nowhere"), "error")]
    empty = path.read_text("utf-8").splitlines().index("- ") + 1
    assert "empty" in shown[(name, empty, "error")]
    assert "twice" in shown[(name, line_of(path, "- LAWER"), "warning")]
    assert "not a phrase" in shown[(name, line_of(path, "not a phrase"), "error")]
    # The file is not mistaken for a topic (no front matter error for it).
    assert not any("front matter" in p.message for p in report.problems)


def test_the_real_search_words_have_no_problems() -> None:
    report = check_content(CONTENT, LOCALES)
    assert [p for p in report.problems if "search-words" in p.path] == []
    for code, language in report.tree.languages.items():
        assert language.search_words, f"{code} has no search words"


# -- the engine ----------------------------------------------------------------------------------
def test_engine_offers_another_language_in_that_language(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("en"), a.Start())
    _, screen = engine.step(state, a.Search("necesito un abogado gratuito"))
    assert screen.kind is ScreenKind.SEARCH_OTHER
    assert "Encontré esto en español. Toque un tema para seguir en español:" in screen.text
    assert "Nothing found in English" in screen.text
    switch = screen.buttons()[0]
    assert switch.action == a.SwitchTo("es", "fh-probono") and switch.label == "Ayuda legal gratuita"
    assert a.decode(a.encode(switch.action)) == switch.action
    new, screen = engine.step(state, switch.action)
    assert (new.lang, new.node, screen.kind) == ("es", "fh-probono", ScreenKind.NODE)


def test_engine_no_match_offers_the_main_topics(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("es"), a.Start())
    state, _ = engine.step(state, a.Go("fh-detained"))
    new, screen = engine.step(state, a.Search("qqqq zzzz"))
    assert new == replace(state, aside="search-none")  # same place and answers; Back returns here
    assert screen.kind is ScreenKind.SEARCH_NONE and "no encontré nada" in screen.text
    targets = [b.action.target for b in screen.buttons() if isinstance(b.action, a.Open)]
    assert targets == ["tc-start", "fh-probono", "fh-detained"]


def test_a_switch_to_a_language_or_step_that_is_gone_is_answered(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("en"), a.Start())
    _, screen = engine.step(state, a.SwitchTo("xx", "tc-start"))
    assert screen.kind is ScreenKind.LANGUAGE
    new, screen = engine.step(state, a.SwitchTo("es", "gone-step"))
    assert screen.kind is ScreenKind.NODE and new.node == "start"
    assert a.decode("1:x:es") == a.Invalid("malformed")


# -- a typed country ------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "lang", "code"), [
    ("Turquía", "es", "TR"), ("turqia", "es", "TR"), ("Turquie", "fr", "TR"), ("Turkey", "en", "TR"),
    ("hondras", "en", "HN"), ("mi hijo esta en ecuador", "es", "EC"), ("Perú", "es", "PE"),
    ("République démocratique du Congo", "fr", "CD"), ("Camerun", "es", "CM"),
])
def test_country_names_are_matched_in_the_persons_language(text: str, lang: str, code: str) -> None:
    assert match_country(text, lang) == code


@pytest.mark.parametrize(("text", "lang"), [
    ("quiero un abogado", "es"), ("I do not know", "en"), ("peur", "fr"), ("todo", "es"),
    ("no se", "es"), ("lawyer", "en"),
])
def test_words_that_are_not_countries_are_not_taken_for_one(text: str, lang: str) -> None:
    assert match_country(text, lang) is None


def test_a_typed_country_is_kept_as_its_code_and_named_in_the_summary(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("es"), a.Start())
    state, _ = engine.step(state, a.Go("tc-start"))
    state, _ = engine.step(state, a.Go("tc-country-other"))
    assert ("country", "other") in state.facts
    new, screen = engine.step(state, a.Search("Turqia"))
    assert screen.kind is ScreenKind.COUNTRY and "Anotado para el abogado: Turquía" in screen.text
    assert new.node == "tc-country-other" and new.trail == state.trail
    assert dict(new.facts)["country"] == "iso:TR"
    assert "Turqia" not in repr(new.to_dict())  # only the code is kept
    assert "Turquía" in engine.sheet.render("es", new.facts)
    assert "Türkiye" in engine.sheet.render("en", new.facts)
    # Typed again: the new country replaces the old one.
    new, _ = engine.step(new, a.Search("Uganda"))
    assert [v for k, v in new.facts if k == "country"] == ["iso:UG"]


def test_typed_words_that_are_no_country_search_as_usual(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("es"), a.Start())
    state, _ = engine.step(state, a.Go("tc-country-other"))
    new, screen = engine.step(state, a.Search("abogao"))
    assert screen.kind is ScreenKind.SEARCH and new.facts == state.facts


def test_neither_a_country_nor_a_topic_keeps_the_person_on_the_country_step(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("es"), a.Start())
    state, _ = engine.step(state, a.Go("tc-country-other"))
    new, screen = engine.step(state, a.Search("qqqq zzzz"))
    assert new == state and screen.kind is ScreenKind.SEARCH_NONE
    assert "No reconocí el nombre de un país" in screen.text
    assert screen.buttons()[0].action == a.Go("fh-probono")  # the step's own choice


def test_a_country_typed_on_another_step_is_a_search(engine: Engine) -> None:
    state, _ = engine.step(engine.new_state("es"), a.Start())
    new, screen = engine.step(state, a.Search("Turquía"))
    assert screen.kind is not ScreenKind.COUNTRY and new.facts == state.facts


def test_the_checker_refuses_an_unknown_input_and_a_translation_that_differs(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "content")
    es = root / "es" / "start.md"
    es.write_text(es.read_text("utf-8").replace("input: country", "input: city"), "utf-8")
    report = check_content(root, LOCALES)
    errors = [str(p) for p in report.errors]
    assert any(f"start.md:{line_of(es, 'input: city')}" in e and "'input' must be" in e
               for e in errors), errors
    assert any("'input:' of 'tc-country-other' differs" in e for e in errors), errors


def test_the_fact_vocabulary_accepts_a_typed_country_code_only() -> None:
    from bot.content.facts import iso_country, typed_country

    assert typed_country("tr") == "iso:TR" and iso_country("iso:TR") == "TR"
    for bad in ("iso:tr", "iso:TUR", "iso:", "TR", "iso:T1"):
        assert iso_country(bad) is None, bad

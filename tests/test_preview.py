"""The preview site: built from the real engine's screens, with statuses, a map, links and QR codes."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import segno
from markupsafe import escape
from PIL import Image

from bot.app import build_engine
from bot.cli import main
from bot.content.loader import load_tree
from bot.conversation import actions
from bot.conversation.state import State
from bot.preview.qr import deep_link
from bot.preview.site import PreviewError, build_site
from bot.preview.treemap import builtin_svg, dot_svg, tree_graph
from helpers import CONTENT, LOCALES, copy_tree, edit

DAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "preview"
    build_site(CONTENT, LOCALES, out, "kyr_test_bot", "builtin", DAY)
    return out


def test_every_step_page_shows_the_bots_own_screen_in_every_language(site: Path) -> None:
    engine = build_engine(CONTENT, LOCALES)
    source = engine.tree.languages["en"]
    assert sorted(p.stem for p in (site / "steps").glob("*.html")) == sorted(source.nodes)
    for node_id in ("start", "tc-fear-yes", "ag-race"):
        page = (site / "steps" / f"{node_id}.html").read_text()
        for lang in engine.tree.codes:
            trail = () if node_id == "start" else (("start", ()),)
            _state, screen = engine.step(State(lang, node_id, trail), actions.Show())
            assert f'<div class="bubble" lang="{lang}">{screen.text}</div>' in page
            for button in screen.buttons():
                assert str(escape(button.label)) in page
        for choice in source.nodes[node_id].choices:
            assert f'href="{choice.target}.html">{escape(choice.label)}</a>' in page
        assert 'href="../index.html#map"' in page
    ending = (site / "steps" / "tc-fear-yes.html").read_text()
    assert 'href="../topics/third-country.html#summary">📄 Summary for a lawyer</a>' in ending
    assert "Not yet checked by a lawyer." in ending and "Pas encore vérifié par un avocat." in ending


def test_map_links_every_step_and_marks_endings_and_unreachable_steps(site: Path) -> None:
    index = (site / "index.html").read_text()
    tree, _problems = load_tree(CONTENT)
    for node_id, node in tree.languages["en"].nodes.items():
        assert f'<a href="steps/{node_id}.html" class="map-node"' in index
        assert (f"{node_id} ■ ending</text>" in index) == node.end
    root = copy_tree(CONTENT, Path(str(site) + "-orphan"))
    edit(root / "en" / "find-help.md", "## fh-hotline |", "## fh-lonely | Nobody links here\n\nend: yes\n\n"
         "Text.\n\n## fh-hotline |")
    graph = tree_graph(load_tree(root)[0])
    assert not graph.nodes["fh-lonely"].reachable and graph.nodes["fh-hotline"].reachable
    svg = builtin_svg(graph)
    assert re.search(r'fh-lonely: Nobody links here \(ending\)"><rect [^>]*stroke-dasharray', svg)
    shutil.rmtree(root)


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz is not installed here; the builtin map is tested above")
def test_graphviz_map_links_every_step() -> None:
    tree, _problems = load_tree(CONTENT)
    svg = dot_svg(tree_graph(tree))
    assert svg is not None and svg.startswith("<svg")
    for node_id in tree.languages["en"].nodes:
        assert f'xlink:href="steps/{node_id}.html"' in svg


def test_topic_pages_have_deep_links_that_open_the_topic_and_matching_qr_codes(site: Path) -> None:
    engine = build_engine(CONTENT, LOCALES)
    for name, topic in engine.tree.languages["en"].files.items():
        page = (site / "topics" / f"{name}.html").read_text()
        for lang in engine.tree.codes:
            link = deep_link("kyr_test_bot", lang, name)
            assert link.url == f"https://t.me/kyr_test_bot?start={lang}-{name}" and link.url in page
            # The payload on the flyer opens this topic's first step, in that language.
            assert engine.resolve_payload(link.payload, "en") == (lang, topic.node_ids[0])
            svg = (site / "qr" / link.svg).read_text()
            assert svg.startswith("<?xml") and link.url in svg  # the title names the link
            matrix = segno.make(link.url, error="m").matrix
            image = Image.open(site / "qr" / link.png).convert("L")
            scale, border = 10, 4
            assert image.size == ((len(matrix) + 2 * border) * scale,) * 2
            for y, row in enumerate(matrix):
                for x, dark in enumerate(row):
                    pixel = image.getpixel(((x + border) * scale + 5, (y + border) * scale + 5))
                    assert (pixel < 128) == bool(dark)


def test_topic_page_shows_the_lawyer_summary_for_sample_answers_in_each_language(site: Path) -> None:
    page = (site / "topics" / "third-country.html").read_text()
    assert page.count('class="bubble"') == 3
    for heading in ("Summary for a lawyer", "Resumen para un abogado", "Résumé pour un avocat"):
        assert heading in page
    assert "Chosen: " in page and "Sí, estoy detenido" in page  # answers in each language


def test_untranslated_stale_and_review_needed_steps_are_highlighted(tmp_path: Path) -> None:
    root = copy_tree(CONTENT, tmp_path / "content")
    # English changes a sentence of fh-interpreter; Spanish loses the step altogether.
    edit(root / "en" / "find-help.md", "**interpreter for free** at the hearings",
         "**interpreter for free** at every hearing")
    es = root / "es" / "find-help.md"
    text = es.read_text()
    start = text.index("## fh-interpreter |")
    end = text.find("\n## ", start + 1)
    es.write_text(text[:start] + (text[end + 1:] if end != -1 else ""))
    words = root / "es" / "search-words.md"  # and its search words, which would point nowhere
    text = words.read_text()
    start = text.index("## fh-interpreter\n")
    end = text.find("\n## ", start + 1)
    words.write_text(text[:start] + (text[end + 1:] if end != -1 else ""))
    out = tmp_path / "site"
    build_site(root, LOCALES, out, "", "builtin", DAY)
    page = (out / "steps" / "fh-interpreter.html").read_text()

    # Spanish: highlighted, and shown as the bot serves it: the English step with a notice.
    assert 'class="lang-col is-untranslated is-review-needed"' in page
    assert "people choosing Español see the English step" in page
    engine = build_engine(root, LOCALES)
    _state, screen = engine.step(State("es", "fh-interpreter", (("start", ()),)), actions.Show())
    assert "An interpreter at court" in screen.text
    assert f'<div class="bubble" lang="es">{screen.text}</div>' in page
    # French: out of date, with the English before and after the change it missed.
    assert 'class="lang-col is-out-of-date is-review-needed"' in page
    assert "step &#39;fh-interpreter&#39; changed in en since it was translated" in page
    assert ("-The court gives an **interpreter for free** at the hearings, for a person who does not "
            "speak English well.\n  +The court gives an **interpreter for free** at every hearing") in page
    other = (out / "steps" / "tc-start.html").read_text()
    assert "is-out-of-date" not in other and "is-untranslated" not in other and "is-review-needed" in other
    index = (out / "index.html").read_text()
    assert "YOUR_BOT" in (out / "topics" / "find-help.html").read_text()
    assert "no bot username" in index


def test_preview_command_refuses_a_folder_it_did_not_make(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["preview", "--out", str(mine), "--bot", "kyr_test_bot"]) == 2
    assert "Nothing was built" in capsys.readouterr().err and (mine / "notes.txt").exists()
    out = tmp_path / "site"
    assert main(["preview", "--out", str(out), "--bot", "kyr_test_bot", "--map", "builtin"]) == 0
    tree, _problems = load_tree(CONTENT)
    pages = 1 + len(tree.languages["en"].nodes) + len(tree.languages["en"].files)
    codes = sum(len(language.files) for language in tree.languages.values())
    assert re.search(rf"built {pages} pages and {codes} QR codes in [\d.]+ s", capsys.readouterr().out)
    assert (out / "index.html").is_file()
    (out / "steps" / "old-step.html").write_text("from an older build")
    assert main(["preview", "--out", str(out), "--bot", "kyr_test_bot", "--map", "builtin"]) == 0
    assert not (out / "steps" / "old-step.html").exists()
    with pytest.raises(PreviewError):
        build_site(CONTENT, LOCALES, mine, "kyr_test_bot")


def test_bot_username_comes_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_USERNAME", "@kyr_settings_bot")
    assert main(["preview", "--out", str(tmp_path / "site"), "--map", "builtin"]) == 0
    page = (tmp_path / "site" / "topics" / "start.html").read_text()
    assert "https://t.me/kyr_settings_bot?start=fr-start" in page and "YOUR_BOT" not in page

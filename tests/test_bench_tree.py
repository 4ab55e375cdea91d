"""The benchmark's generated content is valid, so the speed figures measure real checking."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.content.checks import check_content
from helpers import LOCALES, ROOT

sys.path.insert(0, str(ROOT / "bench"))
from gen_tree import generate_tree


def test_generated_tree_is_valid_and_complete(tmp_path: Path) -> None:
    root = generate_tree(tmp_path / "content", nodes=300)
    report = check_content(root, LOCALES)
    assert report.errors == []
    assert {code: len(lang.nodes) for code, lang in report.tree.languages.items()} == {
        "en": 300, "es": 300, "fr": 300}

"""Rows of the legal-facts file (``| fact | source | status |``) and which ones a source cites."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SPLIT = re.compile(r"[;,]")
_SPACE = re.compile(r"\s+")
MIN_PART = 6  # shorter pieces ("INA", "8 U.S.C.") would match rows they do not cite


@dataclass(frozen=True, slots=True)
class FactRow:
    """One statement of law with its source and how far it was checked."""

    section: str
    fact: str
    source: str
    status: str


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.replace("*", "").replace("`", "")).strip().lower()


def read_fact_rows(path: Path) -> list[FactRow]:
    """Every three-column table row of the legal-facts file (header and rule rows skipped)."""
    rows: list[FactRow] = []
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0].lower() == "fact" or set(cells[0]) <= set("-: "):
            continue
        rows.append(FactRow(section, *cells))
    return rows


def _parts(text: str) -> list[str]:
    return [p for p in (_norm(x) for x in _SPLIT.split(text)) if len(p) >= MIN_PART]


def rows_for_source(source: str, rows: list[FactRow]) -> list[FactRow]:
    """The rows whose source names one of the pieces (split at ``;`` and ``,``) of ``source``."""
    parts = _parts(source)
    found = []
    for row in rows:
        cited = _norm(row.source)
        if any(part in cited for part in parts) or any(part in _norm(source) for part in _parts(row.source)):
            found.append(row)
    return found

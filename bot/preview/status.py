"""What the checker says about each step in each language: missing, out of date, needing review."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from bot.content.checks import Report
from bot.content.model import Language
from bot.content.problems import Problem


@dataclass(frozen=True, slots=True)
class CellStatus:
    """One step in one language, as the preview highlights it."""

    missing: bool = False
    stale: str = ""  # the checker's "out of date" message for this translation, if any
    review_needed: bool = False
    problems: tuple[Problem, ...] = ()
    # Per-step staleness (the English text before and after the change a translation missed).
    # Filled by english_change() once the checker reports it per step; None until then.
    english_before: str | None = None
    english_after: str | None = None

    @property
    def flags(self) -> list[str]:
        """Short labels for the highlights this cell gets."""
        found = []
        if self.missing:
            found.append("untranslated")
        if self.stale:
            found.append("out of date")
        if self.review_needed:
            found.append("review: needed")
        if any(p.is_error for p in self.problems):
            found.append("error")
        return found


@dataclass
class StatusIndex:
    """Checker problems placed on the step (or the file) they are about."""

    report: Report
    _by_file: dict[str, list[Problem]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for problem in self.report.problems:
            self._by_file.setdefault(problem.path, []).append(problem)

    def file_problems(self, path: str) -> list[Problem]:
        """Problems about a whole file (line 0 or 1, before its first step)."""
        return [p for p in self._by_file.get(path, []) if p.line <= 1]

    def step_problems(self, language: Language, node_id: str) -> list[Problem]:
        """Problems whose line falls inside the step ``node_id``."""
        node = language.nodes.get(node_id)
        if node is None:
            return []
        topic = language.files.get(node.topic)
        starts = sorted(language.nodes[n].line for n in topic.node_ids) if topic else [node.line]
        index = bisect_right(starts, node.line)
        end = starts[index] if index < len(starts) else 10**9
        return [p for p in self._by_file.get(node.path, []) if node.line <= p.line < end]

    def cell(self, language: Language, node_id: str, source_topic: str) -> CellStatus:
        """The highlights for ``node_id`` in ``language``."""
        node = language.nodes.get(node_id)
        topic = language.files.get(node.topic if node else source_topic)
        if node is None:
            return CellStatus(missing=True, review_needed=bool(topic and topic.review_needed))
        stale = ""
        if topic is not None:
            stale = next((p.message for p in self.file_problems(topic.path)
                          if "out of date" in p.message), "")
        before, after = english_change(self.report, language.code, node_id) if stale else (None, None)
        return CellStatus(False, stale, bool(topic and topic.review_needed),
                          tuple(self.step_problems(language, node_id)), before, after)


def english_change(report: Report, lang: str, node_id: str) -> tuple[str | None, str | None]:
    """The English text of ``node_id`` before and after the change ``lang`` has not caught up with.

    The hook for per-step staleness: today the checker reports staleness per file only, so
    this returns (None, None) and the preview shows the file-level message instead.
    """
    return None, None

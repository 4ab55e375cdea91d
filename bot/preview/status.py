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
    # Per-step staleness: how the English changed since this translation was made, as lines
    # ("body:", "  -old", "  +new", "title: before ... after ..."); see english_change().
    english_change: tuple[str, ...] = ()

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
        english = node_id in self.report.status.fallback.get(language.code, ())
        if node is None or (english and language.code != self.report.tree.source_language):
            # Missing, or the same as English: the bot serves the English step with a notice.
            return CellStatus(missing=True, review_needed=bool(topic and topic.review_needed),
                              problems=tuple(self.step_problems(language, node_id)))
        found = self.step_problems(language, node_id)
        per_step = [p for p in found if p.code in STALE_CODES]
        problems = tuple(p for p in found if p not in per_step)  # shown as the stale box instead
        stale = per_step[0].message if per_step else ""
        if topic is not None and not stale:
            stale = next((p.message for p in self.file_problems(topic.path)
                          if "out of date" in p.message), "")
        return CellStatus(False, stale, bool(topic and topic.review_needed), problems,
                          english_change(per_step))


# The checker's codes for a step whose English changed since it was translated; their problems
# carry the English before and after in ``detail``.
STALE_CODES = ("W-STALE-STEP", "W-STALE-LEGAL")


def english_change(problems: list[Problem]) -> tuple[str, ...]:
    """How the English changed since the translation was made, from the checker's stale problem."""
    return next((p.detail for p in problems if p.detail), ())

"""Problems found in content or catalogs, reported as ``path:line: message (hint)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, with a hint on how to fix it.

    ``code`` is stable across wording changes (``E-...`` errors, ``W-...`` warnings), so tools
    and tests can group or filter findings without matching message text.
    """

    path: str
    line: int
    message: str
    hint: str = ""
    severity: Severity = "error"
    code: str = ""
    detail: tuple[str, ...] = ()  # extra lines shown under the problem, e.g. a before/after

    @property
    def where(self) -> str:
        """``path:line``, or just the path when the problem concerns the whole file."""
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        label = "" if self.severity == "error" else "warning: "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.where}: {label}{self.message}{hint}"

    def report_line(self) -> str:
        """The line ``kyr-bot check`` prints: severity first, then where, what and how to fix."""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.severity}: {self.where}: {self.message}{hint}"

    @property
    def is_error(self) -> bool:
        """True when the problem must be fixed before the bot can use the content."""
        return self.severity == "error"


class ContentError(Exception):
    """Raised when content cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        super().__init__(f"{len(errors)} error(s) in content; first: {errors[0] if errors else '-'}")

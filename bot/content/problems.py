"""Problems found in content or catalogs, reported as ``path:line: message (hint)``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, with a hint on how to fix it."""

    path: str
    line: int
    message: str
    hint: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        label = "" if self.severity == "error" else "warning: "
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}: {label}{self.message}{hint}"

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

"""The organisation's review policy, read from ``<content>/review.toml`` (defaults without it)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.content.problems import Problem

POLICY_FILE = "review.toml"
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """How long a legal review holds, when the checker starts warning, and what expiry is."""

    period_days: int = 365
    warn_days: int = 30
    expired: Severity = "error"


def load_policy(content_dir: Path) -> tuple[ReviewPolicy, list[Problem]]:
    """The policy in ``content_dir/review.toml``; defaults (and the problem) if it is unusable."""
    path = content_dir / POLICY_FILE
    if not path.is_file():
        return ReviewPolicy(), []
    display = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return ReviewPolicy(), [Problem(display, 0, f"cannot read the review policy: {exc}",
                                        "write 'period-days = 365' lines (TOML)", code="E-REVIEW-POLICY")]
    problems: list[Problem] = []
    values: dict[str, object] = {}
    defaults = ReviewPolicy()
    for key, attr in (("period-days", "period_days"), ("warn-days", "warn_days")):
        value = data.get(key, getattr(defaults, attr))
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(Problem(display, 0, f"'{key}' must be a whole number of days, not {value!r}",
                                    code="E-REVIEW-POLICY"))
            continue
        values[attr] = value
    expired = data.get("expired", "error")
    if expired not in ("error", "warning"):
        problems.append(Problem(display, 0, f"'expired' must be \"error\" or \"warning\", not {expired!r}",
                                code="E-REVIEW-POLICY"))
    else:
        values["expired"] = expired
    unknown = sorted(set(data) - {"period-days", "warn-days", "expired"})
    if unknown:
        problems.append(Problem(display, 0, f"unknown keys: {', '.join(unknown)}",
                                "use period-days, warn-days, expired", "warning", code="W-REVIEW-POLICY-KEY"))
    return ReviewPolicy(**values), problems  # type: ignore[arg-type]

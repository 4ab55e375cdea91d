"""Review records in front matter: when a topic expires, what the checker says, what people see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from babel.core import UnknownLocaleError
from babel.dates import format_date

from bot.content.model import ContentTree, TopicFile
from bot.content.problems import Problem
from bot.review.policy import ReviewPolicy
from bot.words.i18n import N_

State = Literal["unreviewed", "current", "expiring", "expired"]
CHECKED = N_("Checked by %(reviewer)s on %(date)s.")
NOT_CHECKED = N_("Not yet checked by a lawyer.")


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    """One topic file's legal review: who, when, until when, and where that leaves it today."""

    state: State
    reviewed: date | None = None
    reviewer: str = ""
    expires: date | None = None


def parse_day(text: str) -> date | None:
    """A YYYY-MM-DD date, or None when empty or malformed."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def review_status(topic: TopicFile, policy: ReviewPolicy, today: date) -> ReviewStatus:
    """Where ``topic``'s review stands on ``today`` under ``policy``."""
    reviewed = parse_day(topic.reviewed)
    if reviewed is None:
        return ReviewStatus("unreviewed", reviewer=topic.reviewer)
    expires = parse_day(topic.review_by) or reviewed + timedelta(days=policy.period_days)
    if today > expires:
        state: State = "expired"
    elif today >= expires - timedelta(days=policy.warn_days):
        state = "expiring"
    else:
        state = "current"
    return ReviewStatus(state, reviewed, topic.reviewer, expires)


def review_problems(tree: ContentTree, policy: ReviewPolicy, today: date) -> list[Problem]:
    """Warnings before a review expires, an error (or warning, by policy) once it has."""
    found: list[Problem] = []
    for code in tree.codes:
        for topic in tree.languages[code].files.values():
            status = review_status(topic, policy, today)
            again = f"print 'kyr-bot review packet --topic {topic.name}' for a lawyer"
            if status.state != "unreviewed" and not status.reviewer:
                found.append(Problem(topic.path, 1, "'reviewed' has a date but 'reviewer' is empty",
                                     "write who reviewed it: person and organisation", "warning",
                                     code="W-REVIEWER-MISSING"))
            if status.reviewed and status.expires and status.expires < status.reviewed:
                found.append(Problem(topic.path, 1, f"'review-by' {status.expires} is before "
                                     f"'reviewed' {status.reviewed}", "fix one of the two dates",
                                     code="E-REVIEW-BY-BEFORE"))
            if status.state == "expired":
                found.append(Problem(topic.path, 1, f"the legal review expired on {status.expires} "
                                     f"(reviewed {status.reviewed} by {status.reviewer or '?'})",
                                     again, policy.expired,
                                     code="E-REVIEW-EXPIRED" if policy.expired == "error"
                                     else "W-REVIEW-EXPIRED"))
            elif status.state == "expiring":
                days = (status.expires - today).days if status.expires else 0
                found.append(Problem(topic.path, 1, f"the legal review expires on {status.expires}, "
                                     f"in {days} day(s)", again, "warning", code="W-REVIEW-EXPIRING"))
    return found


def reviewer_queue(tree: ContentTree, policy: ReviewPolicy, today: date) -> list[str]:
    """Source-language topics a lawyer should look at, most urgent first, each with why."""
    source = tree.languages.get(tree.source_language)
    if source is None:
        return []
    ranked: list[tuple[int, str, str]] = []
    for topic in source.files.values():
        status = review_status(topic, policy, today)
        reasons: list[str] = []
        rank = 9
        if status.state == "expired":
            reasons.append(f"review expired on {status.expires}")
            rank = 0
        if topic.review_needed:
            reasons.append("rests on facts marked 'to verify'")
            rank = min(rank, 1)
        if status.state == "unreviewed":
            reasons.append("never reviewed")
            rank = min(rank, 2)
        if status.state == "expiring":
            reasons.append(f"review expires on {status.expires}")
            rank = min(rank, 3)
        if reasons:
            ranked.append((rank, topic.name, f"{topic.name} ({topic.title}): {'; '.join(reasons)}"))
    return [line for _rank, _name, line in sorted(ranked)]


def review_notice(reviewed: str, reviewer: str, lang: str, gettext: Callable[[str], str]) -> str:
    """What people see on endings: who checked this topic and when, in ``lang`` (plain text)."""
    day = parse_day(reviewed)
    if day is None or not reviewer:
        return gettext(NOT_CHECKED)
    return gettext(CHECKED) % {"reviewer": reviewer, "date": long_date(day, lang)}


def long_date(day: date, lang: str) -> str:
    """A date as people write it in ``lang`` ("29 de noviembre de 2026")."""
    try:
        return format_date(day, format="long", locale=lang)
    except (UnknownLocaleError, ValueError):
        return day.isoformat()

"""Telling storage failures apart from bugs, and logging them once, not once per user.

When the database cannot be read or written (disk full, read-only, a corrupted page,
PostgreSQL down), each user whose step failed is told to try again in a minute, and the
operator gets one log line naming the cause, repeated at most once a minute while it lasts,
and one line when storage works again.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Callable

log = logging.getLogger("kyr_bot.storage")


_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)


def storage_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean storage failed (``except storage_errors():``).

    OSError covers a refused or dropped connection to PostgreSQL, which the driver raises as
    is. SQLAlchemy's and the PostgreSQL driver's own errors count once they are loaded, which
    they are when the store uses PostgreSQL: a bot on a SQLite file loads neither (together
    about 30 MB of memory).
    """
    errors = _ERRORS
    if (exc := sys.modules.get("sqlalchemy.exc")) is not None:
        errors = (*errors, exc.SQLAlchemyError)
    if (asyncpg := sys.modules.get("asyncpg")) is not None:
        errors = (*errors, asyncpg.PostgresError, asyncpg.InterfaceError)
    return errors


# Words in the driver's message -> a cause the operator can act on. Only these fixed words
# reach the log: a statement's text or parameters (which hold a session key) never do.
_CAUSES = (
    ("full", "disk-full"),
    ("readonly", "read-only"),
    ("read-only", "read-only"),
    ("malformed", "corrupt-database"),
    ("not a database", "corrupt-database"),
    ("unable to open", "cannot-open-database"),
    ("disk i/o", "disk-io-error"),
    ("locked", "database-locked"),
    ("connect", "database-unreachable"),
    ("connection", "database-unreachable"),
    ("not accepting", "database-unreachable"),
    ("shutting down", "database-unreachable"),
    ("timeout", "database-timeout"),
    ("timed out", "database-timeout"),
)


def storage_cause(exc: BaseException) -> str:
    """A short, fixed name for why storage failed (never the error's own text)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(getattr(current, "orig", None) or current).lower()
        if isinstance(current, OSError) and not isinstance(current, sqlite3.Error):
            if isinstance(current, ConnectionError | TimeoutError):
                return "database-unreachable"
            if "no space" in text:
                return "disk-full"
        for needle, cause in _CAUSES:
            if needle in text:
                return cause
        current = current.__cause__ or getattr(current, "orig", None)
    return type(exc).__name__


class StorageHealth:
    """Logs the first storage failure, then at most one line per ``interval``, and recovery."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self.failing = False
        self._last_line = float("-inf")
        self._since_line = 0

    def failed(self, exc: BaseException) -> str:
        """Record a failed step; log a line if none was logged for ``interval``. Its cause."""
        cause = storage_cause(exc)
        self.failing = True
        self._since_line += 1
        now = self._clock()
        if now - self._last_line >= self.interval:
            log.error("storage failing cause=%s error=%s failed_steps=%d: users are told to try "
                      "again in a minute; it recovers by itself once storage works again",
                      cause, type(exc).__name__, self._since_line)
            self._last_line = now
            self._since_line = 0
        return cause

    def worked(self) -> None:
        """Record a step that reached storage; log once when storage comes back."""
        if self.failing:
            self.failing = False
            self._last_line = float("-inf")
            log.warning("storage works again failed_steps_since_last_line=%d", self._since_line)
            self._since_line = 0

"""What the store asks of a database, as one interface chosen once when the store opens.

:class:`~bot.store.sqlite_rows.SqliteRows` speaks to a SQLite file through ``sqlite3`` alone;
:class:`~bot.store.alchemy_rows.SqlAlchemyRows` goes through SQLAlchemy's async engine
(PostgreSQL, or an in-memory SQLite database). A bot on a SQLite file therefore never imports
SQLAlchemy or SQLModel, which would cost it about 20 MB of memory. Both keep the revision check
that makes replicas safe, and both run the same schema migrations.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

Execute = Callable[..., Awaitable[list[tuple[Any, ...]]]]
"""``await execute(sql, params)``: one SQL statement with ``:name`` parameters; its rows."""
Migration = Callable[[Execute], Awaitable[None]]
"""One schema step, given ``execute`` inside the transaction that upgrades the database."""
CountRow = tuple[date, str, str, str, int]
"""(day, language, node, event, count)."""


class AlreadyApplied(Exception):
    """This update was applied before (Telegram delivered it again): nothing is to be done."""


class NewerSchema(RuntimeError):
    """The database was upgraded by a newer kyr-bot than this one."""


class SessionRows(Protocol):
    """The store's statements: session rows by key, counts, and the schema."""

    async def prepare(self, version: int, migrations: Mapping[int, Migration]) -> None:
        """Create missing tables and run the migrations up to ``version``, in one transaction."""

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement (``:name`` parameters) in its own transaction; its rows."""

    async def load(self, key: str) -> tuple[str, int] | None:
        """The stored JSON and revision of a session, or None."""

    async def save(self, key: str, payload: str, rev: int, day: date) -> bool:
        """Save if the row is still at ``rev`` (0: create it); False if it is not."""

    async def delete(self, key: str) -> bool:
        """Delete a session; True if there was one."""

    async def purge_batch(self, cutoff: date, limit: int) -> tuple[int, list[tuple[str, str]]]:
        """Delete up to ``limit`` sessions unused since before ``cutoff``: how many, and where
        each one stopped (language, node) when its state is readable."""

    async def forget_updates(self, before: date) -> None:
        """Delete the ids of updates applied before ``before``."""

    async def add_counts(self, rows: Sequence[CountRow]) -> None:
        """Add ``rows`` to the stored counts in one statement."""

    async def counts(self, since: date | None) -> list[CountRow]:
        """Stored counts (since ``since``), by day, language and node."""

    async def shrink(self) -> None:
        """Give the space of deleted rows back to the file system, where the database can."""

    async def close(self) -> None:
        """Release what the rows hold (connections, threads)."""

    def hold(self, key: str, update_id: int | None,
             day: date) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialise steps of one session across processes for the duration of the block."""


def stop_place(payload: str) -> tuple[str, str] | None:
    """(language, node) of a stored state, or None if it cannot be read."""
    try:
        data = json.loads(payload)
        return str(data["lang"]), str(data["node"])
    except (ValueError, KeyError, TypeError):
        return None


async def migrate(execute: Execute, version: int, migrations: Mapping[int, Migration]) -> None:
    """Bring the recorded schema to ``version`` (inside the caller's transaction).

    A new database is recorded at ``version``; an older one runs ``migrations[n]`` for each
    missing step n -> n + 1; a newer one raises :class:`NewerSchema`.
    """
    rows = await execute("SELECT value FROM kyr_meta WHERE name = 'schema'")
    if not rows:
        await execute("INSERT INTO kyr_meta (name, value) VALUES ('schema', :v)", {"v": str(version)})
        return
    found = int(rows[0][0])
    if found > version:
        raise NewerSchema(f"the database is at schema {found}, newer than this code ({version}); "
                          "upgrade kyr-bot")
    while found < version:
        await migrations[found](execute)
        found += 1
    await execute("UPDATE kyr_meta SET value = :v WHERE name = 'schema'", {"v": str(found)})

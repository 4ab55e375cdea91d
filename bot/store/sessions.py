"""The anonymous session store: SQLite by default (``sqlite3``), or PostgreSQL (SQLModel tables
through SQLAlchemy's async engine, for replicas).

A session row holds only what DESIGN.md allows: the HMAC key, the engine state (language,
node, trail, facts, content version) as JSON, a revision number, and coarse days. Aggregate
counts (day, language, node) live in a separate table with no link to any session.

Concurrency: every save names the revision it read; a save that lost a race returns False
and the caller re-reads and retries, so two replicas never overwrite each other's step. On
PostgreSQL, :meth:`SessionStore.hold` also serialises one session's steps across replicas
(a transaction-scoped advisory lock), so a step never loses that race there.

Schema changes: declare them in ``tables.py`` (SQLModel, for PostgreSQL) and in
``sqlite_rows.SCHEMA`` (a test keeps the two alike), bump ``SCHEMA_VERSION`` and add a step to
``MIGRATIONS``: an async function given ``execute(sql, params)``. ``open()`` runs the missing
steps in order inside one transaction, so existing sessions are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.store.files import private_dir, private_file
from bot.store.rows import CountRow, Migration, SessionRows
from bot.store.sqlite_rows import SqliteRows, ensure_incremental_vacuum
from bot.store.stats import SEARCH_MISS_EVENT, SEARCH_MISS_NODE

log = logging.getLogger("kyr_bot.store")
SCHEMA_VERSION = 1
# MIGRATIONS[n] upgrades a database from version n to n + 1 (on SQLite and PostgreSQL alike).
MIGRATIONS: dict[int, Migration] = {}


def sqlite_file(url: str) -> str | None:
    """The file of a ``sqlite[+driver]:///path`` address; None for any other database or memory."""
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme.split("+")[0] != "sqlite":
        return None
    path = rest.split("?")[0]
    return None if path in ("", ":memory:") else path


class SessionStore:
    """Load, save, delete and expire anonymous sessions; keep aggregate counts."""

    def __init__(self, url: str, *, migrations: Mapping[int, Migration] | None = None,
                 schema_version: int = SCHEMA_VERSION, today: Callable[[], date] = date.today) -> None:
        self.url = url
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._schema_version = schema_version
        self._today = today
        self._rows: SessionRows | None = None
        self._pending: Counter[tuple[date, str, str, str]] = Counter()

    async def open(self) -> None:
        """Connect, create missing tables and run pending migrations.

        Chosen once: a SQLite file is read and written through ``sqlite3`` alone; any other
        address (PostgreSQL) through SQLAlchemy, imported only then.
        """
        path = sqlite_file(self.url)
        rows: SessionRows
        if path is not None:
            private_dir(Path(path).parent)
            private_file(Path(path))
            rows = SqliteRows(path)
        else:
            from bot.store.alchemy_rows import SqlAlchemyRows

            rows = SqlAlchemyRows(self.url)
        try:
            await rows.prepare(self._schema_version, self._migrations)
        except BaseException:
            with contextlib.suppress(Exception):  # the first error is the one to report
                await rows.close()
            raise
        if path and ensure_incremental_vacuum(path):
            log.info("sqlite file switched to incremental vacuum (one-time rebuild)")
        self._rows = rows

    async def schema(self) -> int:
        """The schema version recorded in the database."""
        return int((await self.rows.execute("SELECT value FROM kyr_meta WHERE name = 'schema'"))[0][0])

    async def close(self) -> None:
        """Write pending counts and release connections."""
        if self._rows is not None:
            await self.flush_counts()
            await self._rows.close()
            self._rows = None

    @property
    def rows(self) -> SessionRows:
        """The open store's statements."""
        if self._rows is None:
            raise RuntimeError("the store is not open")
        return self._rows

    # -- sessions --------------------------------------------------------------------------
    def hold(self, key: str, update_id: int | None = None) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialise steps of ``key``'s session across replicas while the block runs.

        With ``update_id``, raises :class:`AlreadyApplied` if a replica already applied that
        update (PostgreSQL; a single SQLite process has the runner's memory of recent ids).
        """
        return self.rows.hold(key, update_id, self._today())

    async def load(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The saved state for ``key`` and its revision (``None, 0`` if there is none)."""
        row = await self.rows.load(key)
        if row is None:
            return None, 0
        try:
            data = json.loads(row[0])
        except ValueError:
            return None, int(row[1])
        return (data if isinstance(data, dict) else None), int(row[1])

    async def save(self, key: str, state: dict[str, Any], rev: int) -> bool:
        """Save ``state`` if the row is still at ``rev``; False when another step won the race."""
        payload = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
        return await self.rows.save(key, payload, rev, self._today())

    async def delete(self, key: str) -> bool:
        """Delete a session now; True if there was one."""
        return await self.rows.delete(key)

    async def purge(self, ttl_days: int, batch: int = 1000) -> int:
        """Delete sessions unused for ``ttl_days``; count where each one stopped. Returns how many.

        In short batches (on SQLite, on the store's thread), so users are served between
        them; then the freed space is given back to the file system.
        """
        cutoff = self._today() - timedelta(days=ttl_days)
        total = 0
        while True:
            deleted, places = await self.rows.purge_batch(cutoff, batch)
            for lang, node in places:
                self.count(lang, node, "stop")
            total += deleted
            if deleted < batch:
                break
            await asyncio.sleep(0)  # let waiting steps run between batches
        await self.rows.forget_updates(self._today() - timedelta(days=1))
        await self.flush_counts()
        if total:
            await self.rows.shrink()
        return total

    async def has_sessions(self) -> bool:
        """Whether any session is stored."""
        return bool(await self.rows.execute("SELECT 1 FROM sessions LIMIT 1"))

    async def session_count(self) -> int:
        """How many sessions are stored."""
        return int((await self.rows.execute("SELECT count(*) FROM sessions"))[0][0])

    # -- aggregate counts -------------------------------------------------------------------
    def count(self, lang: str, node: str, event_name: str = "view") -> None:
        """Add one to today's count in memory; :meth:`flush_counts` writes it."""
        self._pending[(self._today(), lang[:16], node[:64], event_name[:8])] += 1

    def count_search_miss(self, lang: str) -> None:
        """Add one to today's count of searches that found nothing in ``lang`` (never the words)."""
        self.count(lang, SEARCH_MISS_NODE, SEARCH_MISS_EVENT)

    async def flush_counts(self) -> None:
        """Write counts gathered in memory in one statement."""
        if not self._pending or self._rows is None:
            return
        pending, self._pending = self._pending, Counter()
        await self._rows.add_counts([(d, lang, n, e, c) for (d, lang, n, e), c in pending.items()])

    async def stats(self, since: date | None = None) -> list[CountRow]:
        """Counts per day, language, node and event, oldest first."""
        return await self.rows.counts(since)

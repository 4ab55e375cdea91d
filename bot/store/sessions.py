"""The anonymous session store (SQLModel on an async engine: SQLite by default, or PostgreSQL).

A session row holds only what DESIGN.md allows: the HMAC key, the engine state (language,
node, trail, facts, content version) as JSON, a revision number, and coarse days. Aggregate
counts (day, language, node) live in a separate table with no link to any session.

Concurrency: every save names the revision it read; a save that lost a race returns False
and the caller re-reads and retries, so two replicas never overwrite each other's step. On
PostgreSQL, :meth:`SessionStore.hold` also serialises one session's steps across replicas
(a transaction-scoped advisory lock), so a step never loses that race there.

Schema changes: bump ``SCHEMA_VERSION`` and append a step to ``MIGRATIONS``; ``open()`` runs
the missing steps in order inside one transaction, so existing sessions are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.files import private_dir, private_file
from bot.store.rows import (
    SessionRows,
    SqlAlchemyRows,
    SqliteRows,
    ensure_incremental_vacuum,
    sqlite_pragmas,
)
from bot.store.stats import SEARCH_MISS_EVENT, SEARCH_MISS_NODE
from bot.store.tables import COUNTS, META, METADATA, RECENT_UPDATES, SESSIONS

log = logging.getLogger("kyr_bot.store")
SCHEMA_VERSION = 1
Migration = Callable[[AsyncConnection], Awaitable[None]]
# MIGRATIONS[n] upgrades a database from version n to n + 1.
MIGRATIONS: dict[int, Migration] = {}


def _upsert_counts(dialect: str, rows: list[dict[str, Any]]) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(COUNTS).values(rows)
    return stmt.on_conflict_do_update(
        index_elements=["day", "lang", "node", "event"],
        set_={"count": COUNTS.c.count + stmt.excluded.count},
    )


class SessionStore:
    """Load, save, delete and expire anonymous sessions; keep aggregate counts."""

    def __init__(self, url: str, *, migrations: dict[int, Migration] | None = None,
                 schema_version: int = SCHEMA_VERSION, today: Callable[[], date] = date.today) -> None:
        self.url = url
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._schema_version = schema_version
        self._today = today
        self._engine: AsyncEngine | None = None
        self._rows: SessionRows | None = None
        self._pending: Counter[tuple[date, str, str, str]] = Counter()

    @property
    def engine(self) -> AsyncEngine:
        """The open SQLAlchemy engine."""
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return self._engine

    async def open(self) -> None:
        """Connect, create missing tables and run pending migrations."""
        url = make_url(self.url)
        sqlite_file = None
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                private_dir(Path(url.database).parent)
                private_file(Path(url.database))
                sqlite_file = url.database
            self._engine = create_async_engine(url)
            event.listen(self._engine.sync_engine, "connect", sqlite_pragmas)
        else:
            self._engine = create_async_engine(url, pool_pre_ping=True)
        async with self.engine.begin() as conn:
            await conn.run_sync(METADATA.create_all, tables=[SESSIONS, COUNTS, META, RECENT_UPDATES])
            await self._migrate(conn)
        if sqlite_file and ensure_incremental_vacuum(sqlite_file):
            log.info("sqlite file switched to incremental vacuum (one-time rebuild)")
        # Chosen once: sessions on a SQLite file skip SQLAlchemy (bot/store/rows.py says why).
        self._rows = SqliteRows(sqlite_file) if sqlite_file else SqlAlchemyRows(self._engine)

    async def _migrate(self, conn: AsyncConnection) -> None:
        row = (await conn.execute(select(META.c.value).where(META.c.name == "schema"))).first()
        if row is None:
            await conn.execute(insert(META).values(name="schema", value=str(self._schema_version)))
            return
        version = int(row[0])
        if version > self._schema_version:
            raise RuntimeError(f"the database is at schema {version}, newer than this code "
                               f"({self._schema_version}); upgrade kyr-bot")
        while version < self._schema_version:
            await self._migrations[version](conn)
            version += 1
        await conn.execute(update(META).where(META.c.name == "schema").values(value=str(version)))

    async def schema(self) -> int:
        """The schema version recorded in the database."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(META.c.value).where(META.c.name == "schema")))
                       .scalar_one())

    async def close(self) -> None:
        """Write pending counts and release connections."""
        if self._engine is not None:
            await self.flush_counts()
            await self._engine.dispose()
            self._engine = None
        if self._rows is not None:
            await self._rows.close()
            self._rows = None

    @property
    def rows(self) -> SessionRows:
        """The session rows of the open store."""
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
        async with self.engine.begin() as conn:
            await conn.execute(delete(RECENT_UPDATES).where(
                RECENT_UPDATES.c.day < self._today() - timedelta(days=1)))
        await self.flush_counts()
        if total:
            await self.rows.shrink()
        return total

    async def has_sessions(self) -> bool:
        """Whether any session is stored."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(SESSIONS.c.key).limit(1))).first() is not None

    async def session_count(self) -> int:
        """How many sessions are stored."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(SESSIONS))).scalar_one())

    # -- aggregate counts -------------------------------------------------------------------
    def count(self, lang: str, node: str, event_name: str = "view") -> None:
        """Add one to today's count in memory; :meth:`flush_counts` writes it."""
        self._pending[(self._today(), lang[:16], node[:64], event_name[:8])] += 1

    def count_search_miss(self, lang: str) -> None:
        """Add one to today's count of searches that found nothing in ``lang`` (never the words)."""
        self.count(lang, SEARCH_MISS_NODE, SEARCH_MISS_EVENT)

    async def flush_counts(self) -> None:
        """Write counts gathered in memory in one statement."""
        if not self._pending or self._engine is None:
            return
        pending, self._pending = self._pending, Counter()
        rows = [{"day": d, "lang": lang, "node": n, "event": e, "count": c}
                for (d, lang, n, e), c in pending.items()]
        async with self.engine.begin() as conn:
            await conn.execute(_upsert_counts(self.engine.dialect.name, rows))

    async def stats(self, since: date | None = None) -> Sequence[tuple[date, str, str, str, int]]:
        """Counts per day, language, node and event, oldest first."""
        query = select(COUNTS.c.day, COUNTS.c.lang, COUNTS.c.node, COUNTS.c.event,
                       COUNTS.c.count).order_by(COUNTS.c.day, COUNTS.c.lang, COUNTS.c.node)
        if since is not None:
            query = query.where(COUNTS.c.day >= since)
        async with self.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(query)).all()]

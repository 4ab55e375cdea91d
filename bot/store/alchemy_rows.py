"""The store through SQLAlchemy's async engine: PostgreSQL (replicas), or an in-memory SQLite.

Imported only for such a database, so a bot on a SQLite file never loads SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import date
from typing import Any

from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store.rows import AlreadyApplied, CountRow, Migration, migrate, stop_place
from bot.store.sqlite_rows import sqlite_pragmas
from bot.store.tables import COUNTS, META, METADATA, RECENT_UPDATES, SESSIONS

# The transaction a step holds its session's lock in (PostgreSQL), with the engine it is on.
_HELD: ContextVar[tuple[AsyncEngine, AsyncConnection] | None] = ContextVar("kyr_held", default=None)


async def _execute(conn: AsyncConnection, sql: str,
                   params: Mapping[str, Any] | None) -> list[tuple[Any, ...]]:
    """One SQL statement with ``:name`` parameters on ``conn``; its rows."""
    result = await conn.execute(text(sql), dict(params or {}))
    return [tuple(r) for r in result.all()] if result.returns_rows else []


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock id for a session key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class SqlAlchemyRows:
    """Session rows through SQLAlchemy's async engine, one short transaction per statement.

    On PostgreSQL, :meth:`hold` serialises one session's steps across replicas: one
    transaction holding an advisory lock on the key, in which the rows are read and written
    and which commits when the step ends (a failed commit raises: never reported saved).
    """

    def __init__(self, url: str) -> None:
        self._engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine.sync_engine, "connect", sqlite_pragmas)

    @property
    def engine(self) -> AsyncEngine:
        """The async engine the rows are read and written through."""
        return self._engine

    async def prepare(self, version: int, migrations: Mapping[int, Migration]) -> None:
        """Create missing tables and migrate, in one transaction."""
        async with self._engine.begin() as conn:
            await conn.run_sync(METADATA.create_all, tables=[SESSIONS, COUNTS, META, RECENT_UPDATES])
            await migrate(lambda sql, params=None: _execute(conn, sql, params), version, migrations)

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; its rows."""
        async with self._engine.begin() as conn:
            return await _execute(conn, sql, params)

    @contextlib.asynccontextmanager
    async def hold(self, key: str, update_id: int | None, day: date) -> AsyncIterator[None]:
        """Hold the session's lock (PostgreSQL) for the duration of the block; with
        ``update_id``, record it in the same transaction or raise :class:`AlreadyApplied`."""
        if self._engine.dialect.name != "postgresql":
            yield
            return
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        async with self._engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(key)})
            if update_id is not None:
                done = await conn.execute(pg_insert(RECENT_UPDATES).values(
                    update_id=update_id, day=day).on_conflict_do_nothing())
                if done.rowcount == 0:
                    raise AlreadyApplied
            token = _HELD.set((self._engine, conn))
            try:
                yield
            finally:
                _HELD.reset(token)

    def _held(self) -> AsyncConnection | None:
        held = _HELD.get()
        return held[1] if held is not None and held[0] is self._engine else None

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        held = self._held()
        if held is not None:
            yield held
        else:
            async with self._engine.connect() as conn:
                yield conn

    @contextlib.asynccontextmanager
    async def _writing(self, savepoint: bool = False) -> AsyncIterator[AsyncConnection]:
        held = self._held()
        if held is not None and savepoint:  # a refused insert leaves the held transaction usable
            async with held.begin_nested():
                yield held
        elif held is not None:
            yield held
        else:
            async with self._engine.begin() as conn:
                yield conn

    async def load(self, key: str) -> tuple[str, int] | None:
        """The stored JSON and revision of a session, or None."""
        async with self._reading() as conn:
            row = (await conn.execute(
                select(SESSIONS.c.state, SESSIONS.c.rev).where(SESSIONS.c.key == key))).first()
        return None if row is None else (str(row[0]), int(row[1]))

    async def save(self, key: str, payload: str, rev: int, day: date) -> bool:
        """Save if the row is still at ``rev`` (0: create it); False if it is not."""
        if rev == 0:
            try:
                async with self._writing(savepoint=True) as conn:
                    await conn.execute(insert(SESSIONS).values(
                        key=key, state=payload, rev=1, created_day=day, updated_day=day))
            except IntegrityError:
                return False
            return True
        async with self._writing() as conn:
            result = await conn.execute(
                update(SESSIONS).where(SESSIONS.c.key == key, SESSIONS.c.rev == rev)
                .values(state=payload, rev=rev + 1, updated_day=day))
            return bool(result.rowcount == 1)

    async def delete(self, key: str) -> bool:
        """Delete a session; True if there was one."""
        async with self._writing() as conn:
            result = await conn.execute(delete(SESSIONS).where(SESSIONS.c.key == key))
        return bool(result.rowcount)

    async def purge_batch(self, cutoff: date, limit: int) -> tuple[int, list[tuple[str, str]]]:
        """Delete up to ``limit`` expired sessions in one short transaction."""
        async with self._engine.begin() as conn:
            rows = (await conn.execute(select(SESSIONS.c.key, SESSIONS.c.state)
                                       .where(SESSIONS.c.updated_day < cutoff).limit(limit))).all()
            if rows:
                await conn.execute(delete(SESSIONS).where(SESSIONS.c.key.in_([r[0] for r in rows])))
        return len(rows), [place for r in rows if (place := stop_place(r[1])) is not None]

    async def forget_updates(self, before: date) -> None:
        """Delete the ids of updates applied before ``before``."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(RECENT_UPDATES).where(RECENT_UPDATES.c.day < before))

    async def add_counts(self, rows: Sequence[CountRow]) -> None:
        """Add ``rows`` to the stored counts in one statement."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(COUNTS).values(
            [{"day": d, "lang": lang, "node": n, "event": e, "count": c} for d, lang, n, e, c in rows])
        stmt = stmt.on_conflict_do_update(index_elements=["day", "lang", "node", "event"],
                                          set_={"count": COUNTS.c.count + stmt.excluded.count})
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def counts(self, since: date | None) -> list[CountRow]:
        """Stored counts (since ``since``), by day, language and node."""
        query = select(COUNTS.c.day, COUNTS.c.lang, COUNTS.c.node, COUNTS.c.event,
                       COUNTS.c.count).order_by(COUNTS.c.day, COUNTS.c.lang, COUNTS.c.node)
        if since is not None:
            query = query.where(COUNTS.c.day >= since)
        async with self._engine.connect() as conn:
            return [(r[0], r[1], r[2], r[3], int(r[4])) for r in (await conn.execute(query)).all()]

    async def shrink(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum reuses the space."""

    async def close(self) -> None:
        """Release the engine's connections."""
        await self._engine.dispose()

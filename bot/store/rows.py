"""Reads and writes of one session row, behind one interface chosen once when the store opens.

:class:`SqliteRows` runs statements on ``sqlite3`` directly (inline on the event loop when they
cannot wait); :class:`SqlAlchemyRows` runs them through the async engine (PostgreSQL, or an
in-memory SQLite database). Both keep the revision check that makes replicas safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from datetime import date
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.tables import RECENT_UPDATES, SESSIONS

T = TypeVar("T")
log = logging.getLogger("kyr_bot.store")
# The transaction a step holds its session's lock in (PostgreSQL), with the engine it is on.
_HELD: ContextVar[tuple[AsyncEngine, AsyncConnection] | None] = ContextVar("kyr_held", default=None)


class AlreadyApplied(Exception):
    """This update was applied before (Telegram delivered it again): nothing is to be done."""


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock id for a session key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


class SessionRows(Protocol):
    """Load, save (revision-checked) and delete one session row by its key."""

    async def load(self, key: str) -> tuple[str, int] | None:
        """The stored JSON and revision of a session, or None."""

    async def save(self, key: str, payload: str, rev: int, day: date) -> bool:
        """Save if the row is still at ``rev`` (0: create it); False if it is not."""

    async def delete(self, key: str) -> bool:
        """Delete a session; True if there was one."""

    async def purge_batch(self, cutoff: date, limit: int) -> tuple[int, list[tuple[str, str]]]:
        """Delete up to ``limit`` sessions unused since before ``cutoff``: how many, and where
        each one stopped (language, node) when its state is readable."""

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


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL, normal syncs, a 5 s wait for the lock and zeroed deletes, on every SQLite connection."""
    cursor = dbapi_connection.cursor()
    # Takes effect on a new database (before its first table); older ones: ensure_incremental_vacuum.
    cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
    cursor.execute("PRAGMA journal_mode=WAL")
    # A deleted session's bytes are overwritten with zeros, not left in a free page.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class SqliteRows:
    """Session reads and writes on SQLite, run inline on the event loop when they cannot wait.

    A read or write of one row by primary key in WAL mode takes about 10 µs; handing it to a
    thread costs about 150 µs of CPU (``bench/inprocess.py --profile`` shows both paths). So statements run
    inline on a connection that never waits: ``busy_timeout`` 0 and no automatic checkpoint,
    the one step that syncs to disk. When another connection holds the write lock (a count
    flush, a purge, ``kyr-bot purge`` in another process), the statement is retried on the
    store's thread, which waits up to 5 s. Checkpoints run on that thread every
    ``CHECKPOINT_EVERY`` writes.
    """

    CHECKPOINT_EVERY = 1000
    VACUUM_PAGES = 1000

    def __init__(self, path: str) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kyr-sqlite")
        self._fast: sqlite3.Connection | None = None
        self._slow: sqlite3.Connection | None = None
        self._writes = 0
        self._checkpoint: asyncio.Task[None] | None = None

    def _fast_db(self) -> sqlite3.Connection:
        if self._fast is None:
            self._fast = sqlite3.connect(self._path, isolation_level=None)
            sqlite_pragmas(self._fast, None)
            self._fast.execute("PRAGMA busy_timeout=0")
            self._fast.execute("PRAGMA wal_autocheckpoint=0")
        return self._fast

    def _slow_db(self) -> sqlite3.Connection:
        if self._slow is None:
            self._slow = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            sqlite_pragmas(self._slow, None)
        return self._slow

    async def _run(self, job: Callable[[sqlite3.Connection], T], write: bool) -> T:
        try:
            result = job(self._fast_db())
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._pool, lambda: job(self._slow_db()))
        if write:
            self._writes += 1
            if self._writes >= self.CHECKPOINT_EVERY and self._checkpoint is None:
                self._writes = 0
                self._checkpoint = asyncio.create_task(self._run_checkpoint())
        return result

    def _checkpoint_now(self) -> None:
        # RESTART, not PASSIVE: a passive checkpoint racing with inline writes never catches up,
        # so the log would never start over and would grow without end. Writers wait (they go
        # to this thread) while it runs; it waits at most 100 ms for readers, else does what
        # it can and the next one finishes.
        db = self._slow_db()
        db.execute("PRAGMA busy_timeout=100")
        try:
            db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        finally:
            db.execute("PRAGMA busy_timeout=5000")

    async def _run_checkpoint(self) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._pool, self._checkpoint_now)
        except sqlite3.Error as exc:  # the next one will try again; nothing is lost
            log.warning("sqlite checkpoint failed error=%s", type(exc).__name__)
        finally:
            self._checkpoint = None

    @contextlib.asynccontextmanager
    async def hold(self, key: str, update_id: int | None, day: date) -> AsyncIterator[None]:
        """Nothing to hold: SQLite has one writer, and the revision check settles the rest."""
        yield

    async def load(self, key: str) -> tuple[str, int] | None:
        """The stored JSON and revision of a session, or None."""
        row = await self._run(lambda db: db.execute(
            "SELECT state, rev FROM sessions WHERE key = ?", (key,)).fetchone(), write=False)
        return None if row is None else (str(row[0]), int(row[1]))

    async def save(self, key: str, payload: str, rev: int, day: date) -> bool:
        """Save if the row is still at ``rev`` (0: create it); False if it is not."""
        iso = day.isoformat()
        if rev == 0:
            sql = ("INSERT INTO sessions (key, state, rev, created_day, updated_day) "
                   "VALUES (?, ?, 1, ?, ?) ON CONFLICT (key) DO NOTHING")
            params: tuple[Any, ...] = (key, payload, iso, iso)
        else:
            sql = ("UPDATE sessions SET state = ?, rev = ?, updated_day = ? "
                   "WHERE key = ? AND rev = ?")
            params = (payload, rev + 1, iso, key, rev)
        return await self._run(lambda db: db.execute(sql, params).rowcount == 1, write=True)

    async def delete(self, key: str) -> bool:
        """Delete a session and erase it from the write-ahead log; True if there was one."""
        deleted = await self._run(lambda db: db.execute(
            "DELETE FROM sessions WHERE key = ?", (key,)).rowcount > 0, write=True)
        if deleted:
            await self._erase_log()
        return deleted

    def _truncate_log(self) -> bool:
        # Earlier versions of the session's page stay in the write-ahead log until a checkpoint
        # copies the zeroed page into the database and the log is cut to zero bytes.
        db = self._slow_db()
        db.execute("PRAGMA busy_timeout=1000")
        try:
            for _attempt in range(5):
                busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    return True
            return False
        finally:
            db.execute("PRAGMA busy_timeout=5000")

    async def _erase_log(self) -> None:
        """Checkpoint and truncate the log now, before the user is told the session is gone."""
        if self._checkpoint is not None:
            await self._checkpoint
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(self._pool, self._truncate_log):
            log.warning("sqlite log not truncated after a forget (readers kept it busy); "
                        "the next checkpoint will")

    async def purge_batch(self, cutoff: date, limit: int) -> tuple[int, list[tuple[str, str]]]:
        """Delete up to ``limit`` expired sessions in one short transaction on the store's thread."""
        def job(db: sqlite3.Connection) -> tuple[int, list[tuple[str, str]]]:
            db.execute("BEGIN IMMEDIATE")
            try:
                rows = db.execute("SELECT key, state FROM sessions WHERE updated_day < ? LIMIT ?",
                                  (cutoff.isoformat(), limit)).fetchall()
                db.executemany("DELETE FROM sessions WHERE key = ?", [(r[0],) for r in rows])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return len(rows), [place for r in rows if (place := stop_place(r[1])) is not None]

        return await asyncio.get_running_loop().run_in_executor(
            self._pool, lambda: job(self._slow_db()))

    async def shrink(self) -> None:
        """Truncate free pages off the file a few at a time, then the write-ahead log."""
        loop = asyncio.get_running_loop()
        # One step per job on the store's thread: writes waiting for it go in between.
        while await loop.run_in_executor(self._pool, self._vacuum_step):
            pass
        await loop.run_in_executor(self._pool, lambda: self._slow_db().execute(
            "PRAGMA wal_checkpoint(TRUNCATE)").fetchone())

    def _vacuum_step(self) -> bool:
        """Give up to ``VACUUM_PAGES`` free pages back; True if some were and more are left."""
        db = self._slow_db()
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:  # not INCREMENTAL
            return False
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        if free == 0:
            return False
        db.execute(f"PRAGMA incremental_vacuum({self.VACUUM_PAGES})").fetchall()
        left = db.execute("PRAGMA freelist_count").fetchone()[0]
        return 0 < left < free

    def _close_slow(self) -> None:
        if self._slow is not None:
            self._slow.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._slow.close()
            self._slow = None

    async def close(self) -> None:
        """Finish a running checkpoint, checkpoint once more and close both connections."""
        if self._checkpoint is not None:
            await self._checkpoint
        await asyncio.get_running_loop().run_in_executor(self._pool, self._close_slow)
        self._pool.shutdown(wait=True)
        if self._fast is not None:
            self._fast.close()
            self._fast = None


class SqlAlchemyRows:
    """Session rows through SQLAlchemy's async engine, one short transaction per statement.

    On PostgreSQL, :meth:`hold` serialises one session's steps across replicas: one
    transaction holding an advisory lock on the key, in which the rows are read and written
    and which commits when the step ends (a failed commit raises: never reported saved).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

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

    async def shrink(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum reuses the space."""

    async def close(self) -> None:
        """Nothing to release: the engine belongs to the store."""


def ensure_incremental_vacuum(path: str) -> bool:
    """Switch an existing SQLite file to ``auto_vacuum=INCREMENTAL`` (one VACUUM); True if it ran.

    A database created by this version already has it; an older one is rebuilt once, keeping
    every row, so that purges can give space back to the file system.
    """
    db = sqlite3.connect(path, isolation_level=None)
    try:
        if db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:
            return False
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("VACUUM")
        return True
    finally:
        db.close()

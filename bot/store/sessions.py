"""The anonymous session store (SQLModel on an async engine: SQLite by default, or PostgreSQL).

A session row holds only what DESIGN.md allows: the HMAC key, the engine state (language,
node, trail, facts, content version) as JSON, a revision number, and coarse days. Aggregate
counts (day, language, node) live in a separate table with no link to any session.

Concurrency: every save names the revision it read; a save that lost a race returns False
and the caller re-reads and retries, so two replicas never overwrite each other's step.

Schema changes: bump ``SCHEMA_VERSION`` and append a step to ``MIGRATIONS``; ``open()`` runs
the missing steps in order inside one transaction, so existing sessions are kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlmodel import Field, SQLModel

T = TypeVar("T")
log = logging.getLogger("kyr_bot.store")
SCHEMA_VERSION = 1
Migration = Callable[[AsyncConnection], Awaitable[None]]
# MIGRATIONS[n] upgrades a database from version n to n + 1.
MIGRATIONS: dict[int, Migration] = {}


class SessionRow(SQLModel, table=True):
    """One anonymous session."""

    __tablename__ = "sessions"
    key: str = Field(primary_key=True, max_length=64)
    state: str
    rev: int = 1
    created_day: date
    updated_day: date = Field(index=True)


class DailyCount(SQLModel, table=True):
    """How many times a node was shown (or was the last one seen) on a day, in a language."""

    __tablename__ = "daily_counts"
    day: date = Field(primary_key=True)
    lang: str = Field(primary_key=True, max_length=16)
    node: str = Field(primary_key=True, max_length=64)
    event: str = Field(primary_key=True, max_length=8)
    count: int = 0


class Meta(SQLModel, table=True):
    """Store-wide settings, such as the schema version."""

    __tablename__ = "kyr_meta"
    name: str = Field(primary_key=True, max_length=32)
    value: str


_SESSIONS = SessionRow.__table__  # type: ignore[attr-defined]
_COUNTS = DailyCount.__table__  # type: ignore[attr-defined]
_META = Meta.__table__  # type: ignore[attr-defined]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _upsert_counts(dialect: str, rows: list[dict[str, Any]]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(_COUNTS).values(rows)
    return stmt.on_conflict_do_update(
        index_elements=["day", "lang", "node", "event"],
        set_={"count": _COUNTS.c.count + stmt.excluded.count},
    )


class _SqliteSessions:
    """Session reads and writes on SQLite, run inline on the event loop when they cannot wait.

    A read or write of one row by primary key in WAL mode takes about 10 µs; handing it to a
    thread costs about 150 µs of CPU (``bench/run.py`` measures both paths). So statements run
    inline on a connection that never waits: ``busy_timeout`` 0 and no automatic checkpoint,
    the one step that syncs to disk. When another connection holds the write lock (a count
    flush, a purge, ``kyr-bot purge`` in another process), the statement is retried on the
    store's thread, which waits up to 5 s. Checkpoints run on that thread every
    ``CHECKPOINT_EVERY`` writes.
    """

    CHECKPOINT_EVERY = 1000

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
            _sqlite_pragmas(self._fast, None)
            self._fast.execute("PRAGMA busy_timeout=0")
            self._fast.execute("PRAGMA wal_autocheckpoint=0")
        return self._fast

    def _slow_db(self) -> sqlite3.Connection:
        if self._slow is None:
            self._slow = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            _sqlite_pragmas(self._slow, None)
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

    async def load(self, key: str) -> tuple[str, int] | None:
        """The stored JSON and revision of a session, or None."""
        row = await self._run(lambda db: db.execute(
            "SELECT state, rev FROM sessions WHERE key = ?", (key,)).fetchone(), write=False)
        return None if row is None else (str(row[0]), int(row[1]))

    async def save(self, key: str, payload: str, rev: int, day: str) -> bool:
        """Save if the row is still at ``rev`` (0: create it); False if it is not."""
        if rev == 0:
            sql = ("INSERT INTO sessions (key, state, rev, created_day, updated_day) "
                   "VALUES (?, ?, 1, ?, ?) ON CONFLICT (key) DO NOTHING")
            params: tuple[Any, ...] = (key, payload, day, day)
        else:
            sql = ("UPDATE sessions SET state = ?, rev = ?, updated_day = ? "
                   "WHERE key = ? AND rev = ?")
            params = (payload, rev + 1, day, key, rev)
        return await self._run(lambda db: db.execute(sql, params).rowcount == 1, write=True)

    async def delete(self, key: str) -> bool:
        """Delete a session; True if there was one."""
        return await self._run(lambda db: db.execute(
            "DELETE FROM sessions WHERE key = ?", (key,)).rowcount > 0, write=True)

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


class SessionStore:
    """Load, save, delete and expire anonymous sessions; keep aggregate counts."""

    def __init__(self, url: str, *, migrations: dict[int, Migration] | None = None,
                 schema_version: int = SCHEMA_VERSION, today: Callable[[], date] = date.today) -> None:
        self.url = url
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._schema_version = schema_version
        self._today = today
        self._engine: AsyncEngine | None = None
        self._sqlite: _SqliteSessions | None = None
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
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                self._sqlite = _SqliteSessions(url.database)
            self._engine = create_async_engine(url)
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self._engine = create_async_engine(url, pool_pre_ping=True)
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all,
                                tables=[_SESSIONS, _COUNTS, _META])
            await self._migrate(conn)

    async def _migrate(self, conn: AsyncConnection) -> None:
        row = (await conn.execute(select(_META.c.value).where(_META.c.name == "schema"))).first()
        if row is None:
            await conn.execute(insert(_META).values(name="schema", value=str(self._schema_version)))
            return
        version = int(row[0])
        if version > self._schema_version:
            raise RuntimeError(f"the database is at schema {version}, newer than this code "
                               f"({self._schema_version}); upgrade kyr-bot")
        while version < self._schema_version:
            await self._migrations[version](conn)
            version += 1
        await conn.execute(update(_META).where(_META.c.name == "schema").values(value=str(version)))

    async def schema(self) -> int:
        """The schema version recorded in the database."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(_META.c.value).where(_META.c.name == "schema")))
                       .scalar_one())

    async def close(self) -> None:
        """Write pending counts and release connections."""
        if self._engine is not None:
            await self.flush_counts()
            await self._engine.dispose()
            self._engine = None
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None

    # -- sessions --------------------------------------------------------------------------
    async def load(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The saved state for ``key`` and its revision (``None, 0`` if there is none)."""
        if self._sqlite is not None:
            row: Any = await self._sqlite.load(key)
        else:
            async with self.engine.connect() as conn:
                row = (await conn.execute(
                    select(_SESSIONS.c.state, _SESSIONS.c.rev).where(_SESSIONS.c.key == key)
                )).first()
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
        today = self._today()
        if self._sqlite is not None:
            return await self._sqlite.save(key, payload, rev, today.isoformat())
        async with self.engine.begin() as conn:
            if rev == 0:
                try:
                    await conn.execute(insert(_SESSIONS).values(
                        key=key, state=payload, rev=1, created_day=today, updated_day=today))
                except IntegrityError:
                    return False
                return True
            result = await conn.execute(
                update(_SESSIONS).where(_SESSIONS.c.key == key, _SESSIONS.c.rev == rev)
                .values(state=payload, rev=rev + 1, updated_day=today))
            return bool(result.rowcount == 1)

    async def delete(self, key: str) -> bool:
        """Delete a session now; True if there was one."""
        if self._sqlite is not None:
            return await self._sqlite.delete(key)
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(_SESSIONS).where(_SESSIONS.c.key == key))
        return bool(result.rowcount)

    async def purge(self, ttl_days: int) -> int:
        """Delete sessions unused for ``ttl_days``; count where each one stopped. Returns how many."""
        cutoff = self._today() - timedelta(days=ttl_days)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(
                select(_SESSIONS.c.state).where(_SESSIONS.c.updated_day < cutoff))).all()
            for (payload,) in rows:
                try:
                    data = json.loads(payload)
                    self.count(str(data["lang"]), str(data["node"]), "stop")
                except (ValueError, KeyError, TypeError):
                    continue
            await conn.execute(delete(_SESSIONS).where(_SESSIONS.c.updated_day < cutoff))
        await self.flush_counts()
        return len(rows)

    async def session_count(self) -> int:
        """How many sessions are stored."""
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(_SESSIONS))).scalar_one())

    # -- aggregate counts -------------------------------------------------------------------
    def count(self, lang: str, node: str, event_name: str = "view") -> None:
        """Add one to today's count in memory; :meth:`flush_counts` writes it."""
        self._pending[(self._today(), lang[:16], node[:64], event_name[:8])] += 1

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
        query = select(_COUNTS.c.day, _COUNTS.c.lang, _COUNTS.c.node, _COUNTS.c.event,
                       _COUNTS.c.count).order_by(_COUNTS.c.day, _COUNTS.c.lang, _COUNTS.c.node)
        if since is not None:
            query = query.where(_COUNTS.c.day >= since)
        async with self.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(query)).all()]  # type: ignore[misc]

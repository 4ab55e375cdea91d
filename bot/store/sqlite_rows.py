"""The store on a SQLite file through ``sqlite3`` alone (no SQLAlchemy: about 20 MB less memory).

Statements on one session row run inline on the event loop when they cannot wait; everything
else (counts, purges, checkpoints, the schema) runs on the store's own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar

from bot.store.rows import CountRow, Migration, migrate, stop_place

T = TypeVar("T")
log = logging.getLogger("kyr_bot.store")

# The tables as SQLModel declares them in bot/store/tables.py, in the words SQLAlchemy's
# create_all uses for SQLite (tests/test_store.py checks they stay the same), so a file made by
# either is the same file.
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS daily_counts (
	day DATE NOT NULL,
	lang VARCHAR(16) NOT NULL,
	node VARCHAR(64) NOT NULL,
	event VARCHAR(8) NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (day, lang, node, event)
)""",
    """CREATE TABLE IF NOT EXISTS kyr_meta (
	name VARCHAR(32) NOT NULL,
	value VARCHAR NOT NULL,
	PRIMARY KEY (name)
)""",
    """CREATE TABLE IF NOT EXISTS recent_updates (
	update_id BIGINT NOT NULL,
	day DATE NOT NULL,
	PRIMARY KEY (update_id)
)""",
    "CREATE INDEX IF NOT EXISTS ix_recent_updates_day ON recent_updates (day)",
    """CREATE TABLE IF NOT EXISTS sessions (
	"key" VARCHAR(64) NOT NULL,
	state VARCHAR NOT NULL,
	rev INTEGER NOT NULL,
	created_day DATE NOT NULL,
	updated_day DATE NOT NULL,
	PRIMARY KEY ("key")
)""",
    "CREATE INDEX IF NOT EXISTS ix_sessions_updated_day ON sessions (updated_day)",
)
_ADD_COUNTS = ("INSERT INTO daily_counts (day, lang, node, event, count) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (day, lang, node, event) DO UPDATE SET count = count + excluded.count")


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

    async def _on_thread(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` on the store's thread, on the connection that waits for locks."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, lambda: job(self._slow_db()))

    async def prepare(self, version: int, migrations: Mapping[int, Migration]) -> None:
        """Create missing tables and migrate, in one transaction (before any step is served)."""
        db = self._slow_db()

        async def execute(sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
            return db.execute(sql, params or {}).fetchall()

        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA:
                db.execute(statement)
            await migrate(execute, version, migrations)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction on the store's thread; its rows."""
        return await self._on_thread(lambda db: db.execute(sql, params or {}).fetchall())

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

        return await self._on_thread(job)

    async def forget_updates(self, before: date) -> None:
        """Delete the ids of updates applied before ``before`` (kept by PostgreSQL replicas)."""
        await self._on_thread(lambda db: db.execute(
            "DELETE FROM recent_updates WHERE day < ?", (before.isoformat(),)))

    async def add_counts(self, rows: Sequence[CountRow]) -> None:
        """Add ``rows`` to the stored counts in one transaction on the store's thread."""
        params = [(day.isoformat(), lang, node, event, count) for day, lang, node, event, count in rows]

        def job(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_ADD_COUNTS, params)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._on_thread(job)

    async def counts(self, since: date | None) -> list[CountRow]:
        """Stored counts (since ``since``), by day, language and node."""
        sql = "SELECT day, lang, node, event, count FROM daily_counts"
        params: tuple[str, ...] = ()
        if since is not None:
            sql, params = sql + " WHERE day >= ?", (since.isoformat(),)
        rows = await self._on_thread(lambda db: db.execute(
            sql + " ORDER BY day, lang, node", params).fetchall())
        return [(date.fromisoformat(d), lang, node, event, int(c)) for d, lang, node, event, c in rows]

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

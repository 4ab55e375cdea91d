"""The anonymous session store on a real SQLite file (and PostgreSQL when DATABASE_URL_PG is set)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.store.keys import SessionKeyer, load_secret
from bot.store.sessions import SessionStore
from bot.store.stats import format_stats

PG_URL = os.environ.get("DATABASE_URL_PG", "")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip("PostgreSQL not available: set DATABASE_URL_PG (.ci/run does)")
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'kyr.db'}"
    s = SessionStore(url)
    await s.open()
    if request.param == "postgresql":
        for table in ("sessions", "daily_counts", "recent_updates"):
            await s.rows.execute(f"DELETE FROM {table}")
    yield s
    await s.close()


async def test_save_load_and_revisions(store: SessionStore) -> None:
    assert await store.load("k1") == (None, 0)
    assert await store.save("k1", {"lang": "es", "node": "start"}, 0)
    data, rev = await store.load("k1")
    assert data == {"lang": "es", "node": "start"} and rev == 1
    assert await store.save("k1", {"lang": "es", "node": "tc-start"}, 1)
    assert not await store.save("k1", {"lang": "en", "node": "lost"}, 1)  # stale revision
    assert not await store.save("k1", {"lang": "en", "node": "lost"}, 0)  # already exists
    data, rev = await store.load("k1")
    assert data == {"lang": "es", "node": "tc-start"} and rev == 2


async def test_delete(store: SessionStore) -> None:
    await store.save("k1", {"lang": "en", "node": "start"}, 0)
    assert await store.delete("k1")
    assert not await store.delete("k1")
    assert await store.load("k1") == (None, 0)


async def test_concurrent_saves_of_one_session_never_overwrite(store: SessionStore) -> None:
    await store.save("k", {"lang": "en", "node": "n0"}, 0)

    async def bump() -> bool:
        _data, rev = await store.load("k")
        await asyncio.sleep(0)
        return await store.save("k", {"lang": "en", "node": "next"}, rev)

    results = await asyncio.gather(*(bump() for _ in range(10)))
    _, rev = await store.load("k")
    assert rev == 1 + sum(results)  # every success is one revision; losers were told so
    assert sum(results) >= 1


async def test_many_concurrent_saves_all_land_with_their_own_results(store: SessionStore) -> None:
    for i in range(0, 300, 2):
        await store.save(f"k{i}", {"lang": "en", "node": "old"}, 0)
    results = await asyncio.gather(
        *(store.save(f"k{i}", {"lang": "en", "node": f"n{i}"}, 1 if i % 2 == 0 else 0)
          for i in range(300)),
        *(store.save(f"k{i}", {"lang": "en", "node": "stale"}, 0) for i in range(0, 300, 10)),
    )
    assert all(results[:300])  # every fresh save and every update at the right revision
    assert not any(results[300:])  # creating a session that exists fails
    assert await store.session_count() == 300
    for i in (0, 1, 150, 299):
        data, rev = await store.load(f"k{i}")
        assert data == {"lang": "en", "node": f"n{i}"}
        assert rev == (2 if i % 2 == 0 else 1)


async def test_a_failed_write_raises_and_the_next_one_works(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    await store.open()
    try:
        await store.rows.execute(  # make every write to sessions fail
            "CREATE TRIGGER no_writes BEFORE INSERT ON sessions "
            "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
        with pytest.raises(sqlite3.Error, match="disk says no"):
            await store.save("k1", {"lang": "en"}, 0)
        assert await store.session_count() == 0
        await store.rows.execute("DROP TRIGGER no_writes")
        assert await store.save("k1", {"lang": "en"}, 0)
        assert await store.load("k1") == ({"lang": "en"}, 1)
    finally:
        await store.close()


async def test_sqlite_writes_wait_for_a_lock_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    store = SessionStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    other = sqlite3.connect(path, isolation_level=None)  # e.g. `kyr-bot purge` in another process
    try:
        assert await store.save("k", {"lang": "en", "node": "a"}, 0)
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        save = asyncio.create_task(store.save("k", {"lang": "en", "node": "b"}, 1))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the save waits on the store's thread
            await asyncio.sleep(0.01)
            ticks += 1
        assert not save.done() and ticks == 20
        other.execute("COMMIT")
        assert await asyncio.wait_for(save, 5)
        assert await store.load("k") == ({"lang": "en", "node": "b"}, 2)
    finally:
        other.close()
        await store.close()


async def test_sqlite_wal_is_checkpointed_as_sessions_are_written(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    store = SessionStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    try:
        await store.save("k", {"lang": "en", "n": 0}, 0)
        for rev in range(1, 2501):  # each commit appends at least one 4 KiB page to the WAL
            assert await store.save("k", {"lang": "en", "n": rev}, rev)
            if rev % 100 == 0:
                await asyncio.sleep(0.01)  # let a checkpoint run on the store's thread
        # Without checkpoints the WAL would hold all 2,500 commits; with them it starts over.
        probe = sqlite3.connect(path)
        _busy, frames, _done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        probe.close()
        assert 0 < frames < 3000  # 5,000 without checkpoints (two pages per commit)
        assert await store.load("k") == ({"lang": "en", "n": 2500}, 2501)
    finally:
        await store.close()
    reopened = sqlite3.connect(path)
    assert reopened.execute("SELECT rev FROM sessions WHERE key = 'k'").fetchone() == (2501,)
    reopened.close()


async def test_purge_expires_old_sessions_and_counts_where_they_stopped(tmp_path: Path) -> None:
    day = [date(2026, 1, 1)]
    store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", today=lambda: day[0])
    await store.open()
    await store.save("old", {"lang": "es", "node": "tc-fear"}, 0)
    day[0] += timedelta(days=20)
    await store.save("new", {"lang": "en", "node": "start"}, 0)
    day[0] += timedelta(days=15)
    assert await store.purge(30) == 1
    assert await store.load("old") == (None, 0)
    assert (await store.load("new"))[0] is not None
    rows = await store.stats()
    assert (day[0], "es", "tc-fear", "stop", 1) in rows
    await store.close()


async def test_purge_goes_in_batches_and_shrinks_the_file(store: SessionStore) -> None:
    day = [date(2026, 1, 1)]
    store._today = lambda: day[0]  # the fixture's store, on SQLite and on PostgreSQL
    filler = "x" * 2000  # large states, so that deleting them frees many pages
    for i in range(230):
        await store.save(f"old{i:03d}", {"lang": "fr", "node": f"n{i % 3}", "pad": filler}, 0)
    await store.save("bad", {"lang": "en"}, 0)  # no node: deleted, not counted
    day[0] += timedelta(days=40)
    await store.save("new", {"lang": "en", "node": "start"}, 0)
    size = _file_size(store)
    assert await store.purge(30, batch=50) == 231
    assert await store.session_count() == 1 and (await store.load("new"))[0] is not None
    stops = {(lang, node): n for d, lang, node, event, n in await store.stats() if event == "stop"}
    assert stops == {("fr", "n0"): 77, ("fr", "n1"): 77, ("fr", "n2"): 76}
    if size is not None:  # SQLite: the freed pages went back to the file system
        assert _file_size(store) < size / 4


def _file_size(store: SessionStore) -> int | None:
    """Bytes of a SQLite store's file and its write-ahead log; None on PostgreSQL."""
    if not store.url.startswith("sqlite"):
        return None
    path = Path(store.url.split("///", 1)[1])
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def test_a_new_database_vacuums_incrementally_and_an_old_one_is_switched(tmp_path: Path) -> None:
    from bot.store.sqlite_rows import ensure_incremental_vacuum

    async def open_close(path: Path) -> None:
        store = SessionStore(f"sqlite+aiosqlite:///{path}")
        await store.open()
        await store.save("kept", {"lang": "es", "node": "tc-fear"}, 0)
        await store.close()

    asyncio.run(open_close(tmp_path / "new.db"))
    assert _auto_vacuum(tmp_path / "new.db") == 2
    assert not ensure_incremental_vacuum(str(tmp_path / "new.db"))  # nothing to do
    old = tmp_path / "old.db"  # as the previous version made it: WAL, no auto_vacuum
    asyncio.run(open_close(old))
    db = sqlite3.connect(old, isolation_level=None)
    db.execute("PRAGMA auto_vacuum=NONE")
    db.execute("VACUUM")
    assert db.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()

    async def reopen() -> tuple[dict | None, int]:
        store = SessionStore(f"sqlite+aiosqlite:///{old}")
        await store.open()
        try:
            return await store.load("kept")
        finally:
            await store.close()

    assert asyncio.run(reopen())[0] == {"lang": "es", "node": "tc-fear"}
    assert _auto_vacuum(old) == 2


def _auto_vacuum(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA auto_vacuum").fetchone()[0])
    finally:
        db.close()


async def test_counts_are_aggregated_and_small_numbers_hidden(store: SessionStore) -> None:
    for _ in range(7):
        store.count("es", "tc-start")
    store.count("fr", "tc-start")
    await store.flush_counts()
    store.count("es", "tc-start")
    await store.flush_counts()
    rows = await store.stats(since=date.today() - timedelta(days=1))
    assert (date.today(), "es", "tc-start", "view", 8) in rows
    table = format_stats(rows)
    assert "tc-start" in table and " 8 " in table + " " and "<5" in table
    assert await store.stats(since=date.today() + timedelta(days=1)) == []


async def test_searches_that_found_nothing_are_counted_per_day_and_language(
        store: SessionStore) -> None:
    for _ in range(6):
        store.count_search_miss("es")
    store.count_search_miss("fr")
    store.count("es", "tc-start")
    await store.flush_counts()
    rows = await store.stats()
    assert (date.today(), "es", "*search", "no-match", 6) in rows
    assert (date.today(), "fr", "*search", "no-match", 1) in rows
    table = format_stats(rows)
    steps, misses = table.split("searches that found nothing")
    assert "*search" not in steps  # not shown as a step
    day = date.today().isoformat()
    assert f"{day}  es          6" in misses and f"{day}  fr         <5" in misses


async def test_sessions_survive_reopen(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    first = SessionStore(url)
    await first.open()
    await first.save("k", {"lang": "fr", "node": "ag-start"}, 0)
    await first.close()
    second = SessionStore(url)
    await second.open()
    assert (await second.load("k"))[0] == {"lang": "fr", "node": "ag-start"}
    await second.close()


def _sqlite_schema(path: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                          "ORDER BY name").fetchall()
    finally:
        db.close()
    return [(kind, name, " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()))
            for kind, name, sql in rows]


def test_the_sqlite_schema_is_the_one_sqlmodel_declares(tmp_path: Path) -> None:
    """A file made by sqlite3 alone and one made by SQLModel's create_all are the same file."""
    from sqlalchemy import create_engine

    from bot.store.tables import METADATA

    engine = create_engine(f"sqlite:///{tmp_path / 'sqlmodel.db'}")
    METADATA.create_all(engine)
    engine.dispose()

    async def made_by_the_store() -> None:
        store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        await store.open()
        await store.close()

    asyncio.run(made_by_the_store())
    declared = _sqlite_schema(tmp_path / "sqlmodel.db")
    assert {name for _kind, name, _sql in declared} == {
        "sessions", "daily_counts", "kyr_meta", "recent_updates",
        "ix_sessions_updated_day", "ix_recent_updates_day"}
    assert _sqlite_schema(tmp_path / "store.db") == declared


def test_a_file_made_through_sqlalchemy_keeps_its_sessions(tmp_path: Path) -> None:
    """A database written by the SQLAlchemy path (earlier versions) opens with its rows intact."""
    from sqlalchemy import create_engine, insert

    from bot.store.tables import COUNTS, META, METADATA, SESSIONS

    path = tmp_path / "earlier.db"
    engine = create_engine(f"sqlite:///{path}")
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(META).values(name="schema", value="1"))
        conn.execute(insert(SESSIONS).values(key="k" * 64, state='{"lang":"fr","node":"ag-start"}',
                                             rev=3, created_day=date(2026, 5, 1),
                                             updated_day=date(2026, 5, 2)))
        conn.execute(insert(COUNTS).values(day=date(2026, 5, 2), lang="fr", node="ag-start",
                                           event="view", count=4))
    engine.dispose()

    async def reopen() -> None:
        store = SessionStore(f"sqlite+aiosqlite:///{path}", today=lambda: date(2026, 5, 2))
        await store.open()
        try:
            assert await store.load("k" * 64) == ({"lang": "fr", "node": "ag-start"}, 3)
            store.count("fr", "ag-start")
            await store.flush_counts()
            assert await store.stats() == [(date(2026, 5, 2), "fr", "ag-start", "view", 5)]
            assert await store.purge(ttl_days=0) == 0  # updated today: kept
        finally:
            await store.close()

    asyncio.run(reopen())


def test_a_bot_on_a_sqlite_file_never_loads_sqlalchemy(tmp_path: Path) -> None:
    """SQLAlchemy and SQLModel (about 20 MB) are for PostgreSQL; every store call runs without."""
    import subprocess
    import sys

    from helpers import ROOT

    code = (
        "import asyncio, sys, bot.telegram.runner\n"
        "from datetime import date\n"
        "from bot.store.sessions import SessionStore\n"
        "async def main():\n"
        f"    s = SessionStore('sqlite+aiosqlite:///{tmp_path / 'kyr.db'}')\n"
        "    await s.open()\n"
        "    assert await s.save('k', {'lang': 'en', 'node': 'start'}, 0)\n"
        "    assert (await s.load('k'))[1] == 1 and await s.has_sessions()\n"
        "    s.count('en', 'start')\n"
        "    await s.flush_counts()\n"
        "    assert len(await s.stats(date(2000, 1, 1))) == 1 and await s.schema() == 1\n"
        "    assert await s.purge(0) == 0 and await s.delete('k') and await s.session_count() == 0\n"
        "    await s.close()\n"
        "asyncio.run(main())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'asyncpg'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


async def test_wal_mode_on_sqlite(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await store.open()
    assert await store.rows.execute("PRAGMA journal_mode") == [("wal",)]
    await store.close()


async def test_migration_keeps_existing_sessions(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    v1 = SessionStore(url)
    await v1.open()
    await v1.save("k", {"lang": "es", "node": "start"}, 0)
    await v1.close()

    async def add_column(execute) -> None:  # a future schema change: v1 -> v2
        await execute("ALTER TABLE sessions ADD COLUMN channel VARCHAR(8) DEFAULT 'tg'")

    v2 = SessionStore(url, migrations={1: add_column}, schema_version=2)
    await v2.open()
    assert await v2.schema() == 2
    assert (await v2.load("k"))[0] == {"lang": "es", "node": "start"}
    assert await v2.rows.execute("SELECT channel FROM sessions") == [("tg",)]
    await v2.close()
    older = SessionStore(url)  # code older than the database refuses to run
    with pytest.raises(RuntimeError, match="newer than this code"):
        await older.open()


async def test_unreadable_state_is_treated_as_new(store: SessionStore) -> None:
    await store.save("k", {"lang": "en"}, 0)
    await store.rows.execute("UPDATE sessions SET state = 'not json' WHERE key = 'k'")
    data, rev = await store.load("k")
    assert data is None and rev == 1


def test_secret_is_generated_once_with_0600(tmp_path: Path) -> None:
    secret = load_secret("", tmp_path / "data")
    path = tmp_path / "data" / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret("", tmp_path / "data") == secret
    assert load_secret("configured-secret-value", tmp_path / "other") == b"configured-secret-value"
    assert not (tmp_path / "other").exists()


def test_session_key_is_an_hmac_not_the_chat_id() -> None:
    keyer = SessionKeyer(b"x" * 32)
    key = keyer.key(123456789)
    assert len(key) == 64 and "123456789" not in key
    assert key == keyer.key(123456789) != SessionKeyer(b"y" * 32).key(123456789)
    with pytest.raises(ValueError):
        SessionKeyer(b"short")


async def test_an_update_applied_once_across_replicas(store: SessionStore) -> None:
    if not store.url.startswith("postgresql"):
        pytest.skip("on SQLite one process serves, and the runner remembers recent update ids")
    from bot.store.rows import AlreadyApplied

    async with store.hold("k" * 64, 41):
        assert await store.save("k" * 64, {"lang": "en", "node": "start"}, 0)
    with pytest.raises(AlreadyApplied):  # the same update again, as another replica sees it
        async with store.hold("k" * 64, 41):
            raise AssertionError("not reached")
    with pytest.raises(RuntimeError):  # a step that fails records nothing: a retry is applied
        async with store.hold("k" * 64, 42):
            raise RuntimeError("storage went away")
    async with store.hold("k" * 64, 42):
        pass
    ids = [r[0] for r in await store.rows.execute("SELECT update_id FROM recent_updates ORDER BY 1")]
    assert ids == [41, 42]


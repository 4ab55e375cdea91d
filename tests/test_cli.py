"""The kyr-bot command line: check exit codes and the terminal chat driven through stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import MINI, ROOT, copy_tree, edit, line_of


def kyr(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=60)


def test_check_exits_0_on_valid_content() -> None:
    result = kyr("check", "--content", str(MINI))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s), 2 warning(s)" in result.stdout
    assert "es: interface 100%, content 100%, 5 steps in 2 files, 0 out of date" in result.stdout


def test_check_exits_1_and_names_file_and_line(tmp_path: Path) -> None:
    root = copy_tree(MINI, tmp_path / "content")
    f = root / "en/topic.md"
    edit(f, "-> [No](fear-no)", "-> [No](missing-step)")
    result = kyr("check", "--content", str(root))
    assert result.returncode == 1
    assert f"{f}:{line_of(f, 'missing-step')}: choice points at 'missing-step'" in result.stdout
    assert "error(s)" in result.stdout


def test_check_missing_folder(tmp_path: Path) -> None:
    result = kyr("check", "--content", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "the content folder does not exist" in result.stdout


def test_check_default_content_from_another_directory(tmp_path: Path) -> None:
    result = kyr("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_chat_walks_the_tree_through_stdin() -> None:
    result = kyr("chat", "--content", str(MINI), "--lang", "es", stdin="1\n1\n1\n/menu\nmotivos\nq\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("Bienvenida") < out.index("¿Tiene miedo?") < out.index("Dígaselo al juez")
    assert "[1] Miedo a un país" in out
    assert "Los motivos" in out.split("Dígaselo al juez", 1)[1]


def test_chat_ends_cleanly_at_end_of_input_and_handles_bad_numbers() -> None:
    result = kyr("chat", "--content", str(MINI), stdin="99\nabc\n")
    assert result.returncode == 0
    after_99 = result.stdout.split("> ", 1)[1]
    assert "How to use this bot" in after_99 and "/forget" in after_99  # help, with the commands
    assert "older version" not in result.stdout


def test_chat_refuses_broken_content(tmp_path: Path) -> None:
    root = copy_tree(MINI, tmp_path / "content")
    edit(root / "en/topic.md", "-> [No](fear-no)", "-> [No](gone)")
    result = kyr("chat", "--content", str(root))
    assert result.returncode == 1
    assert "kyr-bot check" in result.stderr and "gone" in result.stderr


def test_purge_and_stats_commands(tmp_path: Path) -> None:
    import asyncio
    from datetime import date, timedelta

    from bot.store.sessions import SessionStore

    url = f"sqlite+aiosqlite:///{tmp_path / 'kyr.db'}"

    async def fill() -> None:
        old = SessionStore(url, today=lambda: date.today() - timedelta(days=40))
        await old.open()
        await old.save("old-session", {"lang": "es", "node": "tc-fear-yes"}, 0)
        for _ in range(6):
            old.count("es", "tc-start")
        await old.close()
        new = SessionStore(url)
        await new.open()
        await new.save("new-session", {"lang": "fr", "node": "start"}, 0)
        new.count("fr", "start")
        await new.close()

    asyncio.run(fill())
    env_db = {"DATABASE_URL": url, "SESSION_TTL_DAYS": "30"}
    purge = kyr_env(env_db, "purge")
    assert purge.returncode == 0 and "deleted 1 session(s)" in purge.stdout
    stats = kyr_env(env_db, "stats")
    assert stats.returncode == 0
    assert "tc-start" in stats.stdout and " 6 " in stats.stdout
    assert "tc-fear-yes" in stats.stdout  # where the expired session stopped
    lines = {line.split()[2]: line for line in stats.stdout.splitlines()[2:] if line.count("-") >= 2}
    assert "<5" in lines["start"]
    since = kyr_env(env_db, "stats", "--since", (date.today() + timedelta(days=1)).isoformat())
    assert "no counts yet" in since.stdout
    bad = kyr_env(env_db, "stats", "--since", "yesterday")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def kyr_env(extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)

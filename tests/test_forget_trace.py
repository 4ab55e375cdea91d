"""After /forget, the session is gone from every file in the data folder (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from e2e import bot_settings, running
from fake_telegram import FakeTelegram


def files_holding(folder: Path, needles: list[bytes]) -> list[str]:
    """Names of the files in ``folder`` (database, -wal, -shm, ...) that contain any needle."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path.name}: {needle[:24]!r}" for needle in needles if needle in content]
    return found


async def test_forget_leaves_no_trace_in_any_file(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(bot_settings(fake_telegram, data,
                                    DATABASE_URL=f"sqlite+aiosqlite:///{data / 'kyr.db'}")) as service:
        other = fake_telegram.user(8200, language_code="es")
        other.send_text("/start")  # another user's session, kept
        await other.wait_reply()
        user = fake_telegram.user(8201, language_code="fr")
        key = service.runtime.keyer.key(user.chat_id)
        user.send_text("/start")
        await user.wait_reply()
        needles = [key.encode()]
        for data_button in ("1:g:tc-start", "1:g:tc-what"):
            user.press(data_button)
            await user.wait_reply()
            state, _rev = await service.runtime.store.load(key)
            needles.append(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())
        assert files_holding(data, needles)  # the session is on disk before /forget
        user.send_text("/forget")
        await user.wait_reply()
        # Read right away, as a kill -9 would leave the files: nothing of the session remains.
        assert files_holding(data, needles) == []
        assert await service.runtime.store.load(service.runtime.keyer.key(other.chat_id)) != (None, 0)

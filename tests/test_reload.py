"""Content and catalog reloads: catalog errors refused like content errors; one reload at a time,
the newest request wins."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import pytest

from bot.app import build_engine
from bot.content.problems import ContentError
from bot.telegram import runner
from bot.telegram.runner import BotService
from e2e import bot_settings, running
from fake_telegram import FakeTelegram
from helpers import LOCALES, MINI, copy_tree, edit


def broken_catalogs(tmp_path: Path) -> Path:
    """A copy of the catalogs with one Spanish translation that would break Telegram's HTML."""
    locales = tmp_path / "broken-locales"
    shutil.copytree(LOCALES, locales)
    edit(locales / "es" / "LC_MESSAGES" / "messages.po", 'msgstr "Atrás"', 'msgstr "Atrás <b>"')
    return locales


async def test_catalog_errors_and_a_missing_catalog_folder_stop_the_start(
        fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    with pytest.raises(ContentError) as err:
        await BotService.create(bot_settings(fake_telegram, tmp_path / "data",
                                             LOCALES_DIR=str(broken_catalogs(tmp_path))))
    assert any("messages.po" in p.path and p.is_error for p in err.value.problems)
    with pytest.raises(ContentError) as err:
        build_engine(MINI, tmp_path / "nowhere")
    assert any("catalog folder is missing" in p.message for p in err.value.problems)


async def test_a_reload_with_catalog_errors_is_refused(fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    async with running(bot_settings(fake_telegram, tmp_path / "data", LOCALES_DIR=str(locales))) as service:
        engine = service.runtime.engine
        edit(locales / "fr" / "LC_MESSAGES" / "messages.po", 'msgstr "Retour"', 'msgstr "Retour </i>"')
        assert await service.reload() is False
        shutil.rmtree(locales)
        assert await service.reload() is False
        assert service.runtime.engine is engine  # still serving what was checked


async def test_reloads_run_one_at_a_time_and_the_newest_request_wins(
        fake_telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = copy_tree(MINI, tmp_path / "content")
    builds: list[int] = []
    running_now = [0]
    lock = threading.Lock()
    real_build = runner.build_engine

    def counted_build(*args: object) -> object:  # the real build, counted
        with lock:
            running_now[0] += 1
            builds.append(running_now[0])
        try:
            return real_build(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running_now[0] -= 1

    async with running(bot_settings(fake_telegram, tmp_path / "data",
                                    CONTENT_DIR=str(content))) as service:
        monkeypatch.setattr(runner, "build_engine", counted_build)
        service.request_reload()
        await asyncio.sleep(0)  # the first reload has started reading the old files
        edit(content / "en" / "topic.md", "Are you afraid?", "Are you afraid now?")
        for _ in range(9):
            service.request_reload()
        for _ in range(200):
            if service._reloader is None:
                break
            await asyncio.sleep(0.05)
        assert service._reloader is None
        assert max(builds) == 1 and len(builds) <= 2  # never two trees at once, ten requests folded
        assert service.runtime.engine.tree.version == real_build(content, service.settings.locales_dir)\
            .tree.version  # what is served is what is on disk now


async def test_a_replaced_tree_is_freed_without_touching_what_is_shared() -> None:
    import weakref

    from bot.telegram.release import release_gradually

    class Node:
        def __init__(self, children: list[Node], shared: dict[str, str]) -> None:
            self.children = children
            self.shared = shared

    shared = {"kept": "by the new tree"}
    leaves = [Node([], shared) for _ in range(5000)]
    probes = [weakref.ref(leaf) for leaf in leaves[::500]]
    holder: list[object] = [Node([Node(leaves[i:i + 100], shared) for i in range(0, 5000, 100)], shared)]
    del leaves
    freed = await release_gradually(holder)
    assert holder == [] and freed > 5000
    assert all(probe() is None for probe in probes)  # every node is gone
    assert shared == {"kept": "by the new tree"}  # what another owner holds is left as it was

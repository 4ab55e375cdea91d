"""Scale-out: two webhook replicas share one database; one user's updates alternate between them."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from bot.content.loader import load_tree
from bot.content.telegram_html import visible_text
from bot.telegram.runner import BotService
from e2e import PG_URL, SECRET, bot_settings, clear_pg, content_buttons, free_port, running
from fake_telegram import FakeTelegram
from helpers import CONTENT

TREE, _ = load_tree(CONTENT)


async def two_replicas(stack: AsyncExitStack, fake_telegram: FakeTelegram,
                       tmp_path: Path) -> tuple[list[BotService], list[str]]:
    """Two webhook replicas on one database with one session secret, and their webhook URLs."""
    database = PG_URL or f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    if PG_URL:  # the fake Bot API numbers updates from 1 in every test: forget earlier ones
        await clear_pg()
    ports = [free_port(), free_port()]
    replicas = [await stack.enter_async_context(running(bot_settings(
        fake_telegram, tmp_path / f"data{i}", DATABASE_URL=database, WEBHOOK_PORT=str(port),
        WEBHOOK_URL="https://bot.example.org/webhook", WEBHOOK_SECRET=SECRET,
        SESSION_SECRET="one-secret-shared-by-all-replicas"), webhook=True))
        for i, port in enumerate(ports)]
    return replicas, [f"http://127.0.0.1:{port}/webhook" for port in ports]


async def test_two_webhook_replicas_keep_one_conversation_consistent(fake_telegram: FakeTelegram,
                                                                     tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        replicas, urls = await two_replicas(stack, fake_telegram, tmp_path)
        user = fake_telegram.user(6001, language_code="es")
        update = fake_telegram.make_message_update(user.chat_id, "/start", user=user.as_dict())
        assert await fake_telegram.post_webhook(urls[0], update, SECRET) == 200
        await user.wait_reply()
        path = ["start"]
        for step in range(6):  # alternate replicas: B, A, B, ...
            buttons = content_buttons(fake_telegram, user)
            if not buttons:
                break
            data = buttons[0][1]
            message = user.last_message()
            assert message is not None
            press = fake_telegram.make_callback_update(user.chat_id, message.message_id, data,
                                                       user=user.as_dict())
            assert await fake_telegram.post_webhook(urls[(step + 1) % 2], press, SECRET) == 200
            (reply,) = await user.wait_reply()
            path.append(data[4:])
            assert visible_text(TREE.languages["es"].nodes[path[-1]].title) in reply.plain
        # Back, on the other replica each time, walks the same trail in reverse.
        for step, expected in enumerate(reversed(path[:-1])):
            message = user.last_message()
            assert message is not None
            back = fake_telegram.make_callback_update(user.chat_id, message.message_id, "1:b",
                                                      user=user.as_dict())
            assert await fake_telegram.post_webhook(urls[step % 2], back, SECRET) == 200
            (reply,) = await user.wait_reply()
            assert visible_text(TREE.languages["es"].nodes[expected].title) in reply.plain
        # Two presses at the same moment, one on each replica: both land, in some order.
        key = replicas[0].runtime.keyer.key(user.chat_id)
        assert key == replicas[1].runtime.keyer.key(user.chat_id)
        _, rev_before = await replicas[0].runtime.store.load(key)
        message = user.last_message()
        assert message is not None
        presses = [fake_telegram.make_callback_update(user.chat_id, message.message_id, data,
                                                      user=user.as_dict())
                   for data in ("1:g:tc-start", "1:g:ag-start")]
        statuses = await asyncio.gather(*(fake_telegram.post_webhook(url, p, SECRET)
                                          for url, p in zip(urls, presses, strict=True)))
        assert statuses == [200, 200]
        await user.wait_reply(2)
        state, rev_after = await replicas[1].runtime.store.load(key)
        assert rev_after == rev_before + 2
        assert state is not None and state["node"] in ("tc-start", "ag-start")
        assert state["trail"][-1][0] in ("start", "tc-start", "ag-start")
    assert fake_telegram.violations == []


async def test_forget_on_one_replica_is_not_undone_by_another_replicas_memory(
        fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        replicas, urls = await two_replicas(stack, fake_telegram, tmp_path)
        user = fake_telegram.user(6002, language_code="en")
        start = fake_telegram.make_message_update(user.chat_id, "/start", user=user.as_dict())
        assert await fake_telegram.post_webhook(urls[0], start, SECRET) == 200
        await user.wait_reply()
        for _ in range(3):  # three steps on replica A, which now remembers the trail
            message = user.last_message()
            assert message is not None
            press = fake_telegram.make_callback_update(
                user.chat_id, message.message_id, content_buttons(fake_telegram, user)[0][1],
                user=user.as_dict())
            assert await fake_telegram.post_webhook(urls[0], press, SECRET) == 200
            await user.wait_reply()
        key = replicas[0].runtime.keyer.key(user.chat_id)
        state, _rev = await replicas[0].runtime.store.load(key)
        assert state is not None and len(state["trail"]) == 3
        old_message = user.last_message()
        assert old_message is not None
        # A press on the old message, made before /forget deletes that message, arrives after.
        back = fake_telegram.make_callback_update(user.chat_id, old_message.message_id, "1:b",
                                                  user=user.as_dict())
        forget = fake_telegram.make_message_update(user.chat_id, "/forget", user=user.as_dict())
        assert await fake_telegram.post_webhook(urls[1], forget, SECRET) == 200  # on replica B
        await user.wait_reply()
        assert await replicas[1].runtime.store.load(key) == (None, 0)
        # Back on replica A: its memory of the trail must not bring the session back.
        assert await fake_telegram.post_webhook(urls[0], back, SECRET) == 200
        (reply,) = await user.wait_reply()
        assert visible_text(TREE.languages["en"].nodes[TREE.start].title) in reply.plain
        state, rev = await replicas[0].runtime.store.load(key)
        assert state is not None and state["trail"] == [] and state["node"] == TREE.start
        assert rev == 2  # a new session: the step, then the id of the message it sent
    assert fake_telegram.violations == []


async def test_a_burst_of_presses_across_replicas_shows_only_saved_steps(
        fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        replicas, urls = await two_replicas(stack, fake_telegram, tmp_path)
        user = fake_telegram.user(6003, language_code="fr")
        start = fake_telegram.make_message_update(user.chat_id, "/start", user=user.as_dict())
        assert await fake_telegram.post_webhook(urls[0], start, SECRET) == 200
        await user.wait_reply()
        await fake_telegram.wait_idle()  # the sent message's id is saved just after the send
        key = replicas[0].runtime.keyer.key(user.chat_id)
        _, rev_before = await replicas[0].runtime.store.load(key)
        message = user.last_message()
        assert message is not None
        edits_before = len(fake_telegram.calls("editMessageText"))
        sends_before = len(fake_telegram.calls("sendMessage"))
        presses = [fake_telegram.make_callback_update(
            user.chat_id, message.message_id, ("1:g:tc-start", "1:g:ag-start")[i % 2],
            user=user.as_dict()) for i in range(100)]
        # Telegram delivers ten of them a second time: to the same replica (its memory of
        # recent ids) and, on PostgreSQL, to the other one (the ids recorded with the step).
        deliveries = [(urls[i % 2], p) for i, p in enumerate(presses)]
        deliveries += [(urls[(i + (1 if PG_URL else 0)) % 2], presses[i]) for i in range(0, 100, 10)]
        statuses = await asyncio.gather(*(fake_telegram.post_webhook(url, dict(p), SECRET)
                                          for url, p in deliveries))
        assert set(statuses) == {200}
        await fake_telegram.wait_idle(timeout=30)
        shown = len(fake_telegram.calls("editMessageText")) - edits_before
        told_to_press_again = len(fake_telegram.calls("sendMessage")) - sends_before
        _, rev_after = await replicas[1].runtime.store.load(key)
        assert shown + told_to_press_again == 100  # every press answered once, repeats ignored
        assert rev_after - rev_before == shown  # every step shown was stored
        if PG_URL:  # steps of one session are serialised across replicas: none lost a race
            assert told_to_press_again == 0
    assert fake_telegram.violations == []

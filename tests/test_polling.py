"""Long polling against the fake Bot API (order, offsets, failures, malformed updates, stopping),
and the bounded update tasks it shares with the webhook."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.utils.backoff import BackoffConfig

from bot.telegram.delivery import TolerantSession
from bot.telegram.incoming import Incoming
from bot.telegram.polling import Poller
from bot.telegram.tasks import UpdateTasks
from fake_telegram import FakeTelegram

TOKEN = "123456:TEST"
QUICK = BackoffConfig(min_delay=0.05, max_delay=0.2, factor=1.3, jitter=0.1)
CHAT = 8801


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=TolerantSession(api=fake_telegram.api))
    try:
        yield bot
    finally:
        await bot.session.close()


async def _until(check: object, timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), timeout)


async def test_updates_are_fed_in_order_past_failures_and_malformed_ones(
        bot: Bot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    user = fake_telegram.user(CHAT, first_name="Secret Name")
    fake_telegram.fail_next("getUpdates", status=500, times=2)
    first = fake_telegram.queue_update(fake_telegram.make_message_update(
        CHAT, "my private words", user=user.as_dict()))
    bad = fake_telegram.make_message_update(CHAT, "hi", user=user.as_dict())
    del bad["message"]["chat"]
    fake_telegram.queue_update(bad)
    shown = await bot.send_message(CHAT, "A step")
    last = fake_telegram.queue_update(fake_telegram.make_callback_update(
        CHAT, shown.message_id, "1:h", user=user.as_dict()))
    fed: list[Incoming] = []

    async def feed(update: Incoming) -> None:
        fed.append(update)

    poller = Poller(bot, feed, allowed_updates=["message", "callback_query"], limit=10,
                    timeout=1, backoff=QUICK)
    running = asyncio.create_task(poller.run())
    await _until(lambda: len(fed) == 2)
    poller.stop()
    await asyncio.wait_for(running, 5)

    assert [(u.update_id, u.kind, u.text, u.data) for u in fed] == [
        (first, "message", "my private words", None), (last, "callback_query", None, "1:h")]
    assert "getUpdates failed error=TelegramServerError" in caplog.text
    assert "getUpdates works again after=2" in caplog.text
    assert "ignored malformed updates count=1" in caplog.text
    assert "my private words" not in caplog.text and "Secret Name" not in caplog.text
    # On stop, what was taken is confirmed: Telegram would not send it again after a restart.
    final = fake_telegram.calls("getUpdates")[-1]
    assert final.params["offset"] == last + 1 and final.params["timeout"] == 0
    assert fake_telegram.pending_updates == []
    assert fake_telegram.calls("getUpdates")[0].params["allowed_updates"] == ["message", "callback_query"]


async def test_stopping_during_a_long_poll_returns_at_once(bot: Bot, fake_telegram: FakeTelegram) -> None:
    async def feed(_update: Incoming) -> None:
        raise AssertionError("no update was queued")

    poller = Poller(bot, feed, allowed_updates=["message"], limit=1, timeout=30)
    running = asyncio.create_task(poller.run())
    await _until(lambda: fake_telegram.calls("getUpdates"))
    poller.stop()
    await asyncio.wait_for(running, 2)  # not after the 30 s poll
    assert len(fake_telegram.calls("getUpdates")) == 1  # nothing was taken: nothing to confirm


async def test_no_more_than_limit_updates_are_handled_at_once(bot: Bot,
                                                             fake_telegram: FakeTelegram) -> None:
    for i in range(6):
        fake_telegram.queue_update(fake_telegram.make_message_update(CHAT + i, "/start"))
    release = asyncio.Event()
    active = most = done = 0

    async def feed(_update: Incoming) -> None:
        nonlocal active, most, done
        active += 1
        most = max(most, active)
        await release.wait()
        active -= 1
        done += 1

    poller = Poller(bot, feed, allowed_updates=["message"], limit=2, timeout=1)
    running = asyncio.create_task(poller.run())
    await _until(lambda: active == 2)
    await asyncio.sleep(0.1)  # the poller is waiting for a slot, not starting a third
    assert active == 2
    release.set()
    await _until(lambda: done == 6)
    poller.stop()
    await asyncio.wait_for(running, 5)
    assert most == 2


async def test_a_batch_taken_before_a_stop_is_handled_whole_and_confirmed(
        bot: Bot, fake_telegram: FakeTelegram) -> None:
    ids = [fake_telegram.queue_update(fake_telegram.make_message_update(CHAT + i, "/start"))
           for i in range(3)]
    release = asyncio.Event()
    fed: list[int] = []

    async def feed(update: Incoming) -> None:
        fed.append(update.update_id)
        await release.wait()

    poller = Poller(bot, feed, allowed_updates=["message"], limit=1, timeout=1)
    running = asyncio.create_task(poller.run())
    await _until(lambda: fed)  # the first is running; the poller waits for a slot for the next
    poller.stop()
    release.set()
    await asyncio.wait_for(running, 5)
    assert fed == ids  # Telegram was told of the whole batch, so all of it is handled
    assert fake_telegram.calls("getUpdates")[-1].params["offset"] == ids[-1] + 1
    assert fake_telegram.pending_updates == []


async def test_update_tasks_bound_the_running_ones_and_drain_waits_for_them() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="")
    tasks = UpdateTasks(2)
    release = asyncio.Event()
    seen: list[str] = []
    done: list[int] = []

    async def handling(n: int) -> None:
        seen.append(marker.get())
        await release.wait()
        done.append(n)

    token = marker.set("the caller's")  # a task runs in the context it was started from
    await tasks.start(functools.partial(handling, 1))
    await tasks.start(functools.partial(handling, 2))
    marker.reset(token)
    third = asyncio.create_task(tasks.start(functools.partial(handling, 3)))
    await asyncio.sleep(0.05)
    assert not third.done()  # no third slot until one of the two finishes
    release.set()
    await asyncio.wait_for(third, 5)
    await tasks.drain(5)
    assert sorted(done) == [1, 2, 3] and seen[:2] == ["the caller's"] * 2

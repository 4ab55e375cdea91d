"""Pacing: new messages are paced as token buckets (per chat and overall); taps never wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.telegram.delivery import ChatPacer
from e2e import SECRET, bot_settings, free_port, running
from fake_telegram import FakeTelegram


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records what the pacer asked to sleep, without sleeping."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_a_chat_gets_a_burst_then_one_message_per_interval() -> None:
    clock = Clock()
    pacer = ChatPacer(interval=1.0, burst=3, global_rate=0, clock=clock)
    assert [pacer.book("a") for _ in range(5)] == [0.0, 0.0, 0.0, 1.0, 2.0]
    assert pacer.book("b") == 0.0  # another chat has its own bucket
    clock.now += 10  # the bucket refills, but never beyond the burst
    assert [pacer.book("a") for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


def test_the_whole_bot_is_paced_across_chats() -> None:
    clock = Clock()
    pacer = ChatPacer(interval=1.0, burst=3, global_rate=10.0, global_burst=2, clock=clock)
    delays = [pacer.book(f"chat{i}") for i in range(5)]
    assert delays == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])


def test_the_later_of_both_limits_decides_and_both_are_booked() -> None:
    clock = Clock()
    pacer = ChatPacer(interval=1.0, burst=1, global_rate=10.0, global_burst=1, clock=clock)
    assert pacer.book("a") == 0.0
    assert pacer.book("a") == pytest.approx(1.0)  # the chat's limit is the later one
    assert pacer.book("b") == pytest.approx(1.1)  # the bot's next slot comes after that message


def test_interval_zero_turns_pacing_off() -> None:
    pacer = ChatPacer(interval=0, burst=1, clock=Clock())
    assert [pacer.book("a") for _ in range(5)] == [0.0] * 5


async def test_taps_are_never_paced_and_messages_are(fake_telegram: FakeTelegram, data: Path) -> None:
    sleeps = Sleeps()
    async with running(bot_settings(fake_telegram, data, CHAT_MIN_INTERVAL="1.0")) as service:
        # Time stands still: without the real sleeps, every pacing decision is recorded.
        service.runtime.pacer = ChatPacer(interval=1.0, burst=1, clock=Clock(), sleep=sleeps)
        user = fake_telegram.user(6101)
        user.send_text("/start")
        await user.wait_reply()
        assert sleeps.asked == []  # the first message of a burst goes at once
        for data in ("1:g:tc-start", "1:b", "1:g:tc-start"):  # quick taps: none waits
            user.press(data)
            await user.wait_reply()
        user.send_text("/help")
        user.send_text("/privacy")
        await user.wait_reply(2)
    edits = fake_telegram.calls("editMessageText", chat_id=6101)
    answers = fake_telegram.calls("answerCallbackQuery")
    assert len(edits) == 3 and len(answers) == 3
    assert fake_telegram.unanswered_callbacks() == []
    assert sleeps.asked == [1.0, 2.0]  # only the two new messages after the first were paced
    assert fake_telegram.violations == []


async def test_webhook_answers_the_tap_in_its_http_reply(fake_telegram: FakeTelegram,
                                                         data: Path) -> None:
    port = free_port()
    settings = bot_settings(fake_telegram, data, WEBHOOK_URL="https://bot.example.org/webhook",
                            WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
    url = f"http://127.0.0.1:{port}/webhook"
    async with running(settings, webhook=True):
        user = fake_telegram.user(6201)
        assert await fake_telegram.post_webhook(
            url, fake_telegram.make_message_update(user.chat_id, "/start", user=user.as_dict()),
            SECRET) == 200
        await user.wait_reply()
        message = user.keyboard_message()
        update = fake_telegram.make_callback_update(user.chat_id, message.message_id,
                                                    "1:g:tc-start", user=user.as_dict())
        assert await fake_telegram.post_webhook(url, update, SECRET) == 200
        (reply,) = await user.wait_reply()
        assert reply.event == "edit"
    answers = fake_telegram.calls("answerCallbackQuery")
    assert [a.via for a in answers] == ["webhook-reply"]  # answered once, in the reply
    assert fake_telegram.unanswered_callbacks() == []
    assert fake_telegram.violations == []


async def test_calls_go_as_json_and_documents_as_multipart(fake_telegram: FakeTelegram,
                                                           data: Path) -> None:
    async with running(bot_settings(fake_telegram, data)):
        user = fake_telegram.user(6301)
        user.send_text("/start")
        await user.wait_reply()
        user.press("1:g:tc-start")
        await user.wait_reply()
        user.send_text("/lawyer")
        await user.wait_reply(2)
    kinds = {c.method: c.content_type for c in fake_telegram.requests if c.method != "getUpdates"}
    for method in ("sendMessage", "editMessageText", "answerCallbackQuery", "setMyCommands"):
        assert kinds[method] == "application/json", (method, kinds[method])
    assert kinds["sendDocument"] == "multipart/form-data"
    assert fake_telegram.documents(6301) and fake_telegram.violations == []

"""A Telegram user chatting privately with the bot, as tests play it."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fake_telegram.records import BotMessage, Outgoing

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram


class FakeUser:
    """A Telegram user chatting privately with the bot; ``chat_id`` is also the user id."""

    def __init__(
        self,
        fake: FakeTelegram,
        chat_id: int,
        language_code: str,
        username: str,
        first_name: str,
    ) -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.language_code = language_code
        self.username = username
        self.first_name = first_name
        self._cursor = len(fake.outbox.get(chat_id, []))
        fake.chats[chat_id] = fake._private_chat(chat_id, self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        """The User object Telegram puts in ``from``."""
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": self.language_code,
        }

    def send_text(self, text: str) -> int:
        """Queue a text message from this user; returns its message_id."""
        update = self.fake.make_message_update(self.chat_id, text, user=self.as_dict())
        self.fake.queue_update(update)
        return int(update["message"]["message_id"])

    def keyboard_message(self) -> BotMessage:
        """The newest bot message in this chat that has an inline keyboard."""
        for msg in reversed(self.fake.messages(self.chat_id)):
            if msg.keyboard:
                return msg
        raise LookupError(f"chat {self.chat_id}: no bot message with an inline keyboard")

    def press(self, label_or_data: str) -> str:
        """Press a button (exact label or callback_data) on the newest keyboard; returns id."""
        return self.press_on(self.keyboard_message().message_id, label_or_data)

    def press_on(self, message_id: int, label_or_data: str) -> str:
        """Press a button on a given bot message; returns the callback query id."""
        msg = self.fake.store.get(self.chat_id, {}).get(message_id)
        if msg is None or msg.deleted:
            raise LookupError(f"chat {self.chat_id}: no bot message {message_id}")
        buttons = [b for row in msg.keyboard for b in row]
        button = next((b for b in buttons if b.get("text") == label_or_data), None) or next(
            (b for b in buttons if b.get("callback_data") == label_or_data), None
        )
        if button is None or "callback_data" not in button:
            raise LookupError(
                f"message {message_id} has no callback button {label_or_data!r}; "
                f"buttons: {[(b.get('text'), b.get('callback_data')) for b in buttons]}"
            )
        update = self.fake.make_callback_update(
            self.chat_id, message_id, button["callback_data"], user=self.as_dict()
        )
        self.fake.queue_update(update)
        return str(update["callback_query"]["id"])

    def last_message(self) -> BotMessage | None:
        """The newest bot message in the chat (current text, not deleted)."""
        msgs = self.fake.messages(self.chat_id)
        return msgs[-1] if msgs else None

    def messages(self) -> list[BotMessage]:
        """Bot messages in the chat, oldest first, excluding deleted ones."""
        return self.fake.messages(self.chat_id)

    def buttons(self) -> list[str]:
        """Labels of the newest inline keyboard (empty if none)."""
        try:
            return self.keyboard_message().buttons
        except LookupError:
            return []

    def answers(self) -> list[dict[str, Any]]:
        """The bot's answerCallbackQuery parameters for this user's presses."""
        return [
            c.answer
            for c in self.fake.callbacks.values()
            if c.chat_id == self.chat_id and c.answer is not None
        ]

    def block(self) -> None:
        """Block the bot: its sends to this chat get 403 Forbidden."""
        self.fake.block(self.chat_id)

    async def wait_reply(self, count: int = 1, timeout: float = 5.0) -> list[Outgoing]:
        """Wait for ``count`` new bot sends/edits in this chat since the last wait."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.fake._changed
            out = self.fake.outbox.get(self.chat_id, [])
            if len(out) - self._cursor >= count:
                new = out[self._cursor :]
                self._cursor = len(out)
                return new
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                got = [o.plain[:60] for o in out[self._cursor :]]
                raise AssertionError(
                    f"chat {self.chat_id}: waited {timeout}s for {count} bot message(s), "
                    f"got {len(got)}: {got}; violations: {self.fake.violations}"
                )
            await self.fake._wait(event, remaining)

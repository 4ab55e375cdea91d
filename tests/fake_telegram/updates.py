"""Users and the updates they send: chats, messages, button presses, webhook posts (a mixin of the server)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import BodyPartReader, ClientSession, ClientTimeout, MultipartReader

from bot.content.telegram_html import (
    telegram_length,
)
from fake_telegram.records import Call, CallbackRecord, UploadedFile
from fake_telegram.rules import normalise
from fake_telegram.users import FakeUser


class UpdatesMixin:
    """Playing users: their chats, the updates they send, and delivering them to the bot."""

    def user(
        self,
        chat_id: int,
        *,
        language_code: str = "en",
        username: str = "ana_test",
        first_name: str = "Ana",
    ) -> FakeUser:
        """A user in a private chat with the bot (same object for the same chat_id)."""
        if chat_id not in self._users:
            self._users[chat_id] = FakeUser(self, chat_id, language_code, username, first_name)
        return self._users[chat_id]

    def add_chat(self, chat: dict[str, Any]) -> None:
        """Make a chat known so the bot can send to it (``{"id": ..., "type": ...}``)."""
        self.chats[int(chat["id"])] = dict(chat)

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to the chat get 403 Forbidden."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def skip_update_ids(self, last: int) -> None:
        """Make the next update ids follow ``last`` (ids that never repeat across runs)."""
        self._last_update_id = max(self._last_update_id, last)

    def next_update_id(self) -> int:
        """A fresh update_id."""
        self._last_update_id += 1
        return self._last_update_id

    def new_message_id(self, chat_id: int) -> int:
        """Allocate the next message id in a chat (shared by bot and user messages)."""
        mid = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = mid + 1
        return mid

    def _user_dict(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._users:
            return self._users[chat_id].as_dict()
        return {"id": abs(chat_id), "is_bot": False, "first_name": "Test", "language_code": "en"}

    def make_message_update(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user: dict[str, Any] | None = None,
        chat: dict[str, Any] | None = None,
        kind: str = "message",
        message_id: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """An update carrying a message (``kind`` may be edited_message, channel_post...).

        A text starting with "/" gets a bot_command entity; ``fields`` are added to the
        message (e.g. ``sticker={...}``, ``photo=[...]``).
        """
        if chat is None:
            chat = self.chats.get(chat_id) or self._private_chat(chat_id, user)
        self.chats.setdefault(int(chat["id"]), dict(chat))
        if message_id is None:
            message_id = self.new_message_id(chat_id)
        self._user_messages.setdefault(chat_id, set()).add(message_id)
        self._user_message_dates.setdefault(chat_id, {})[message_id] = self.now()
        message: dict[str, Any] = {"message_id": message_id, "date": self.now(), "chat": chat}
        if kind != "channel_post" and kind != "edited_channel_post":
            message["from"] = user or self._user_dict(chat_id)
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0] if text.strip() else text
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": telegram_length(command)}
                ]
        if kind.startswith("edited_"):
            message["edit_date"] = self.now()
        message.update(fields)
        return {"update_id": self.next_update_id(), kind: message}

    def make_callback_update(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user: dict[str, Any] | None = None,
        callback_id: str | None = None,
    ) -> dict[str, Any]:
        """An update with a callback_query for a bot message; registers the query id."""
        msg = self.store.get(chat_id, {}).get(message_id)
        if msg is None or msg.deleted:
            raise LookupError(f"chat {chat_id} has no bot message {message_id}")
        callback_id = callback_id or str(next(self._callback_ids))
        self.callbacks[callback_id] = CallbackRecord(callback_id, chat_id, message_id, data, time.monotonic())
        query = {
            "id": callback_id,
            "from": user or self._user_dict(chat_id),
            "message": self._message_dict(msg),
            "chat_instance": f"{abs(chat_id) * 7919 % 10**12}",
            "data": data,
        }
        return {"update_id": self.next_update_id(), "callback_query": query}

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue a raw update for getUpdates (adds update_id if missing); returns its id."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_update_id()
        uid = update["update_id"]
        if isinstance(uid, int):
            self._last_update_id = max(self._last_update_id, uid)
        self._register_chats(update)
        self._updates.append(update)
        self._touch()
        self._notify()
        return uid

    def _register_chats(self, update: dict[str, Any]) -> None:
        for value in update.values():
            if not isinstance(value, dict):
                continue
            message = value.get("message", value)
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                self.chats.setdefault(chat["id"], dict(chat))

    def _private_chat(self, chat_id: int, user: dict[str, Any] | None) -> dict[str, Any]:
        user = user or self._user_dict(chat_id)
        chat = {"id": chat_id, "type": "private", "first_name": user.get("first_name", "Test")}
        if user.get("username"):
            chat["username"] = user["username"]
        return chat

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.15) -> None:
        """Wait until every queued update is confirmed and no request came for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if not self._updates and self._inflight == 0 and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"fake Telegram not idle after {timeout}s: {len(self._updates)} unconfirmed "
                    f"update(s), {self._inflight} request(s) in flight"
                )
            await asyncio.sleep(0.02)

    async def post_webhook(self, url: str, update: dict[str, Any], secret: str | None = None) -> int:
        """POST an update to the bot's webhook like Telegram does; returns the HTTP status.

        A method the bot returns in the webhook answer is executed like Telegram would.
        """
        update = dict(update)
        update.setdefault("update_id", self.next_update_id())
        self._register_chats(update)
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as session,
            session.post(url, json=update, headers=headers) as resp,
        ):
            status = resp.status
            params: dict[str, Any] = {}
            if status == 200 and resp.content_type == "multipart/form-data":
                reader = MultipartReader(resp.headers, resp.content)
                while isinstance(part := await reader.next(), BodyPartReader):
                    name = part.name or ""
                    if part.filename:
                        ctype = part.headers.get("Content-Type", "application/octet-stream")
                        params[name] = UploadedFile(name, part.filename, ctype, await part.read())
                    else:
                        params[name] = await part.text()
            elif status == 200 and resp.content_type == "application/json":
                body = await resp.json()
                if isinstance(body, dict):
                    params = body
        self.delivered_webhooks.append((url, update, status))
        method = params.pop("method", None)
        if isinstance(method, str):
            call = Call(
                self._canonical_names.get(method.lower(), method),
                normalise(params),
                time.monotonic(),
                None,
                via="webhook-reply",
            )
            call.chat_id = call.params.get("chat_id")
            self.requests.append(call)
            await self._run(call)
            self._touch()
        return status


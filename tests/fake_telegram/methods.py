"""The Bot API methods the fake answers, each as Telegram does (a mixin of the server)."""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import time
from typing import Any

from bot.content.telegram_html import (
    MAX_MESSAGE_CHARS,
)
from fake_telegram.records import ApiError, BotMessage, Call, UploadedFile
from fake_telegram.rules import (
    CHAT_ACTIONS,
    COMMAND_PATTERN,
    DEFAULT_UPDATE_TYPES,
    DELETE_CANT,
    DELETE_NOT_FOUND,
    DELETE_WINDOW_SECONDS,
    KNOWN_UPDATE_TYPES,
    MAX_CALLBACK_ANSWER_CHARS,
    MAX_CAPTION_CHARS,
    MAX_DELETE_IDS,
    MAX_DESCRIPTION_CHARS,
    MAX_SHORT_DESCRIPTION_CHARS,
    NOT_MODIFIED,
    SECRET_PATTERN,
    TOO_OLD,
    canonical,
    update_type,
)


class BotApiMethods:
    """``getMe``, ``sendMessage``, ``editMessageText``... on the server's state."""

    def _get_me(self, call: Call) -> dict[str, Any]:
        return self.bot_user

    async def _get_updates(self, call: Call) -> list[dict[str, Any]]:
        p = call.params
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get("offset")
        limit = p.get("limit") if isinstance(p.get("limit"), int) else 100
        limit = max(1, min(100, limit))
        timeout = p.get("timeout") if isinstance(p.get("timeout"), int) else 0
        if isinstance(p.get("allowed_updates"), list):
            self._allowed_updates = p["allowed_updates"] or None
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        owner = object()
        self._poll_owner = owner
        self._notify()
        deadline = time.monotonic() + max(0, timeout)
        while True:
            event = self._changed
            self._drop_unwanted()
            if self._poll_owner is not owner:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                    expected=not call.alive(),  # a poll abandoned by its client is no bug
                )
            batch = self._updates[:limit]
            if batch or self._closing:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self._wait(event, remaining)
        if batch:
            self._touch()
        return [json.loads(json.dumps(u)) for u in batch]

    def _drop_unwanted(self) -> None:
        allowed = set(self._allowed_updates) if self._allowed_updates else DEFAULT_UPDATE_TYPES
        keep = []
        for update in self._updates:
            kind = update_type(update)
            if kind in KNOWN_UPDATE_TYPES and kind not in allowed:
                self.filtered_updates.append(update)
            else:
                keep.append(update)
        self._updates = keep

    def _delete_webhook(self, call: Call) -> bool:
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    def _set_webhook(self, call: Call) -> bool:
        p = call.params
        url = p.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not SECRET_PATTERN.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": p.get("allowed_updates"),
            "max_connections": p.get("max_connections", 40),
        }
        return True

    def _get_webhook_info(self, call: Call) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        if not isinstance(scope, dict):
            scope = {"type": "default"}
        return canonical(scope), str(params.get("language_code") or "")

    def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not isinstance(cmd, dict) or not COMMAND_PATTERN.match(str(cmd.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.my_commands[self._commands_key(call.params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, call: Call) -> list[dict[str, Any]]:
        return list(self.my_commands.get(self._commands_key(call.params), []))

    def _delete_my_commands(self, call: Call) -> bool:
        self.my_commands.pop(self._commands_key(call.params), None)
        return True

    def _send_message(self, call: Call) -> dict[str, Any]:
        p = call.params
        chat_id = self._chat(p)
        call.chat_id = chat_id
        plain, entities = self._render(
            p.get("text"), p.get("parse_mode"), p.get("entities"), MAX_MESSAGE_CHARS, caption=False
        )
        markup = self._markup(call.method, p.get("reply_markup"))
        msg = BotMessage(
            chat_id=chat_id,
            message_id=self.new_message_id(chat_id),
            text=p.get("text"),
            parse_mode=p.get("parse_mode"),
            plain=plain,
            entities=entities,
            reply_markup=markup,
            date=self.now(),
        )
        self.store.setdefault(chat_id, {})[msg.message_id] = msg
        self._record_out("send", msg)
        return self._message_dict(msg)

    def _edit_message_text(self, call: Call) -> dict[str, Any]:
        p = call.params
        msg = self._find_for_edit(p)
        plain, entities = self._render(
            p.get("text"), p.get("parse_mode"), p.get("entities"), MAX_MESSAGE_CHARS, caption=False
        )
        markup = self._markup(call.method, p.get("reply_markup"))
        if msg.file_id is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if (
            plain == msg.plain
            and canonical(entities) == canonical(msg.entities)
            and canonical(markup) == canonical(msg.reply_markup)
        ):
            raise ApiError(400, NOT_MODIFIED, expected=True)
        msg.text, msg.parse_mode, msg.plain, msg.entities = (
            p.get("text"),
            p.get("parse_mode"),
            plain,
            entities,
        )
        msg.reply_markup = markup
        msg.edits += 1
        msg.edit_date = self.now()
        self._record_out("edit", msg)
        return self._message_dict(msg)

    def _edit_message_reply_markup(self, call: Call) -> dict[str, Any]:
        msg = self._find_for_edit(call.params)
        markup = self._markup(call.method, call.params.get("reply_markup"))
        if canonical(markup) == canonical(msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED, expected=True)
        msg.reply_markup = markup
        msg.edits += 1
        msg.edit_date = self.now()
        self._record_out("edit_markup", msg)
        return self._message_dict(msg)

    def _delete_message(self, call: Call) -> bool:
        chat_id = self._chat(call.params)
        message_id = call.params.get("message_id")
        if not isinstance(message_id, int):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        outcome = self._delete_one(chat_id, message_id)
        if outcome == "too-old":
            raise ApiError(400, DELETE_CANT, expected=True)
        if outcome != "deleted":
            raise ApiError(400, DELETE_NOT_FOUND, expected=True)
        return True

    def _delete_one(self, chat_id: int, message_id: int) -> str:
        """Delete a message as Telegram lets a bot: "deleted", "too-old" or "missing".

        A bot may delete its own messages and, in a private chat, the user's, for 48 hours.
        """
        now = self.now()
        msg = self.store.get(chat_id, {}).get(message_id)
        if msg is not None and not msg.deleted:
            if now - msg.date >= DELETE_WINDOW_SECONDS:
                return "too-old"
            msg.deleted = True
            return "deleted"
        deleted_user = self._deleted_user_messages.setdefault(chat_id, set())
        if message_id in self._user_messages.get(chat_id, set()) and message_id not in deleted_user:
            sent = self._user_message_dates.get(chat_id, {}).get(message_id, now)
            if now - sent >= DELETE_WINDOW_SECONDS:
                return "too-old"
            deleted_user.add(message_id)
            return "deleted"
        return "missing"

    def _delete_messages(self, call: Call) -> bool:
        """deleteMessages: 1-100 ids; those that cannot be deleted are skipped, like Telegram."""
        chat_id = self._chat(call.params)
        call.chat_id = chat_id
        ids = call.params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, 'Bad Request: parameter "message_ids" is required')
        if len(ids) > MAX_DELETE_IDS:
            raise ApiError(400, "Bad Request: too many messages to delete")
        if not all(isinstance(i, int) for i in ids):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        outcomes = [self._delete_one(chat_id, i) for i in ids]
        self.deleted.setdefault(chat_id, []).extend(
            i for i, outcome in zip(ids, outcomes, strict=True) if outcome == "deleted")
        return True

    def _set_my_description(self, call: Call) -> bool:
        text = str(call.params.get("description") or "")
        if len(text) > MAX_DESCRIPTION_CHARS:
            raise ApiError(400, "Bad Request: BOT_DESCRIPTION_INVALID")
        self.descriptions[str(call.params.get("language_code") or "")] = text
        return True

    def _get_my_description(self, call: Call) -> dict[str, str]:
        return {"description": self.descriptions.get(str(call.params.get("language_code") or ""), "")}

    def _set_my_short_description(self, call: Call) -> bool:
        text = str(call.params.get("short_description") or "")
        if len(text) > MAX_SHORT_DESCRIPTION_CHARS:
            raise ApiError(400, "Bad Request: BOT_SHORT_DESCRIPTION_INVALID")
        self.short_descriptions[str(call.params.get("language_code") or "")] = text
        return True

    def _get_my_short_description(self, call: Call) -> dict[str, str]:
        lang = str(call.params.get("language_code") or "")
        return {"short_description": self.short_descriptions.get(lang, "")}

    def _answer_callback_query(self, call: Call) -> bool:
        p = call.params
        text = p.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_CHARS:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        record = self.callbacks.get(str(p.get("callback_query_id", "")))
        if record is None or record.answered or time.monotonic() - record.created > self.callback_ttl:
            raise ApiError(400, TOO_OLD, expected=True)
        call.chat_id = record.chat_id
        record.answered = True
        record.answer = {k: v for k, v in p.items() if k != "callback_query_id"}
        return True

    def _send_chat_action(self, call: Call) -> bool:
        self._chat(call.params)
        if call.params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _send_document(self, call: Call) -> dict[str, Any]:
        p = call.params
        chat_id = self._chat(p)
        call.chat_id = chat_id
        document = p.get("document")
        file_id: str
        upload: UploadedFile | None
        if isinstance(document, UploadedFile):
            if not document.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            guessed = mimetypes.guess_type(document.filename)[0]
            upload = dataclasses.replace(document, content_type=guessed or document.content_type)
            file_id = f"BQACAgIAAx{next(self._file_ids):06d}"
            self._files[file_id] = upload
        elif isinstance(document, str) and document in self._files:
            file_id, upload = document, self._files[document]
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            file_id, upload = f"BQACAgIAAx{next(self._file_ids):06d}", None
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = p.get("caption")
        plain, entities = self._render(
            caption, p.get("parse_mode"), p.get("caption_entities"), MAX_CAPTION_CHARS, caption=True
        )
        markup = self._markup(call.method, p.get("reply_markup"))
        msg = BotMessage(
            chat_id=chat_id,
            message_id=self.new_message_id(chat_id),
            text=caption,
            parse_mode=p.get("parse_mode"),
            plain=plain,
            entities=entities,
            reply_markup=markup,
            date=self.now(),
            document=upload,
            file_id=file_id,
        )
        self.store.setdefault(chat_id, {})[msg.message_id] = msg
        self._record_out("document", msg)
        return self._message_dict(msg)



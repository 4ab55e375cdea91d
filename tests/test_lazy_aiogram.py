"""aiogram's types built on first use (bot.telegram.lazy_aiogram) are the same as when built at import."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from helpers import ROOT

# Runs in a fresh interpreter: "lazy" imports the bot first (as every entry point does),
# "eager" imports aiogram alone. Prints what each model resolved its fields to, whether it
# was built before first use, and how sample updates parse.
PROBE = r'''
import json, sys
if sys.argv[1] == "lazy":
    import bot.telegram.methods
import aiogram.types as T, aiogram.methods as M
from pydantic import BaseModel
built_at_import = sorted(n for n in T.__all__ if getattr(getattr(T, n), "__pydantic_complete__", 0))
fields = []
for mod in (T, M):
    for name in sorted(mod.__all__):
        cls = getattr(mod, name)
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            cls.model_rebuild()
            fields.append((name, cls.__pydantic_complete__, [
                f"{f}:{i.annotation!r}={i.default!r}" for f, i in sorted(cls.model_fields.items())]))
user = {"id": 7, "is_bot": False, "first_name": "A", "language_code": "es"}
chat = {"id": 7, "type": "private", "first_name": "A"}
message = {"message_id": 3, "date": 1700000000, "chat": chat, "from": user, "text": "/start x",
           "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
           "reply_markup": {"inline_keyboard": [[{"text": "Sí", "callback_data": "1:g:a"}]]}}
samples = [
    {"update_id": 1, "message": message},
    {"update_id": 2, "callback_query": {"id": "q", "from": user, "chat_instance": "c",
                                        "data": "1:b", "message": message}},
    {"update_id": 3, "edited_message": dict(message, edit_date=1700000001)},
    {"update_id": 4, "my_chat_member": {"chat": chat, "from": user, "date": 1700000000,
        "old_chat_member": {"status": "member", "user": user},
        "new_chat_member": {"status": "kicked", "user": user, "until_date": 0}}},
    {"update_id": 5, "message": dict(message, text=None, photo=[
        {"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}])},
]
parsed = [T.Update.model_validate(s).model_dump(mode="json", exclude_none=True) for s in samples]
print(json.dumps({"built_at_import": built_at_import, "fields": fields, "parsed": parsed}))
'''


def probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout
    return json.loads(re.sub(r" at 0x[0-9a-f]+", "", out))


def test_lazily_built_types_match_eagerly_built_ones() -> None:
    lazy, eager = probe("lazy"), probe("eager")
    assert lazy["built_at_import"] == []  # nothing built until used: that is the saving
    assert len(eager["built_at_import"]) > 400
    assert all(complete for _name, complete, _fields in lazy["fields"])
    assert lazy["fields"] == eager["fields"]
    assert lazy["parsed"] == eager["parsed"]
    assert lazy["parsed"][1]["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Sí", "callback_data": "1:g:a"}

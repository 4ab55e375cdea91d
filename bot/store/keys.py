"""Anonymous session keys: an HMAC-SHA256 of the chat id under a server secret.

The chat id itself is never stored. The secret comes from ``SESSION_SECRET`` or, when unset,
is generated on first run into ``<data>/session_secret`` with 0600 permissions.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.settings import SettingsError
from bot.store.files import private_dir

SECRET_FILE = "session_secret"


class SessionKeyer:
    """Turns a chat id into a key that cannot be traced back without the secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the session secret must be at least 16 bytes")
        self._secret = secret

    def key(self, chat_id: int) -> str:
        """The session key for ``chat_id`` (64 hex characters)."""
        return hmac.new(self._secret, str(chat_id).encode(), hashlib.sha256).hexdigest()


def load_secret(configured: str, data_dir: Path, sessions_exist: bool = False) -> bytes:
    """The configured secret, or the one kept in the data folder (created if missing).

    A new secret is never made while sessions exist: they were keyed with the lost one, and
    every user would silently start over. That is refused with a message saying what to do.
    """
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_text(encoding="ascii").strip()
        if secret:
            return secret.encode()
    if sessions_exist:
        state = "is empty" if path.exists() else "is missing"
        raise SettingsError(
            f"{path} {state}, but the database holds sessions keyed with it: restore the file "
            f"from a backup (or set SESSION_SECRET to the old secret). To start every session "
            f"over on purpose, delete the database too.")
    private_dir(data_dir)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(secret + "\n")
    return secret.encode()

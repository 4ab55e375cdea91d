"""Settings, read once from environment variables into one object that is passed around.

Each setting is declared once, as a field of :class:`Settings` named after its variable
(``chat_min_interval`` is ``CHAT_MIN_INTERVAL``); its type says how the text is read, and a
bad value gets one message naming that variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


def _default_dir(name: str) -> Path:
    """A folder next to the package (a source checkout), else under the working directory."""
    candidate = PROJECT_ROOT / name
    return candidate if candidate.is_dir() else Path.cwd() / name


def _at_least(minimum: int) -> dict[str, Any]:
    return {"min": minimum}


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment (see ``.env.example``)."""

    bot_token: str = ""
    telegram_api_base: str = ""
    data_dir: Path = field(default_factory=lambda: _default_dir("data"))
    database_url: str = ""  # empty: SQLite in data_dir/kyr-bot.db
    content_dir: Path = field(default_factory=lambda: _default_dir("content"))
    locales_dir: Path = field(default_factory=lambda: _default_dir("locales"))
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = field(default=8080, metadata=_at_least(1))
    webhook_path: str = "/webhook"
    session_secret: str = ""
    session_ttl_days: int = field(default=30, metadata=_at_least(1))
    log_level: str = "INFO"
    chat_min_interval: float = 1.0
    chat_burst: int = field(default=3, metadata=_at_least(1))
    global_messages_per_second: float = 30.0
    max_updates_in_flight: int = field(default=100, metadata=_at_least(1))
    bot_username: str = ""  # for the deep links and QR codes of the preview site
    legal_facts: Path = field(default_factory=lambda: PROJECT_ROOT.parent / "shared" / "legal-facts.md")

    @staticmethod
    def variables() -> list[str]:
        """The environment variable of every setting, in declaration order."""
        return [f.name.upper() for f in fields(Settings)]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name = spec.name.upper()
            raw = (env.get(name) or "").strip()
            if raw:
                values[spec.name] = _read(name, raw, spec.type, spec.metadata.get("min"))
        settings = cls(**values)
        if settings.session_secret and len(settings.session_secret.encode()) < 16:
            raise SettingsError("SESSION_SECRET is too short (at least 16 characters; make one with "
                                "python3 -c 'import secrets; print(secrets.token_hex(32))')")
        data_dir = settings.data_dir
        return replace(settings,
                       database_url=settings.database_url
                       or f"sqlite+aiosqlite:///{data_dir / 'kyr-bot.db'}",
                       telegram_api_base=settings.telegram_api_base.rstrip("/"),
                       log_level=settings.log_level.upper())


def _read(name: str, raw: str, kind: Any, minimum: int | None) -> Any:
    """One variable's text as its setting's type, or one clear error naming the variable."""
    if kind in (int, "int"):
        try:
            number: float = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    elif kind in (float, "float"):
        try:
            number = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number (for example 1.0), not {raw!r}") from None
    elif kind in (Path, "Path"):
        return Path(raw)
    else:
        return raw
    if minimum is not None and number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {raw}")
    return number


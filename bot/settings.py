"""Settings, read once from environment variables into one object that is passed around."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says how to fix it."""


def _default_dir(name: str) -> Path:
    """A folder next to the package (a source checkout), else under the working directory."""
    candidate = PROJECT_ROOT / name
    return candidate if candidate.is_dir() else Path.cwd() / name


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    bot_token: str = ""
    api_base: str = ""
    database_url: str = ""
    content_dir: Path = PROJECT_ROOT / "content"
    locales_dir: Path = PROJECT_ROOT / "locales"
    data_dir: Path = PROJECT_ROOT / "data"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/webhook"
    session_secret: str = ""
    session_ttl_days: int = 30
    log_level: str = "INFO"
    chat_interval: float = 1.0
    max_in_flight: int = 100

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("DATA_DIR") or _default_dir("data"))
        try:
            port = int(env.get("WEBHOOK_PORT") or 8080)
            ttl = int(env.get("SESSION_TTL_DAYS") or 30)
            interval = float(env.get("CHAT_MIN_INTERVAL") or 1.0)
            in_flight = int(env.get("MAX_UPDATES_IN_FLIGHT") or 100)
        except ValueError as exc:
            raise SettingsError(f"WEBHOOK_PORT, SESSION_TTL_DAYS, CHAT_MIN_INTERVAL and "
                                f"MAX_UPDATES_IN_FLIGHT must be numbers: {exc}") from exc
        if ttl < 1:
            raise SettingsError("SESSION_TTL_DAYS must be at least 1")
        if in_flight < 1:
            raise SettingsError("MAX_UPDATES_IN_FLIGHT must be at least 1")
        return cls(
            bot_token=(env.get("BOT_TOKEN") or "").strip(),
            api_base=(env.get("TELEGRAM_API_BASE") or "").strip().rstrip("/"),
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'kyr-bot.db'}",
            content_dir=Path(env.get("CONTENT_DIR") or _default_dir("content")),
            locales_dir=Path(env.get("LOCALES_DIR") or _default_dir("locales")),
            data_dir=data_dir,
            webhook_url=(env.get("WEBHOOK_URL") or "").strip(),
            webhook_secret=env.get("WEBHOOK_SECRET") or "",
            webhook_host=env.get("WEBHOOK_HOST") or "127.0.0.1",
            webhook_port=port,
            webhook_path=env.get("WEBHOOK_PATH") or "/webhook",
            session_secret=env.get("SESSION_SECRET") or "",
            session_ttl_days=ttl,
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            chat_interval=interval,
            max_in_flight=in_flight,
        )

"""Settings: each declared once, named after its variable, documented, with one error per bad value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError
from helpers import ROOT


def test_every_setting_is_documented_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.variables():
        assert re.search(rf"^#? ?{name}=", example, re.M), f"{name} is missing from .env.example"
        assert f"`{name}`" in readme, f"{name} is missing from the README"


def test_values_are_read_by_the_type_of_their_setting(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "BOT_TOKEN": " 1:abc ", "TELEGRAM_API_BASE": "http://127.0.0.1:8081/", "DATA_DIR": str(tmp_path),
        "WEBHOOK_PORT": "8443", "CHAT_MIN_INTERVAL": "0.5", "MAX_UPDATES_IN_FLIGHT": "7",
        "LOG_LEVEL": "debug", "SESSION_TTL_DAYS": "",
    })
    assert settings.bot_token == "1:abc" and settings.telegram_api_base == "http://127.0.0.1:8081"
    assert settings.webhook_port == 8443 and settings.chat_min_interval == 0.5
    assert settings.max_updates_in_flight == 7 and settings.log_level == "DEBUG"
    assert settings.session_ttl_days == 30  # empty means the default
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'kyr-bot.db'}"


@pytest.mark.parametrize(("name", "value", "words"), [
    ("WEBHOOK_PORT", "http", "WEBHOOK_PORT must be a whole number, not 'http'"),
    ("SESSION_TTL_DAYS", "0", "SESSION_TTL_DAYS must be at least 1, not 0"),
    ("CHAT_MIN_INTERVAL", "fast", "CHAT_MIN_INTERVAL must be a number (for example 1.0), not 'fast'"),
    ("MAX_UPDATES_IN_FLIGHT", "-3", "MAX_UPDATES_IN_FLIGHT must be at least 1, not -3"),
])
def test_a_bad_value_gets_one_message_naming_its_variable(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    assert str(caught.value) == words

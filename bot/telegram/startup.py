"""Why ``kyr-bot run`` could not start, in one line, and whether a restart can help.

Exit codes follow sysexits: ``EXIT_CONFIG`` (78) when the operator must fix the configuration
(the systemd unit stops restarting on it), ``EXIT_RETRY`` (75) when the cause may pass (the
network, the database or Telegram being down), so a restart later can succeed.
"""

from __future__ import annotations

import errno
import socket
import sqlite3

from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoSuchModuleError, SQLAlchemyError

from bot.exits import EXIT_CONFIG, EXIT_RETRY
from bot.settings import Settings, SettingsError

# asyncpg's errors for a server that is down, starting, or full.
_UNREACHABLE = {"CannotConnectNowError", "ConnectionDoesNotExistError", "TooManyConnectionsError"}


def _database(settings: Settings) -> str:
    """Where the database is, without its password."""
    try:
        from sqlalchemy.engine import make_url

        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite":
            return str(url.database)
        return f"{url.host}:{url.port or 5432}/{url.database}"
    except ArgumentError:
        return "DATABASE_URL"


def _root(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper."""
    return getattr(exc, "orig", None) or exc


def explain(exc: BaseException, settings: Settings) -> tuple[str, int]:
    """One line saying what is wrong and how to fix it, and the exit code."""
    db = _database(settings)
    root = _root(exc)
    text = str(root).lower()
    name = type(root).__name__
    if isinstance(exc, SettingsError):
        return str(exc), EXIT_CONFIG
    if isinstance(exc, TelegramUnauthorizedError):
        return ("Telegram refused BOT_TOKEN (401 Unauthorized): copy the token again from "
                "@BotFather (/mybots, API Token)"), EXIT_CONFIG
    if isinstance(exc, TelegramNotFound):
        return ("the Bot API answered 404 Not Found: check BOT_TOKEN and TELEGRAM_API_BASE "
                f"({settings.telegram_api_base or 'https://api.telegram.org'})"), EXIT_CONFIG
    if isinstance(exc, TelegramNetworkError | TelegramServerError | TelegramRetryAfter):
        return (f"cannot reach the Telegram Bot API at "
                f"{settings.telegram_api_base or 'https://api.telegram.org'} ({type(exc).__name__}): "
                "check the network, DNS and firewall (outgoing HTTPS); try again later"), EXIT_RETRY
    if isinstance(exc, ModuleNotFoundError | NoSuchModuleError) or "async driver" in text:
        return ((f"DATABASE_URL needs a driver that is not installed or not async ({name}): for "
                "PostgreSQL use postgresql+asyncpg://... and pip install 'kyr-bot[postgres]'"),
                EXIT_CONFIG)
    if isinstance(exc, ArgumentError):
        return (("DATABASE_URL is not a database address: write it like "
                "postgresql+asyncpg://user:password@host:5432/dbname or sqlite+aiosqlite:///path"),
                EXIT_CONFIG)
    if name in {"InvalidPasswordError", "InvalidAuthorizationSpecificationError"}:
        return (f"PostgreSQL at {db} refused the user or password in DATABASE_URL: fix them"), EXIT_CONFIG
    if name == "InvalidCatalogNameError":
        return (f"the database in DATABASE_URL does not exist on {db}: create it "
                "(createdb) or fix its name"), EXIT_CONFIG
    on_sqlite = settings.database_url.startswith("sqlite")
    if isinstance(root, sqlite3.Error) or (isinstance(exc, SQLAlchemyError) and on_sqlite):
        if "full" in text:
            return (f"the disk holding {db} is full: free some space; try again later"), EXIT_RETRY
        if "malformed" in text or "not a database" in text:
            return (f"{db} is damaged (not a readable database): restore it from a backup, or move "
                    "it away to start with an empty one"), EXIT_CONFIG
        if "readonly" in text or "unable to open" in text or "read-only" in text:
            return (f"cannot write {db}: make DATA_DIR ({settings.data_dir}) writable by the user "
                    "running kyr-bot"), EXIT_CONFIG
        if "locked" in text:
            return (f"{db} is locked by another process (another kyr-bot?); try again later"), EXIT_RETRY
    if isinstance(root, OSError) and root.errno in (errno.ENOTDIR, errno.EROFS, errno.EACCES, errno.EPERM):
        return (f"cannot create or write {root.filename or settings.data_dir}: make DATA_DIR "
                f"({settings.data_dir}) a folder writable by the user running kyr-bot"), EXIT_CONFIG
    if isinstance(root, PermissionError):
        return (f"permission denied on {root.filename or settings.data_dir}: make DATA_DIR "
                f"({settings.data_dir}) writable by the user running kyr-bot"), EXIT_CONFIG
    if isinstance(root, OSError) and root.errno == errno.ENOSPC:
        return (f"the disk holding {settings.data_dir} is full: free some space; try again later"), EXIT_RETRY
    if isinstance(root, OSError) and root.errno == errno.EADDRINUSE:
        return (f"WEBHOOK_PORT {settings.webhook_port} on {settings.webhook_host} is already in use "
                "(another kyr-bot still running?): stop it or choose another port"), EXIT_RETRY
    if isinstance(root, OSError) and root.errno in (errno.EADDRNOTAVAIL,):
        return (f"WEBHOOK_HOST {settings.webhook_host} is not an address of this machine: "
                "use 0.0.0.0 or 127.0.0.1"), EXIT_CONFIG
    if isinstance(root, socket.gaierror | ConnectionError | TimeoutError) or name in _UNREACHABLE:
        return (f"cannot reach the database at {db} ({name}): check that PostgreSQL is running and "
                "DATABASE_URL's host and port; try again later"), EXIT_RETRY
    if isinstance(exc, InvalidRequestError | SQLAlchemyError):
        return (f"the database at {db} could not be used ({name}): check DATABASE_URL"), EXIT_CONFIG
    if isinstance(exc, RuntimeError) and "schema" in str(exc):
        return str(exc), EXIT_CONFIG
    return (f"kyr-bot could not start ({name}); run with LOG_LEVEL=DEBUG for details; "
            "try again later"), EXIT_RETRY



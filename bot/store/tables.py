"""The store's tables, declared with SQLModel: sessions, aggregate counts, store settings, and
the ids of recent updates (to apply one Telegram delivers twice only once)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class SessionRow(SQLModel, table=True):
    """One anonymous session."""

    __tablename__ = "sessions"
    key: str = Field(primary_key=True, max_length=64)
    state: str
    rev: int = 1
    created_day: date
    updated_day: date = Field(index=True)


class DailyCount(SQLModel, table=True):
    """How many times a node was shown (or was the last one seen) on a day, in a language."""

    __tablename__ = "daily_counts"
    day: date = Field(primary_key=True)
    lang: str = Field(primary_key=True, max_length=16)
    node: str = Field(primary_key=True, max_length=64)
    event: str = Field(primary_key=True, max_length=8)
    count: int = 0


class Meta(SQLModel, table=True):
    """Store-wide settings, such as the schema version."""

    __tablename__ = "kyr_meta"
    name: str = Field(primary_key=True, max_length=32)
    value: str


class RecentUpdate(SQLModel, table=True):
    """An update a replica applied, by Telegram's update_id only (no link to any session or chat).

    Written with the step it caused (PostgreSQL, in the step's transaction), so a webhook update
    Telegram delivers again, to any replica, is seen as done; rows older than a day are purged.
    """

    __tablename__ = "recent_updates"
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    day: date = Field(index=True)


SESSIONS: Any = SessionRow.__table__  # type: ignore[attr-defined]
COUNTS: Any = DailyCount.__table__  # type: ignore[attr-defined]
META: Any = Meta.__table__  # type: ignore[attr-defined]
RECENT_UPDATES: Any = RecentUpdate.__table__  # type: ignore[attr-defined]
METADATA = SQLModel.metadata

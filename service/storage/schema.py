"""Tables, as typed SQLAlchemy declarative classes.

These classes are private to the storage package: public methods return the frozen
records in ``records.py``. Every change here needs a new Alembic revision in
``migrations/versions``; ``tests/storage`` compares the two so they cannot drift.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HASH_LENGTH = 64  # hex SHA-256
CHECK_ID_LENGTH = 64

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def all_metadata() -> MetaData:
    """``Base.metadata`` after importing every module of the package that may add tables.

    Tables declared outside this module (``accounts.py``) only join the metadata once
    their module is imported; autogenerate and the migration tests must see them all,
    or a new revision would drop them.
    """
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if not module.name.startswith("_") and not module.ispkg:
            importlib.import_module(f"{package}.{module.name}")
    return Base.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite has no time zone type, so values are stored as naive UTC there and made
    aware again when read; naive values are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    settings: Mapped[dict[str, Any]]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class CheckRow(Base):
    __tablename__ = "checks"
    __table_args__ = (
        Index("ix_checks_site_id_created_at", "site_id", "created_at"),
        Index("ix_checks_site_id_content_hash", "site_id", "content_hash"),
    )

    id: Mapped[str] = mapped_column(String(CHECK_ID_LENGTH), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    content: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    fields: Mapped[dict[str, Any]]
    email_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), index=True)
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[Any]]
    model_version: Mapped[str] = mapped_column(String(128))
    is_test: Mapped[bool] = mapped_column(Boolean)
    feedback_label: Mapped[str | None] = mapped_column(String(8))
    purged_at: Mapped[datetime | None]


class FeedbackRow(Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_site_id_created_at", "site_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    check_id: Mapped[str | None] = mapped_column(
        ForeignKey("checks.id", ondelete="SET NULL"), index=True
    )
    label: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    reporter: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    content: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[dict[str, Any]]
    email_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), index=True)
    ip_hash: Mapped[str | None] = mapped_column(String(HASH_LENGTH), index=True)
    original_verdict: Mapped[str | None] = mapped_column(String(16))
    purged_at: Mapped[datetime | None]


class DailyCountRow(Base):
    __tablename__ = "daily_counts"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    checks: Mapped[int] = mapped_column(Integer, server_default="0")
    ham: Mapped[int] = mapped_column(Integer, server_default="0")
    unsure: Mapped[int] = mapped_column(Integer, server_default="0")
    spam: Mapped[int] = mapped_column(Integer, server_default="0")
    discard: Mapped[int] = mapped_column(Integer, server_default="0")
    missed_spam: Mapped[int] = mapped_column(Integer, server_default="0")
    false_positives: Mapped[int] = mapped_column(Integer, server_default="0")


class UsageRow(Base):
    __tablename__ = "usage"

    key_id: Mapped[int] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, server_default="0")


class ReputationRow(Base):
    __tablename__ = "reputation"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True, index=True)
    ham_count: Mapped[int] = mapped_column(Integer, server_default="0")
    spam_count: Mapped[int] = mapped_column(Integer, server_default="0")
    last_seen: Mapped[datetime]


class RegistryStateRow(Base):
    __tablename__ = "registry_state"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]

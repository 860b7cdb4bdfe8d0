"""Durable storage: sites, API keys, checks, feedback, counters, reputation, state.

``Storage`` is the only entry point the service needs; ``upgrade`` migrates a
database to the schema this code expects. SQLite (``sqlite_url(data_dir)``) is the
embedded default, PostgreSQL is chosen by a ``postgresql+psycopg://`` URL.
"""

from service.storage.engine import make_engine, sqlite_url
from service.storage.errors import (
    AlreadyExists,
    DatabaseUnavailable,
    InvalidSetting,
    InvalidValue,
    NotFound,
    StorageError,
)
from service.storage.hashing import ReputationKind
from service.storage.migrate import current_revision, downgrade, head_revision, upgrade
from service.storage.months import month_of
from service.storage.records import (
    COMMENT_FIELDS,
    ApiKey,
    CheckRecord,
    Counts,
    DailyCount,
    FeedbackRecord,
    FeedbackSource,
    KeyMatch,
    Label,
    Site,
    SiteStats,
    Verdict,
)
from service.storage.site_settings import CUTOFF_NAMES, SiteSettings
from service.storage.storage import Storage
from service.storage.urls import normalize_site_url

__all__ = [
    "COMMENT_FIELDS",
    "CUTOFF_NAMES",
    "AlreadyExists",
    "ApiKey",
    "CheckRecord",
    "Counts",
    "DailyCount",
    "DatabaseUnavailable",
    "FeedbackRecord",
    "FeedbackSource",
    "InvalidSetting",
    "InvalidValue",
    "KeyMatch",
    "Label",
    "NotFound",
    "ReputationKind",
    "Site",
    "SiteSettings",
    "SiteStats",
    "Storage",
    "StorageError",
    "Verdict",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "month_of",
    "normalize_site_url",
    "sqlite_url",
    "upgrade",
]

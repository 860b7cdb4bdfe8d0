"""Errors raised by the storage layer.

Callers catch these, never SQLAlchemy's, so the HTTP edge can map them without
knowing which database is behind the service::

    StorageError
    ├── NotFound              a site, key or check with that id does not exist
    ├── AlreadyExists         a unique value (site URL, check id) is taken
    ├── InvalidValue          an argument is malformed (also a ValueError)
    │   └── InvalidSetting    a site setting has a bad name or value
    └── DatabaseUnavailable   the database cannot be reached or is busy

Messages are short and stable and never contain comment text, e-mails or IPs.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error the storage layer raises on purpose."""


class NotFound(StorageError):
    """The row asked for does not exist."""


class AlreadyExists(StorageError):
    """A row with the same unique value is already stored."""


class InvalidValue(StorageError, ValueError):
    """An argument does not have the shape or range the storage layer accepts."""


class InvalidSetting(InvalidValue):
    """A site setting has an unknown name or a value outside what is allowed."""


class DatabaseUnavailable(StorageError):
    """The database refused or dropped the connection, or stayed locked too long.

    Always raised ``from`` the SQLAlchemy ``OperationalError`` so the cause is kept
    for logs while the message stays free of connection details.
    """

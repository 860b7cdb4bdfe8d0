"""Turning the comment fields a client sent into what is stored.

The content goes to its own column so retention can empty it; the e-mail and IP
are always hashed into indexed columns (so GDPR requests find them whatever the
site's setting) and, in the JSON, replaced by those hashes unless the site chose
to keep them in clear. The stored hash fields are accepted back, so a check's
``fields`` can be passed on as a feedback's. Unknown field names are refused: a
misspelt ``email`` would otherwise be stored in clear without anyone noticing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from service.storage.errors import InvalidValue
from service.storage.hashing import Hasher
from service.storage.records import COMMENT_FIELDS

#: Keys that replace ``author_email`` / ``user_ip`` in stored fields when PII is hashed.
EMAIL_HASH_FIELD = "author_email_hash"
IP_HASH_FIELD = "user_ip_hash"
ACCEPTED_FIELDS = frozenset((*COMMENT_FIELDS, EMAIL_HASH_FIELD, IP_HASH_FIELD))
_HEX_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class PreparedFields:
    content: str | None
    content_hash: str | None
    fields: dict[str, Any]
    email_hash: str | None
    ip_hash: str | None


def prepare_fields(fields: Mapping[str, Any], *, hasher: Hasher, store_pii: str) -> PreparedFields:
    """Split, hash and convert ``fields`` as the site's ``store_pii`` setting asks."""
    unknown = sorted(set(fields) - ACCEPTED_FIELDS)
    if unknown:
        raise InvalidValue(
            f"unknown comment fields {unknown}; expected some of {list(COMMENT_FIELDS)}"
        )
    clear = store_pii == "clear"
    stored: dict[str, Any] = {}
    content = None
    email_hash = _given_hash(fields, EMAIL_HASH_FIELD)
    ip_hash = _given_hash(fields, IP_HASH_FIELD)
    if email_hash and not fields.get("author_email"):
        stored[EMAIL_HASH_FIELD] = email_hash
    if ip_hash and not fields.get("user_ip"):
        stored[IP_HASH_FIELD] = ip_hash
    for name in COMMENT_FIELDS:
        value = _json_value(name, fields.get(name))
        if value is None:
            continue
        if name == "content":
            content = str(value)
        elif name == "author_email":
            email_hash = hasher.email(str(value))
            stored[name if clear else EMAIL_HASH_FIELD] = value if clear else email_hash
        elif name == "user_ip":
            ip_hash = hasher.ip(str(value))
            stored[name if clear else IP_HASH_FIELD] = value if clear else ip_hash
        else:
            stored[name] = value
    content_hash = hasher.content(content) if content else None
    return PreparedFields(content, content_hash, stored, email_hash, ip_hash)


def _given_hash(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _HEX_HASH.match(value):
        raise InvalidValue(f"comment field {name!r} must be a stored hash (64 hex digits)")
    return value


def _json_value(name: str, value: Any) -> str | int | float | bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    raise InvalidValue(
        f"comment field {name!r} must be text, a number, a boolean or a datetime, "
        f"got {type(value).__name__}"
    )

"""Calendar months as ``YYYY-MM`` strings, the unit of usage and key-sites reports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from service.storage.errors import InvalidValue

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_of(moment: datetime | date) -> str:
    """``YYYY-MM`` of a date, or of an aware datetime taken in UTC."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    """First day of ``month`` and first day of the month after it."""
    match = _MONTH.match(month)
    if match is None:
        raise InvalidValue(f"month must look like YYYY-MM, got {month!r}")
    year, number = int(match.group(1)), int(match.group(2))
    first = date(year, number, 1)
    after = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return first, after

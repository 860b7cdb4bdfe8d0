"""Per-site settings: the typed value, its JSON form and its validation.

Settings live in one JSON column so adding a setting needs no migration; this
module is the single place that decides what a valid value is, so a bad value is
refused when it is written instead of surprising the scorer later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from service.storage.errors import InvalidSetting
from training.verdicts import Cutoffs

StorePii = Literal["hashed", "clear"]
FailOpen = Literal["ham", "unsure"]

#: Cut-off names, as in ``training.verdicts.Cutoffs``: ``Cutoffs(**settings.cutoffs)`` works.
CUTOFF_NAMES: tuple[str, ...] = ("unsure", "spam", "discard")
STORE_PII_VALUES: tuple[str, ...] = ("hashed", "clear")
FAIL_OPEN_VALUES: tuple[str, ...] = ("ham", "unsure")
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """How the service treats one site's comments.

    ``cutoffs`` overrides the model's cut-offs (``None`` keeps the model's);
    ``unsure_is_spam`` decides what ``unsure`` becomes on the Akismet API, which only
    knows spam and ham; ``retention_days`` bounds how long raw comments are kept;
    ``store_pii`` keeps e-mail and IP addresses hashed (default) or in clear;
    ``fail_open`` is the verdict given when scoring fails.
    """

    cutoffs: Mapping[str, float] | None = None
    unsure_is_spam: bool = False
    retention_days: int = 15
    store_pii: StorePii = "hashed"
    fail_open: FailOpen = "ham"

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored in ``sites.settings``."""
        return {
            "cutoffs": dict(self.cutoffs) if self.cutoffs is not None else None,
            "unsure_is_spam": self.unsure_is_spam,
            "retention_days": self.retention_days,
            "store_pii": self.store_pii,
            "fail_open": self.fail_open,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SiteSettings:
        """Read stored settings; names missing from older rows take their defaults."""
        known = {f.name for f in fields(cls)}
        changes = {k: v for k, v in (data or {}).items() if k in known}
        return validated(cls(), changes)

    def with_changes(self, **changes: Any) -> SiteSettings:
        """A copy with ``changes`` applied, after validating every one of them."""
        return validated(self, changes)


def validated(current: SiteSettings, changes: Mapping[str, Any]) -> SiteSettings:
    """Apply ``changes`` to ``current``; raise ``InvalidSetting`` naming the first bad one."""
    known = [f.name for f in fields(SiteSettings)]
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise InvalidSetting(f"unknown setting {name!r}; expected one of {known}")
        clean[name] = _CHECKS[name](value)
    return replace(current, **clean)


def _cutoffs(value: Any) -> Mapping[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or sorted(value) != sorted(CUTOFF_NAMES):
        raise InvalidSetting(
            f"setting 'cutoffs' must be null or an object with exactly {list(CUTOFF_NAMES)}, "
            f"got {value!r}"
        )
    clean = {name: _probability(f"cutoffs.{name}", value[name]) for name in CUTOFF_NAMES}
    try:
        Cutoffs(**clean)
    except ValueError as exc:
        raise InvalidSetting(f"setting 'cutoffs' is invalid: {exc}") from None
    return clean


def _probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSetting(f"setting {name!r} must be a number, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise InvalidSetting(f"setting {name!r} must be between 0 and 1, got {value!r}")
    return number


def _unsure_is_spam(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidSetting(f"setting 'unsure_is_spam' must be true or false, got {value!r}")
    return value


def _retention_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSetting(f"setting 'retention_days' must be an integer, got {value!r}")
    if not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
        raise InvalidSetting(
            f"setting 'retention_days' must be between {MIN_RETENTION_DAYS} and "
            f"{MAX_RETENTION_DAYS}, got {value!r}"
        )
    return value


def _choice(name: str, allowed: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise InvalidSetting(f"setting {name!r} must be one of {list(allowed)}, got {value!r}")
        return str(value)

    return check


_CHECKS = {
    "cutoffs": _cutoffs,
    "unsure_is_spam": _unsure_is_spam,
    "retention_days": _retention_days,
    "store_pii": _choice("store_pii", STORE_PII_VALUES),
    "fail_open": _choice("fail_open", FAIL_OPEN_VALUES),
}

"""Flood detection: the same text, or nearly, posted many times in a short window.

Each comment gets a MinHash of its folded words and word pairs, cut into bands: reworded
copies (a changed name, another link, different punctuation) share at least one band with
high probability, unrelated texts almost never, so counting comments per band finds
near-duplicates without comparing every pair. Counts are kept per site and per commenter
IP (public addresses only: a private or loopback one is a proxy's), for ``window`` seconds
from the first comment of a band, in memory or in Redis (``SLUICE_REDIS_URL``) so all
workers see them.

A comment that is one of ``threshold`` or more near-duplicates raises the spam score by a
log-odds shift that grows with the count, and says so in its reasons. Short texts ("Thanks!")
are never counted: many people write them. The same comment checked again (a moderation
queue re-checked, with its date) counts once.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import threading
import time
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.scoring import Reason
from training.features import fold
from training.normalize import strip_bbcode, strip_html

log = logging.getLogger(__name__)

MIN_TOKENS = 6
FLOOD_WEIGHT = 1.5
FLOOD_CAP = 4.0
MAX_MEMBERS = 1000
MAX_BANDS = 150_000
_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


def flat_text(text: str) -> str:
    """The text with HTML and BBCode flattened, folded: what flood bands and the links of
    link reputation are read from (``Moderation`` makes it once per check for both)."""
    return fold(strip_bbcode(strip_html(text)))


def tokens(text: str, *, flat: str | None = None) -> list[str]:
    """Folded words of the text (HTML and BBCode flattened), digits collapsed; ``flat`` is
    ``flat_text(text)`` when the caller has it already.

    Digits are word characters, so collapsing each run in the whole text at once gives
    the same words as collapsing them word by word.
    """
    lowered = (flat_text(text) if flat is None else flat).lower()
    return _WORD.findall(_DIGITS.sub("0", lowered))


# MinHash: 18 hash functions (multiply-shift over CRC32s of the features), in 6 bands of 3.
_ROWS, BANDS = 3, 6
_random = np.random.default_rng(20261124)
# 64-bit odd multipliers: the product wraps modulo 2**64 and its high half is the hash.
_A = _random.integers(0, 2**64 - 1, size=_ROWS * BANDS, dtype=np.uint64, endpoint=True) | np.uint64(
    1
)
_B = _random.integers(0, 2**64 - 1, size=_ROWS * BANDS, dtype=np.uint64, endpoint=True)


def band_keys(text: str, *, flat: str | None = None) -> list[int] | None:
    """The text's MinHash bands (two texts sharing one are near-duplicates), or None for a
    text too short to count. Texts with word-and-pair Jaccard similarity 0.8 share a band
    99% of the time, at 0.5 about half the time, at 0.2 under 5%."""
    words = tokens(text, flat=flat)
    if len(words) < MIN_TOKENS:
        return None
    # CRC32s of the words and of the word pairs ("a b", continued from the CRC of "a "); a
    # feature seen twice changes no minimum, so repeats are only dropped, not looked for.
    encoded = [word.encode() for word in words]
    singles = [zlib.crc32(word) for word in encoded]
    spaced = [zlib.crc32(b" ", crc) for crc in singles[:-1]]
    pairs = [zlib.crc32(word, crc) for word, crc in zip(encoded[1:], spaced, strict=True)]
    values = np.array(list({*singles, *pairs}), dtype=np.uint64)
    minima = ((values[:, None] * _A[None, :] + _B) >> np.uint64(32)).min(axis=0)
    rows = minima.reshape(BANDS, _ROWS).astype(np.uint32)
    return [zlib.crc32(row.tobytes()) for row in rows]


@dataclass(frozen=True, slots=True)
class FloodEvidence:
    scope: str  # "site" or "ip"
    count: int
    window: int
    threshold: int

    @property
    def shift(self) -> float:
        return min(FLOOD_CAP, FLOOD_WEIGHT * (1 + math.log2(self.count / self.threshold)))

    def reason(self) -> Reason:
        where = "on this site" if self.scope == "site" else "from this IP address"
        minutes = max(1, round(self.window / 60))
        return Reason(
            feature=f"flood__{self.scope}",
            label=f"the same text was posted {self.count} times in {minutes} minutes {where}",
            weight=self.shift,
        )


class _MemoryBands:
    """Band counts in this process, oldest first, at most ``max_bands`` of them.

    The cap bounds memory whatever a client sends: about 370 bytes per band and 6 or 12 bands
    per distinct comment, so 150,000 bands is some 55 MiB and, at 50 distinct comments a second,
    the last four minutes or so. Past it the oldest bands go first (Redis has no such cap).
    """

    def __init__(self, max_bands: int = MAX_BANDS) -> None:
        self._sets: dict[str, tuple[float, set[str]]] = {}  # insertion order = expiry order
        self._lock = threading.Lock()
        self._swept = 0.0
        self.max_bands = max_bands

    def __len__(self) -> int:
        return len(self._sets)

    def add(self, keys: list[str], member: str | None, window: int) -> list[int]:
        now = time.monotonic()
        counts = []
        with self._lock:
            if now - self._swept > 10:
                self._sets = {k: v for k, v in self._sets.items() if v[0] > now}
                self._swept = now
            for key in keys:
                expires, members = self._sets.get(key, (0.0, set()))
                if expires <= now:  # new or expired: starts a window, moves to the end
                    self._sets.pop(key, None)
                    expires, members = now + window, set()
                if member is not None and len(members) < MAX_MEMBERS:
                    members.add(member)
                self._sets[key] = (expires, members)
                counts.append(len(members))
            while len(self._sets) > self.max_bands:
                del self._sets[next(iter(self._sets))]
        return counts


class _RedisBands:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)

    def close(self) -> None:
        self._redis.close()

    def add(self, keys: list[str], member: str | None, window: int) -> list[int]:
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            name = f"sluice:flood:{key}"
            if member is not None:
                pipe.sadd(name, member)
                pipe.expire(name, window, nx=True)
            pipe.scard(name)
        results = pipe.execute()
        step = 3 if member is not None else 1
        return [int(results[i + step - 1]) for i in range(0, len(results), step)]


class FloodDetector:
    """Counts near-duplicate comments per site and per IP; in Redis when ``redis_url`` is set."""

    def __init__(self, *, threshold: int, window: int, redis_url: str | None = None) -> None:
        self.threshold = threshold
        self.window = window
        self._memory = _MemoryBands()
        self._redis = _RedisBands(redis_url) if redis_url else None
        self._redis_failing = False

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()

    def observe(
        self,
        site_id: int,
        record: Mapping[str, Any],
        *,
        count: bool = True,
        flat: str | None = None,
    ) -> FloodEvidence | None:
        """Count this comment (unless ``count`` is false) and return the flood it is part of
        (``flat``: the content's ``flat_text``, when the caller has it)."""
        if self.threshold <= 0:
            return None
        found_bands = band_keys(str(record.get("content") or ""), flat=flat)
        if found_bands is None:
            return None
        scopes = [("site", str(site_id))]
        ip = str(record.get("user_ip") or "").strip()
        if _is_global(ip):  # a private, loopback or test address is a proxy's, not a person's
            scopes.append(("ip", hashlib.sha256(ip.encode()).hexdigest()[:20]))
        keys = [
            f"{kind}:{ident}:{i}:{band:08x}"
            for kind, ident in scopes
            for i, band in enumerate(found_bands)
        ]
        member = _member(record) if count else None
        counts = self._add(keys, member)
        best: FloodEvidence | None = None
        for index, (kind, _ident) in enumerate(scopes):
            found = max(counts[index * BANDS : (index + 1) * BANDS])
            if found >= self.threshold and (best is None or found > best.count):
                best = FloodEvidence(kind, found, self.window, self.threshold)
        return best

    def _add(self, keys: list[str], member: str | None) -> list[int]:
        if self._redis is not None:
            try:
                counts = self._redis.add(keys, member, self.window)
            except Exception as exc:  # Redis trouble: count in memory, never fail a check
                if not self._redis_failing:
                    log.warning("Redis unavailable for flood counts (%s); counting in memory", exc)
                    self._redis_failing = True
            else:
                self._redis_failing = False
                return counts
        return self._memory.add(keys, member, self.window)


def _is_global(ip: str) -> bool:
    try:
        return bool(ip) and ipaddress.ip_address(ip).is_global
    except ValueError:
        return False


def _member(record: Mapping[str, Any]) -> str:
    """One comment's identity: the same comment re-checked (same date) counts once."""
    created = str(record.get("created_at") or "")
    if not created:
        return uuid.uuid4().hex
    parts = [str(record.get(name) or "") for name in ("content", "author_email", "user_ip")]
    return hashlib.sha256("\x1f".join([*parts, created]).encode()).hexdigest()[:24]

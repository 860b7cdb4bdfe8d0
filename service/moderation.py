"""The one path every check and every piece of feedback takes, whichever API it came from.

The JSON API, the Akismet-compatible API and the dashboard all call ``Moderation``: score
with the current model, adjust by what this site's moderators taught us (reputation), record
the check, and on feedback store the correction and update the reputation at once.

Checks are recorded write-behind when a spool is configured (the service): answered at
once and stored in batches by ``service.writebehind`` a few milliseconds later. Feedback
stays synchronous and is acknowledged only once durable. Check ids start with the time
they were made (milliseconds, hex), so feedback reaching another replica before that
replica's batch is stored waits for it (at most ``CHECK_VISIBLE_WITHIN``) instead of
answering "unknown check".
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from scipy.special import expit, logit

from service.flood import FloodDetector, FloodEvidence, flat_text
from service.logs import note_request
from service.models import ModelHolder
from service.observability import Metrics
from service.scoring import Reason, Score, Scorer
from service.spool import Entry, Spool
from service.storage import (
    AlreadyExists,
    CheckRecord,
    Counts,
    DatabaseUnavailable,
    FeedbackRecord,
    KeyMatch,
    ReputationKind,
    Site,
    Storage,
)
from service.storage.comment_fields import EMAIL_HASH_FIELD
from service.storage.records import NewCheck
from service.writebehind import WriteBehind
from training.features import COMMENT_FIELDS, find_urls
from training.normalize import url_host
from training.verdicts import Cutoffs, Verdict

log = logging.getLogger(__name__)

GUARANTEED_SPAM_AUTHOR = "akismet-guaranteed-spam"
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"

# How much one moderator decision about each kind of value moves the log-odds (times log 2
# for the first decision); an e-mail is the strongest identity we see, an IP range the
# weakest. Sized so that one approval of a regular's held comment (e-mail, name, website)
# lets the same comment through next time: the model's log-odds reach about +-9.
REPUTATION_WEIGHTS = {
    ReputationKind.AUTHOR_EMAIL: 3.2,
    ReputationKind.AUTHOR_NAME: 1.6,
    ReputationKind.AUTHOR_URL_DOMAIN: 2.0,
    ReputationKind.LINK_DOMAIN: 1.6,
    ReputationKind.IP_PREFIX: 1.0,
}
REPUTATION_CAP = 6.0
_REPUTATION_NOUNS = {
    ReputationKind.AUTHOR_EMAIL: "e-mail address",
    ReputationKind.AUTHOR_NAME: "author",
    ReputationKind.AUTHOR_URL_DOMAIN: "author's website",
    ReputationKind.LINK_DOMAIN: "linked site",
    ReputationKind.IP_PREFIX: "network",
}


class NotReadyError(RuntimeError):
    """No verified model is loaded yet."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A scored comment: ``stored`` when committed before the answer, ``queued`` when the
    write-behind writer holds it, ``spooled`` when the database was unavailable."""

    id: str
    score: Score
    stored: bool
    spooled: bool = False
    queued: bool = False

    @property
    def verdict(self) -> Verdict:
        return self.score.verdict


@dataclass(frozen=True, slots=True)
class FeedbackReceipt:
    """A correction made durable: stored (``record``), or spooled until the database is back."""

    record: FeedbackRecord | None
    spooled: bool = False


KEY_CACHE_SIZE = 10_000

#: How long after a check id was made feedback on it may wait for it to be stored by the
#: replica that answered it (write-behind flushes every 50 ms; this leaves room for load).
CHECK_VISIBLE_WITHIN = 2.0
_CHECK_POLL_SECONDS = 0.02
# At most this many requests wait for a check at once: an id only has to look recent to
# be waited for, and each waiter holds a worker thread for up to CHECK_VISIBLE_WITHIN.
MAX_CHECK_WAITERS = 4


def new_check_id() -> str:
    """32 hex digits: the time in milliseconds (12), then 80 random bits.

    Same shape as the uuid4 hex used before; the time prefix tells a check too recent to be
    stored everywhere yet from an unknown one, and keeps the primary-key index append-mostly.
    """
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def check_id_age(check_id: str) -> float | None:
    """Seconds since ``check_id`` was made, or None when it does not carry a time."""
    if len(check_id) != 32:
        return None
    try:
        made = int(check_id[:12], 16) / 1000
    except ValueError:
        return None
    return time.time() - made


def reputation_entries(
    record: Mapping[str, Any], hash_email: Callable[[str], str], *, flat: str | None = None
) -> list[tuple[str, str]]:
    """The values of a comment that moderators' decisions attach to.

    The e-mail enters as its keyed hash (as stored with the check when the site keeps
    personal data hashed), so feedback given later by check id still reaches it. ``flat``
    is the content's ``flat_text`` when the caller has it (links are found in it).
    """
    entries: list[tuple[str, str]] = []
    email = str(record.get("author_email") or "").strip()
    email_hash = hash_email(email) if email else str(record.get(EMAIL_HASH_FIELD) or "")
    if email_hash:
        entries.append((ReputationKind.AUTHOR_EMAIL.value, email_hash))
    for kind, name in (
        (ReputationKind.AUTHOR_NAME, "author_name"),
        (ReputationKind.AUTHOR_URL_DOMAIN, "author_url"),
        (ReputationKind.IP_PREFIX, "user_ip"),
    ):
        value = str(record.get(name) or "").strip()
        if value:
            entries.append((kind.value, value))
    if flat is None:
        flat = flat_text(str(record.get("content") or ""))
    hosts = {url_host(u) for u in find_urls(flat)}
    entries.extend((ReputationKind.LINK_DOMAIN.value, h) for h in sorted(hosts - {""})[:10])
    return entries


def reputation_adjustment(counts: Mapping[tuple[str, str], Counts]) -> tuple[float, list[Reason]]:
    """Log-odds shift and reasons from this site's past moderator decisions."""
    total = 0.0
    reasons = []
    for (kind, _value), (ham, spam) in counts.items():
        if not ham and not spam:
            continue
        kind = ReputationKind(kind)
        shift = REPUTATION_WEIGHTS[kind] * (math.log1p(spam) - math.log1p(ham))
        total += shift
        noun = _REPUTATION_NOUNS[kind]
        parts = []
        if ham:
            parts.append(f"approved {ham} time{'s' * (ham != 1)}")
        if spam:
            parts.append(f"reported as spam {spam} time{'s' * (spam != 1)}")
        reasons.append(
            Reason(
                feature=f"reputation__{kind.value}",
                label=f"{noun} previously {' and '.join(parts)} on this site",
                weight=shift,
            )
        )
    total = max(-REPUTATION_CAP, min(REPUTATION_CAP, total))
    return total, reasons


def _protocol_override(record: Mapping[str, Any], user_role: str | None) -> Score | None:
    """Akismet's documented test values, which clients rely on in their own tests."""
    author = str(record.get("author_name") or "").strip().lower()
    email = str(record.get("author_email") or "").strip().lower()
    if author == GUARANTEED_SPAM_AUTHOR or email == GUARANTEED_SPAM_EMAIL:
        reason = Reason("test__guaranteed_spam", "Akismet test value: guaranteed spam", 10.0)
        return Score(score=1.0, verdict=Verdict.SPAM, reasons=[reason])
    roles = {r.strip().lower() for r in (user_role or "").split(",")}
    if "administrator" in roles:
        reason = Reason("test__administrator", "written by a site administrator", -10.0)
        return Score(score=0.0, verdict=Verdict.HAM, reasons=[reason])
    return None


class Moderation:
    """Checks and feedback for one running service (shared by all requests)."""

    def __init__(
        self,
        *,
        models: ModelHolder,
        storage: Storage,
        metrics: Metrics | None = None,
        spool: Spool | None = None,
        flood: FloodDetector | None = None,
    ) -> None:
        self.models = models
        self.storage = storage
        self.metrics = metrics
        self.spool = spool
        self.flood = flood
        # The last answer seen per key, for outages, with the storage's key generation then.
        self._keys: dict[str, tuple[int, KeyMatch]] = {}
        self._keys_lock = threading.Lock()
        self._check_waiters = threading.BoundedSemaphore(MAX_CHECK_WAITERS)
        # Write-behind only with a spool to fall back on (the service); tools write at once.
        self._pending: WriteBehind[Entry] | None = None
        if spool is not None:
            self._pending = WriteBehind(
                self._store_checks,
                on_unavailable=self._spool_checks,
                size_of=_entry_size,
                name="check-writer",
            )
            storage.add_before_reads(self._pending.flush)

    def shutdown(self) -> None:
        """Store the checks still held in memory (or spool them); the lifespan calls this
        after the last request."""
        if self._pending is not None:
            self._pending.close()
            self.storage.remove_before_reads(self._pending.flush)

    def settle_checks(self) -> None:
        """Store (or spool) every check answered so far, before something reads them."""
        if self._pending is not None and len(self._pending):
            self._pending.flush()

    # -- database outages ------------------------------------------------------------------
    #
    # With a spool, an outage (or a lock held too long) degrades instead of failing: keys
    # seen before are served from memory, checks are answered and spooled, feedback is
    # spooled before it is acknowledged. Without one (tests, tools), errors propagate.

    def _db_down(self) -> bool:
        return self.spool is not None and self.spool.active

    def _outage(self) -> None:
        if self.spool is not None and not self.spool.active:
            log.error("database unavailable: answering from memory and spooling writes")
            self.spool.active = True

    def find_key(self, plaintext: str) -> KeyMatch | None:
        """The live key and its site; during an outage, the last answer seen for this key.

        A key not seen since the process started cannot be checked during an outage and
        raises ``DatabaseUnavailable`` (answered 503): nothing is scored for an unknown caller.
        """
        cache_key = hashlib.sha256(plaintext.encode()).hexdigest()
        if self._db_down() and (remembered := self._remembered(cache_key)) is not None:
            return remembered
        generation = self.storage.key_generation  # read first: a change meanwhile voids it
        try:
            match = self.storage.find_key(plaintext=plaintext)
        except DatabaseUnavailable:
            self._outage()
            if (remembered := self._remembered(cache_key)) is not None:
                return remembered
            raise
        with self._keys_lock:  # request threads share it: evicting must not race
            if match is None:
                self._keys.pop(cache_key, None)
            else:
                if len(self._keys) >= KEY_CACHE_SIZE:
                    self._keys.pop(next(iter(self._keys)), None)
                self._keys[cache_key] = (generation, match)
        return match

    def _remembered(self, cache_key: str) -> KeyMatch | None:
        """The last answer seen for a key, unless keys were revoked, sites deleted or settings
        changed through this process since (``Storage.forget_keys``): a revoked key must not
        come back during an outage. Keys in use are seen again within the key cache's bound."""
        remembered = self._keys.get(cache_key)
        if remembered is None or remembered[0] != self.storage.key_generation:
            return None
        return remembered[1]

    def remembered_key(self, plaintext: str) -> KeyMatch | None:
        """The key if ``Storage`` remembers it (no database call, safe in an event loop);
        None means "ask ``find_key``"."""
        try:
            return self.storage.cached_key(plaintext=plaintext)
        except DatabaseUnavailable:
            return None

    def knows_check(self, site: Site, check_id: str) -> bool | None:
        """Whether ``check_id`` is one of ``site``'s checks; ``None`` when that cannot be told
        now (database down: feedback for it is spooled and matched at replay)."""
        self.settle_checks()
        if self.spool is not None and self.spool.holds_check(check_id, site.id):
            return True
        if not self._db_down():
            try:
                check = self._find_check(check_id)
            except DatabaseUnavailable:
                if self.spool is None:
                    raise
                self._outage()
            else:
                return check is not None and check.site_id == site.id
        return None

    def _find_check(self, check_id: str) -> CheckRecord | None:
        """The stored check; a check made moments ago by another process is waited for."""
        check = self.storage.get_check(check_id)
        age = check_id_age(check_id)
        if check is not None or age is None or not -1.0 < age < CHECK_VISIBLE_WITHIN:
            return check
        if not self._check_waiters.acquire(blocking=False):
            return None  # enough waiting already (forged recent-looking ids): not found
        try:
            deadline = time.monotonic() + CHECK_VISIBLE_WITHIN - age
            while check is None and time.monotonic() < deadline:
                time.sleep(_CHECK_POLL_SECONDS)
                check = self.storage.get_check(check_id)
        finally:
            self._check_waiters.release()
        return check

    def hash_email(self, email: str) -> str:
        return self.storage.hash_pii(email.strip().lower())

    def scorer(self) -> Scorer:
        scorer = self.models.scorer
        if scorer is None:
            raise NotReadyError(self.models.last_error or "no model loaded")
        return scorer

    def _cutoffs(self, site: Site, scorer: Scorer) -> Cutoffs:
        override = site.settings.cutoffs
        if not override:
            return scorer.cutoffs
        return Cutoffs(**{**scorer.cutoffs.as_dict(), **dict(override)})

    def _reputation(
        self, site: Site, record: Mapping[str, Any], flat: str | None
    ) -> Mapping[tuple[str, str], Counts]:
        entries = reputation_entries(record, self.hash_email, flat=flat)
        if not entries or self._db_down():  # an outage: do not wait on the database per check
            return {}
        try:
            return self.storage.get_reputation(site_id=site.id, entries=entries)
        except DatabaseUnavailable:
            log.warning("reputation unavailable for site %s; scoring on the model alone", site.id)
            return {}

    def score(
        self,
        site: Site,
        record: Mapping[str, Any],
        *,
        user_role: str | None = None,
        model_score: Score | None = None,
        flood: FloodEvidence | None = None,
        flat: str | None = None,
    ) -> Score:
        """Model score for ``record`` adjusted by this site's reputation memory (and by a
        flood of near-duplicates it is part of, when ``flood`` says so); ``flat`` is the
        content's ``flat_text`` when the caller has it."""
        override = _protocol_override(record, user_role)
        scorer = self.scorer()
        if override is not None:
            return replace(override, model_version=scorer.version)
        cutoffs = self._cutoffs(site, scorer)
        base = model_score or scorer.score(record, cutoffs=cutoffs)
        shift, reasons = reputation_adjustment(self._reputation(site, record, flat))
        if flood is not None:
            shift += flood.shift
            reasons.append(flood.reason())
        if not reasons:
            return replace(base, verdict=cutoffs.verdict(base.score))
        probability = float(expit(logit(min(max(base.score, 1e-9), 1 - 1e-9)) + shift))
        merged = sorted([*reasons, *base.reasons], key=lambda r: abs(r.weight), reverse=True)
        return Score(
            score=probability,
            verdict=cutoffs.verdict(probability),
            reasons=merged[: scorer.max_reasons + len(reasons)],
            model_version=base.model_version,
        )

    def check(
        self,
        site: Site,
        record: Mapping[str, Any],
        *,
        key_id: int | None,
        is_test: bool = False,
        user_role: str | None = None,
    ) -> CheckResult:
        """Score and record one comment; answering never waits on a failed database."""
        flat = flat_text(str(record.get("content") or ""))  # for flood bands and links both
        flood = None
        if self.flood is not None and not is_test and _protocol_override(record, user_role) is None:
            flood = self.flood.observe(site.id, record, flat=flat)
        score = self.score(site, record, user_role=user_role, flood=flood, flat=flat)
        return self._record(site, record, score, key_id=key_id, is_test=is_test)

    def check_many(
        self, site: Site, records: Sequence[Mapping[str, Any]], *, key_id: int | None
    ) -> list[CheckResult]:
        scorer = self.scorer()
        cutoffs = self._cutoffs(site, scorer)
        base = scorer.score_many(records, cutoffs=cutoffs)
        flats = [flat_text(str(record.get("content") or "")) for record in records]
        # A batch re-checks a moderation queue: it sees floods but does not add to them.
        floods = [
            self.flood.observe(site.id, record, count=False, flat=flat) if self.flood else None
            for record, flat in zip(records, flats, strict=True)
        ]
        return [
            self._record(
                site,
                record,
                self.score(site, record, model_score=score, flood=flood, flat=flat),
                key_id=key_id,
            )
            for record, score, flood, flat in zip(records, base, floods, flats, strict=True)
        ]

    def _record(
        self,
        site: Site,
        record: Mapping[str, Any],
        score: Score,
        *,
        key_id: int | None,
        is_test: bool = False,
    ) -> CheckResult:
        check_id = new_check_id()
        note_request(site=site.id, verdict=score.verdict.value, check=check_id)
        if self.metrics and not is_test:
            self.metrics.check(site.id, score.verdict.value)
        entry: Entry = {
            "kind": "check",
            "check_id": check_id,
            "site_id": site.id,
            "key_id": key_id,
            "at": datetime.now(UTC).isoformat(),
            "fields": dict(record),
            "score": score.score,
            "verdict": score.verdict.value,
            "model_version": score.model_version,
            "reasons": [r.as_dict() for r in score.reasons],
            "is_test": is_test,
        }
        if not self._db_down():
            if self._pending is not None and self._pending.submit(entry):
                return CheckResult(id=check_id, score=score, stored=False, queued=True)
            try:  # no writer, or its queue is full: store it now (back-pressure)
                self._store_check(entry)
            except DatabaseUnavailable:
                self._outage()
            else:
                return CheckResult(id=check_id, score=score, stored=True)
        if self.spool is not None:
            try:
                self.spool.append(entry)
            except DatabaseUnavailable:
                log.exception("check %s neither recorded nor spooled", check_id)
            else:
                return CheckResult(id=check_id, score=score, stored=False, spooled=True)
        log.error("check %s not recorded: database unavailable", check_id)
        return CheckResult(id=check_id, score=score, stored=False)

    def _store_checks(self, entries: Sequence[Entry]) -> None:
        """The writer's batch: one transaction (skipped at once while the database is down)."""
        if self._db_down():
            raise DatabaseUnavailable("database marked unavailable; spooling")
        self.storage.record_checks([_new_check(entry) for entry in entries])

    def _spool_checks(self, entries: Sequence[Entry], error: Exception) -> None:
        """A batch the database did not take: spool it, to be replayed (or set aside) later."""
        if isinstance(error, DatabaseUnavailable):
            self._outage()
        else:
            # the type only: a driver's message can quote the comment's values
            log.error(
                "storing %d checks failed (%s); spooling them", len(entries), type(error).__name__
            )
        if self.spool is None:  # not reached: write-behind is only used with a spool
            raise error
        for entry in entries:
            self.spool.append(entry)  # SpoolUnavailable: the writer keeps them and retries

    def _store_check(self, entry: Entry) -> None:
        self.storage.record_new_check(_new_check(entry))

    def feedback(
        self,
        site: Site,
        *,
        label: str,
        source: str,
        record: Mapping[str, Any] | None = None,
        check_id: str | None = None,
        reporter: str | None = None,
        learn: bool = True,
    ) -> FeedbackReceipt:
        """Store a moderator's correction and learn from it; return only once it is durable.

        With a ``check_id`` and no ``record``, the comment's fields come from the stored check.
        When the database cannot take it (or the check is still spooled), the correction is
        spooled and replayed later; if the spool fails too, ``SpoolUnavailable`` is raised
        and nothing may be acknowledged.
        """
        self.settle_checks()  # the check it corrects is stored (or spooled) before it
        entry: Entry = {
            "kind": "feedback",
            "site_id": site.id,
            "label": label,
            "source": source,
            "record": dict(record) if record else None,
            "check_id": check_id,
            "reporter": reporter,
            "learn": learn,
            "at": datetime.now(UTC).isoformat(),
        }
        spooled = self._db_down() or (
            check_id is not None
            and self.spool is not None
            and self.spool.holds_check(check_id, site.id)
        )
        stored: FeedbackRecord | None = None
        if not spooled:
            try:
                stored = self._store_feedback(site, entry)
            except DatabaseUnavailable:
                if self.spool is None:
                    raise
                self._outage()
                spooled = True
        if spooled:
            if self.spool is None:  # not reached: spooling is only chosen with a spool
                raise DatabaseUnavailable("database unavailable and no spool configured")
            self.spool.append(entry)  # raises SpoolUnavailable: then nothing is acknowledged
        if self.metrics:
            self.metrics.feedback_received(label, source)
        return FeedbackReceipt(record=stored, spooled=spooled)

    def _store_feedback(self, site: Site, entry: Entry) -> FeedbackRecord:
        record: Mapping[str, Any] | None = entry["record"]
        check_id: str | None = entry["check_id"]
        fields: Mapping[str, Any] = record or {}
        check: CheckRecord | None = None
        if check_id:
            check = self._find_check(check_id)
            if check is not None and check.site_id == site.id and not record:
                fields = {**check.fields, "content": check.content or ""}
        stored_fields = {k: v for k, v in fields.items() if k in _STORABLE and v not in (None, "")}
        return self.storage.record_feedback(
            site_id=site.id,
            label=entry["label"],
            source=entry["source"],
            fields=stored_fields,
            check_id=check_id,
            reporter=entry["reporter"],
            reputation=reputation_entries(fields, self.hash_email) if entry["learn"] else (),
            at=datetime.fromisoformat(entry["at"]),
        )

    # -- replaying the spool ---------------------------------------------------------------

    def replay_spool(self) -> bool:
        """Store what was spooled if the database answers; True when nothing is left.

        Called by the lifespan's background task; safe to call at any time.
        """
        if self.spool is None:
            return True
        if not self.spool.active and not self.spool.pending():
            self._report_spool_depth(0)
            return True
        try:
            self.storage.ping()
        except DatabaseUnavailable:
            self._report_spool_depth(self.spool.depth())
            return False
        result = self.spool.replay(self._replay_entry)
        if result.complete:
            if self.spool.active:
                log.warning("database back: writing to it again")
            self.spool.active = False
        self._report_spool_depth(self.spool.depth())
        return result.complete

    def _report_spool_depth(self, depth: int) -> None:
        if self.metrics is not None:
            self.metrics.spool_depth.set(depth)

    def _replay_entry(self, entry: Entry) -> None:
        if entry["kind"] == "check":
            # AlreadyExists: stored by an earlier replay that was interrupted before its cleanup
            with contextlib.suppress(AlreadyExists):
                self._store_check(entry)
            return
        site = self.storage.get_site(int(entry["site_id"]))
        if site is None:
            raise ValueError(f"site {entry['site_id']} no longer exists")
        check_id = entry.get("check_id")
        if (
            check_id
            and self.spool is not None
            and self.storage.get_check(check_id) is None
            and self.spool.spooled_check_site(check_id) is not None
        ):
            # Its check waits in another process's file (locked while that process writes):
            # stop here and go on at the next replay, so the feedback is stored linked to it.
            raise CheckNotReplayedYet("feedback waits for its check to be replayed")
        at = datetime.fromisoformat(entry["at"])
        for earlier in self.storage.list_feedback(site_id=site.id, since=at, limit=100):
            if earlier.created_at == at and earlier.label.value == entry["label"]:
                return  # stored by an earlier replay that was interrupted before its cleanup
        self._store_feedback(site, entry)


_STORABLE = frozenset(COMMENT_FIELDS)


class CheckNotReplayedYet(DatabaseUnavailable):
    """A spool replay stops at this line and resumes at the next one, as in an outage."""


def _entry_size(entry: Entry) -> int:
    """Roughly the bytes a held check takes: its text fields (the rest is small and fixed)."""
    return 512 + sum(len(value) for value in entry["fields"].values() if isinstance(value, str))


def _new_check(entry: Entry) -> NewCheck:
    return NewCheck(
        check_id=entry["check_id"],
        site_id=entry["site_id"],
        key_id=entry["key_id"],
        at=datetime.fromisoformat(entry["at"]),
        fields=entry["fields"],
        score=entry["score"],
        verdict=entry["verdict"],
        model_version=entry["model_version"],
        reasons=entry["reasons"],
        is_test=entry["is_test"],
        count_usage=not entry["is_test"],
    )

"""``Storage``: every read and write the service makes to its database.

Each public method opens its own short session and returns frozen records, so one
``Storage`` is shared by all request threads. Writes on SQLite begin with
``BEGIN IMMEDIATE`` (see ``engine.py``) so concurrent writers queue on the busy
timeout instead of failing; counters are upserts inside the same transaction as
the row that caused them, so they never disagree with it.

Two things keep the check path cheap (``Moderation``, issue #5): ``find_key`` answers
from memory for ``key_cache_seconds`` (a key revoked or a site changed through this
object is forgotten at once; through another process or replica, within that bound),
and ``record_checks`` stores a batch of checks in one transaction. A writer that holds
checks in memory before storing them registers with ``add_before_reads``, so every method
here that reads checks, counters or usage stores them first and never misses a recent one.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from service.storage import convert
from service.storage.comment_fields import PreparedFields, prepare_fields
from service.storage.engine import (
    BEGIN_OPTION,
    configure_sqlite,
    make_engine,
    unavailable_as_storage_error,
)
from service.storage.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    StorageError,
)
from service.storage.hashing import Hasher, ReputationKind
from service.storage.months import month_bounds, month_of
from service.storage.records import (
    ApiKey,
    CheckRecord,
    Counts,
    DailyCount,
    FeedbackRecord,
    FeedbackSource,
    KeyMatch,
    Label,
    NewCheck,
    Site,
    SiteStats,
    Verdict,
)
from service.storage.schema import (
    CHECK_ID_LENGTH,
    ApiKeyRow,
    CheckRow,
    DailyCountRow,
    FeedbackRow,
    RegistryStateRow,
    ReputationRow,
    SiteRow,
    UsageRow,
)
from service.storage.site_settings import SiteSettings
from service.storage.upsert import upsert
from service.storage.urls import normalize_site_url

log = logging.getLogger(__name__)

E = TypeVar("E", bound=StrEnum)

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_CHECK_ID_PATTERN = re.compile(rf"^[A-Za-z0-9_.:-]{{1,{CHECK_ID_LENGTH}}}$")
_COUNTER_NAMES = ("checks", "ham", "unsure", "spam", "discard", "missed_spam", "false_positives")
_KEY_ATTEMPTS = 3
KEY_CACHE_SECONDS = 5.0
KEY_CACHE_SIZE = 10_000

ReputationEntry = tuple[str, str]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# Built once: constructing the statement per check cost more than running it.
_REPUTATION_READ = select(
    ReputationRow.value_hash, ReputationRow.ham_count, ReputationRow.spam_count
).where(
    ReputationRow.site_id == bindparam("site_id"),
    ReputationRow.value_hash.in_(bindparam("hashes", expanding=True)),
)


class Storage:
    """Durable state of the service over SQLite or PostgreSQL.

    ``bind`` is a database URL or an Engine (ideally from ``make_engine``);
    ``secret`` keys every hash (API keys, e-mails, IPs, content) and must be kept
    stable, since changing it orphans every stored key and reputation entry.
    ``keep_feedback_examples`` keeps moderator-labelled comments past retention as
    training data. ``feedback_link_window`` bounds how far back feedback without a
    guid is matched to a check by content. ``clock`` is injectable for tests.
    ``key_cache_seconds`` is how long ``find_key`` may answer from memory (0: never):
    the bound on how late a key revoked, or a site's settings changed, through another
    process is noticed here.
    """

    def __init__(
        self,
        bind: str | Engine,
        *,
        secret: str | bytes,
        keep_feedback_examples: bool = True,
        feedback_link_window: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = _utcnow,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
    ) -> None:
        self._hasher = Hasher(secret)
        self._owns_engine = not isinstance(bind, Engine)
        self._engine = make_engine(bind) if isinstance(bind, str) else bind
        self._dialect = self._engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise InvalidValue(f"database must be sqlite or postgresql, got {self._dialect!r}")
        configure_sqlite(self._engine)
        writer = self._engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        self._reader = sessionmaker(self._engine, expire_on_commit=False)
        # One-statement reads: no BEGIN (SQLite) and no BEGIN/ROLLBACK round trips (PostgreSQL).
        self._single_reads = (
            self._engine.execution_options(**{BEGIN_OPTION: "NONE"})
            if self._dialect == "sqlite"
            else self._engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self.keep_feedback_examples = keep_feedback_examples
        self._link_window = feedback_link_window
        self._clock = clock
        self._key_cache_ttl = timedelta(seconds=key_cache_seconds)
        self._key_cache: dict[str, tuple[datetime, KeyMatch]] = {}
        self._key_cache_lock = threading.Lock()
        self._key_generation = 0  # bumped by forget_keys: an answer read before is not kept
        self._before_reads: list[Callable[[], object]] = []

    # -- lifecycle -----------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        """Close pooled connections if this object created the engine."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ping(self) -> None:
        """Raise ``DatabaseUnavailable`` unless the database answers; for health checks."""
        with self._session() as session:
            session.execute(select(1))

    def add_before_reads(self, flush: Callable[[], object]) -> None:
        """Call ``flush`` before every read of checks, counters or usage (a write-behind
        writer's, so that nothing it holds is missed)."""
        self._before_reads.append(flush)

    def remove_before_reads(self, flush: Callable[[], object]) -> None:
        if flush in self._before_reads:
            self._before_reads.remove(flush)

    def _settle(self) -> None:
        for flush in self._before_reads:
            flush()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A plain Core connection for a hot read of one statement (no ORM session to build
        and tear down, no transaction around it)."""
        with unavailable_as_storage_error(), self._single_reads.connect() as connection:
            yield connection

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        maker = self._writer if write else self._reader
        with unavailable_as_storage_error(), maker.begin() as session:
            yield session

    def _now(self, at: datetime | None = None) -> datetime:
        moment = self._clock() if at is None else at
        if moment.tzinfo is None:
            raise InvalidValue("times must be timezone-aware datetimes")
        return moment.astimezone(UTC)

    # -- privacy helpers -----------------------------------------------------------

    def hash_pii(self, value: str) -> str:
        """Keyed hash of a piece of personal data, as stored in place of it."""
        return self._hasher.pii(value)

    # -- sites ---------------------------------------------------------------------

    def create_site(
        self, *, url: str, name: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> Site:
        """Add a site; its URL is normalised and must not be taken already."""
        normal = normalize_site_url(url)
        if name is not None and len(name) > 200:
            raise InvalidValue("site name must be at most 200 characters")
        site_settings = SiteSettings().with_changes(**(settings or {}))
        row = SiteRow(
            url=normal, name=name, created_at=self._now(), settings=site_settings.to_json()
        )
        try:
            with self._session(write=True) as session:
                session.add(row)
                session.flush()
                return convert.site(row)
        except sa_exc.IntegrityError as exc:
            raise AlreadyExists(f"a site with url {normal!r} already exists") from exc

    def get_site(self, site_id: int) -> Site | None:
        with self._session() as session:
            row = session.get(SiteRow, site_id)
            return convert.site(row) if row is not None else None

    def get_site_by_url(self, url: str) -> Site | None:
        """The site whose normalised URL equals ``url``'s; ``None`` also for a malformed URL."""
        try:
            normal = normalize_site_url(url)
        except InvalidValue:
            return None
        with self._session() as session:
            row = session.scalars(select(SiteRow).where(SiteRow.url == normal)).one_or_none()
            return convert.site(row) if row is not None else None

    def list_sites(self) -> list[Site]:
        with self._session() as session:
            return [convert.site(r) for r in session.scalars(select(SiteRow).order_by(SiteRow.id))]

    def update_site_settings(self, *, site_id: int, **changes: Any) -> Site:
        """Change some settings; every value is validated before anything is written."""
        with self._session(write=True) as session:
            row = session.get(SiteRow, site_id, with_for_update=True)
            if row is None:
                raise NotFound(f"site {site_id} not found")
            current = SiteSettings.from_json(row.settings)
            row.settings = current.with_changes(**changes).to_json()
            session.flush()
            site = convert.site(row)
        self.forget_keys()
        return site

    def delete_site(self, *, site_id: int) -> None:
        """Remove a site with its keys, checks, feedback, counters and reputation."""
        self._settle()
        self.forget_keys()
        with self._session(write=True) as session:
            result = session.execute(delete(SiteRow).where(SiteRow.id == site_id))
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"site {site_id} not found")
        self.forget_keys()

    # -- API keys ------------------------------------------------------------------

    def create_key(self, *, site_id: int, plaintext: str | None = None) -> tuple[int, str]:
        """Store a key for a site and return ``(key_id, plaintext)``.

        Without ``plaintext`` a 12-hex-digit key is generated. The plaintext is
        returned this once: only its keyed hash and last four characters are stored.
        """
        if plaintext is not None and not _KEY_PATTERN.match(plaintext):
            raise InvalidValue("an API key must be 8 to 128 letters, digits, '-' or '_'")
        for _ in range(_KEY_ATTEMPTS):
            key = plaintext or secrets.token_hex(6)
            try:
                with self._session(write=True) as session:
                    if session.get(SiteRow, site_id) is None:
                        raise NotFound(f"site {site_id} not found")
                    row = ApiKeyRow(
                        site_id=site_id,
                        key_hash=self._hasher.api_key(key),
                        hint=key[-4:],
                        created_at=self._now(),
                    )
                    session.add(row)
                    session.flush()
                    return row.id, key
            except sa_exc.IntegrityError as exc:
                if plaintext is not None:
                    raise AlreadyExists("that API key is already stored") from exc
        raise StorageError(f"no unused API key found in {_KEY_ATTEMPTS} attempts")

    def revoke_key(self, *, key_id: int) -> ApiKey:
        """Revoke a key; revoking it again keeps the first revocation time."""
        with self._session(write=True) as session:
            row = session.get(ApiKeyRow, key_id, with_for_update=True)
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            if row.revoked_at is None:
                row.revoked_at = self._now()
            key = convert.api_key(row)
        self.forget_keys()
        return key

    def find_key(self, *, plaintext: str) -> KeyMatch | None:
        """The live key with this plaintext and its site; ``None`` if unknown or revoked.

        A key found is remembered for ``key_cache_seconds``; an unknown one is not, so a
        key created anywhere works at once.
        """
        if not _KEY_PATTERN.match(plaintext):
            return None
        digest = self._hasher.api_key(plaintext)
        now = self._clock()
        cached = self._key_cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._key_generation
        match = self._find_key(digest)
        with self._key_cache_lock:
            if match is None:
                self._key_cache.pop(digest, None)
            elif self._key_cache_ttl > timedelta(0) and generation == self._key_generation:
                if len(self._key_cache) >= KEY_CACHE_SIZE:
                    self._key_cache.pop(next(iter(self._key_cache)))
                self._key_cache[digest] = (now + self._key_cache_ttl, match)
        return match

    def cached_key(self, *, plaintext: str) -> KeyMatch | None:
        """What ``find_key`` would answer from memory, without asking the database (None if
        it would have to): lets an event loop skip a thread hop for a key seen recently."""
        if not _KEY_PATTERN.match(plaintext):
            return None
        cached = self._key_cache.get(self._hasher.api_key(plaintext))
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        return None

    def forget_keys(self) -> None:
        """Drop every key remembered by ``find_key`` (after a revocation or a settings change)."""
        with self._key_cache_lock:
            self._key_cache.clear()
            self._key_generation += 1

    @property
    def key_generation(self) -> int:
        """Bumped by every ``forget_keys``: a key answer read before a change is stale after it."""
        return self._key_generation

    def _find_key(self, digest: str) -> KeyMatch | None:
        with self._session() as session:
            found = session.execute(
                select(ApiKeyRow, SiteRow)
                .join(SiteRow, SiteRow.id == ApiKeyRow.site_id)
                .where(ApiKeyRow.key_hash == digest)
            ).one_or_none()
            if found is None:
                return None
            key_row, site_row = found
            if key_row.revoked_at is not None or not hmac.compare_digest(key_row.key_hash, digest):
                return None
            return KeyMatch(key=convert.api_key(key_row), site=convert.site(site_row))

    def list_keys(self, *, site_id: int) -> list[ApiKey]:
        """A site's keys, revoked ones included, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(ApiKeyRow).where(ApiKeyRow.site_id == site_id).order_by(ApiKeyRow.id)
            )
            return [convert.api_key(r) for r in rows]

    # -- checks --------------------------------------------------------------------

    def record_check(
        self,
        *,
        site_id: int,
        fields: Mapping[str, Any],
        score: float,
        verdict: Verdict | str,
        model_version: str,
        reasons: Sequence[Any] = (),
        key_id: int | None = None,
        check_id: str | None = None,
        is_test: bool = False,
        count_usage: bool = True,
        at: datetime | None = None,
    ) -> CheckRecord:
        """Store one scored comment with its counters and usage, in one transaction.

        ``check_id`` is the guid given back to the client (a uuid4 hex is made when
        it is omitted). Test checks are stored but not counted; ``count_usage=False``
        keeps the call off the key's monthly usage.
        """
        check_id = uuid.uuid4().hex if check_id is None else check_id
        verdict = _checked(score, verdict, check_id)
        reasons_list = _json_list(reasons)
        now = self._now(at)
        try:
            with self._session(write=True) as session:
                settings = self._site_settings(session, site_id)
                prepared = prepare_fields(fields, hasher=self._hasher, store_pii=settings.store_pii)
                row = CheckRow(
                    id=check_id,
                    site_id=site_id,
                    key_id=key_id,
                    created_at=now,
                    content=prepared.content,
                    content_hash=prepared.content_hash,
                    fields=prepared.fields,
                    email_hash=prepared.email_hash,
                    ip_hash=prepared.ip_hash,
                    score=float(score),
                    verdict=verdict.value,
                    reasons=reasons_list,
                    model_version=model_version,
                    is_test=is_test,
                )
                session.add(row)
                session.flush()
                if not is_test:
                    self._count(session, site_id, now.date(), {"checks": 1, verdict.value: 1})
                if count_usage and key_id is not None:
                    self._add_usage(session, key_id, month_of(now), 1)
                return convert.check(row)
        except sa_exc.IntegrityError as exc:
            raise self._check_conflict(check_id, key_id) from exc

    def record_new_check(self, check: NewCheck) -> CheckRecord:
        """``record_check`` for one ``NewCheck`` (what the write-behind queue and spool hold)."""
        return self.record_check(**{name: getattr(check, name) for name in NewCheck.__slots__})

    def record_checks(self, checks: Sequence[NewCheck]) -> int:
        """Store a batch of checks with their counters and usage in one transaction.

        For a write-behind writer: rows go in with one multi-row ``INSERT`` and the counters
        with one upsert per table, summed over the batch. When the batch clashes (a check id
        stored already, e.g. by an interrupted spool replay; a site deleted meanwhile), each
        check is stored alone instead and those that cannot be are skipped and logged.
        Returns how many were stored. ``DatabaseUnavailable`` leaves nothing stored.
        """
        if not checks:
            return 0
        for check in checks:
            _checked(check.score, check.verdict, check.check_id)
        try:
            with self._session(write=True) as session:
                self._insert_checks(session, checks)
            return len(checks)
        except (sa_exc.IntegrityError, NotFound):
            log.warning("a batch of %d checks clashed; storing them one at a time", len(checks))
        stored = 0
        for check in checks:
            try:
                self.record_new_check(check)
            except (AlreadyExists, NotFound) as exc:
                log.warning("check %s not stored: %s", check.check_id, exc)
            else:
                stored += 1
        return stored

    def _insert_checks(self, session: Session, checks: Sequence[NewCheck]) -> None:
        site_ids = {check.site_id for check in checks}
        settings = {
            site_id: SiteSettings.from_json(value)
            for site_id, value in session.execute(
                select(SiteRow.id, SiteRow.settings).where(SiteRow.id.in_(site_ids))
            )
        }
        rows: list[dict[str, Any]] = []
        counts: dict[tuple[int, date], Counter[str]] = {}
        usage: Counter[tuple[int, str]] = Counter()
        for check in checks:
            site_settings = settings.get(check.site_id)
            if site_settings is None:
                raise NotFound(f"site {check.site_id} not found")
            prepared = prepare_fields(
                check.fields, hasher=self._hasher, store_pii=site_settings.store_pii
            )
            now = self._now(check.at)
            verdict = Verdict(check.verdict)
            rows.append(
                {
                    "id": check.check_id,
                    "site_id": check.site_id,
                    "key_id": check.key_id,
                    "created_at": now,
                    "content": prepared.content,
                    "content_hash": prepared.content_hash,
                    "fields": prepared.fields,
                    "email_hash": prepared.email_hash,
                    "ip_hash": prepared.ip_hash,
                    "score": float(check.score),
                    "verdict": verdict.value,
                    "reasons": _json_list(check.reasons),
                    "model_version": check.model_version,
                    "is_test": check.is_test,
                    "feedback_label": None,
                    "purged_at": None,
                }
            )
            if not check.is_test:
                day = counts.setdefault((check.site_id, now.date()), Counter())
                day.update({"checks": 1, verdict.value: 1})
            if check.count_usage and check.key_id is not None:
                usage[(check.key_id, month_of(now))] += 1
        session.execute(insert(CheckRow.__table__), rows)  # type: ignore[arg-type]
        # Counter and usage rows are upserted in key order: two batches (workers, replicas)
        # that meet the same rows then lock them in the same order and never deadlock.
        if counts:
            session.execute(
                upsert(
                    self._dialect,
                    DailyCountRow.__table__,  # type: ignore[arg-type]
                    [
                        {"site_id": site_id, "day": day}
                        | {name: deltas.get(name, 0) for name in _COUNTER_NAMES}
                        for (site_id, day), deltas in sorted(counts.items())
                    ],
                    keys=("site_id", "day"),
                    add=_COUNTER_NAMES,
                )
            )
        if usage:
            session.execute(
                upsert(
                    self._dialect,
                    UsageRow.__table__,  # type: ignore[arg-type]
                    [
                        {"key_id": key_id, "month": month, "calls": calls}
                        for (key_id, month), calls in sorted(usage.items())
                    ],
                    keys=("key_id", "month"),
                    add=("calls",),
                )
            )

    def _check_conflict(self, check_id: str, key_id: int | None) -> StorageError:
        with self._session() as session:
            if session.get(CheckRow, check_id) is not None:
                return AlreadyExists(f"check {check_id} already exists")
        return NotFound(f"API key {key_id} not found")

    def get_check(self, check_id: str) -> CheckRecord | None:
        self._settle()
        with self._session() as session:
            row = session.get(CheckRow, check_id)
            return convert.check(row) if row is not None else None

    def list_checks(
        self, *, site_id: int, limit: int = 50, before: datetime | None = None
    ) -> list[CheckRecord]:
        """A site's checks, newest first, for the dashboard."""
        query = select(CheckRow).where(CheckRow.site_id == site_id)
        if before is not None:
            query = query.where(CheckRow.created_at < self._now(before))
        query = query.order_by(CheckRow.created_at.desc(), CheckRow.id).limit(limit)
        self._settle()
        with self._session() as session:
            return [convert.check(r) for r in session.scalars(query)]

    # -- feedback ------------------------------------------------------------------

    def record_feedback(
        self,
        *,
        site_id: int,
        label: Label | str,
        source: FeedbackSource | str,
        fields: Mapping[str, Any],
        check_id: str | None = None,
        reporter: str | None = None,
        original_verdict: Verdict | str | None = None,
        reputation: Iterable[ReputationEntry] = (),
        at: datetime | None = None,
    ) -> FeedbackRecord:
        """Store a moderator's report and commit it before returning.

        The report is tied to the check with guid ``check_id`` when that check is
        this site's, else to the site's latest check within ``feedback_link_window``
        with the same content. A tied report updates the check day's
        ``missed_spam`` (spam on a ham or unsure verdict) or ``false_positives``
        (ham on a spam, discard or unsure verdict); a repeated report changes
        nothing and a reversed one moves the count. ``reputation`` entries are
        counted in the same transaction (see ``update_reputation``).
        """
        label = _member(Label, label, "label")
        source = _member(FeedbackSource, source, "source")
        given_verdict = (
            None if original_verdict is None else _member(Verdict, original_verdict, "verdict")
        )
        if reporter is not None and len(reporter) > 200:
            raise InvalidValue("reporter must be at most 200 characters")
        entries = list(reputation)
        now = self._now(at)
        self._settle()  # the check it corrects may still be held by the writer
        with self._session(write=True) as session:
            settings = self._site_settings(session, site_id)
            prepared = prepare_fields(fields, hasher=self._hasher, store_pii=settings.store_pii)
            check = self._linked_check(session, site_id, check_id, prepared, now)
            verdict = Verdict(check.verdict) if check is not None else given_verdict
            row = FeedbackRow(
                site_id=site_id,
                check_id=check.id if check is not None else None,
                label=label.value,
                source=source.value,
                reporter=reporter,
                created_at=now,
                content=prepared.content,
                fields=prepared.fields,
                # A report without the e-mail or IP of its check still belongs to that
                # person: inherit the check's hashes so data-subject requests find it.
                email_hash=prepared.email_hash or (check.email_hash if check else None),
                ip_hash=prepared.ip_hash or (check.ip_hash if check else None),
                original_verdict=verdict.value if verdict is not None else None,
            )
            session.add(row)
            if check is not None and not check.is_test:
                old = Label(check.feedback_label) if check.feedback_label else None
                deltas = _feedback_deltas(Verdict(check.verdict), old=old, new=label)
                check.feedback_label = label.value
                if deltas:
                    self._count(session, site_id, check.created_at.date(), deltas)
            if entries:
                self._bump_reputation(session, site_id, entries, label, now)
            session.flush()
            return convert.feedback(row)

    def _linked_check(
        self,
        session: Session,
        site_id: int,
        check_id: str | None,
        prepared: PreparedFields,
        now: datetime,
    ) -> CheckRow | None:
        if check_id:
            row = session.get(CheckRow, check_id, with_for_update=True)
            if row is not None and row.site_id == site_id:
                return row
        if prepared.content_hash is None:
            return None
        return session.scalars(
            select(CheckRow)
            .where(
                CheckRow.site_id == site_id,
                CheckRow.content_hash == prepared.content_hash,
                CheckRow.created_at >= now - self._link_window,
                CheckRow.created_at <= now,
            )
            .order_by(CheckRow.created_at.desc())
            .limit(1)
            .with_for_update()
        ).first()

    def list_feedback(
        self, *, site_id: int | None = None, since: datetime | None = None, limit: int = 1000
    ) -> list[FeedbackRecord]:
        """Feedback oldest first, e.g. as labelled examples for training."""
        query = select(FeedbackRow)
        if site_id is not None:
            query = query.where(FeedbackRow.site_id == site_id)
        if since is not None:
            query = query.where(FeedbackRow.created_at >= self._now(since))
        query = query.order_by(FeedbackRow.id).limit(limit)
        with self._session() as session:
            return [convert.feedback(r) for r in session.scalars(query)]

    # -- usage and reports ---------------------------------------------------------

    def record_usage(self, *, key_id: int, calls: int = 1, at: datetime | None = None) -> None:
        """Count billable calls that are not checks (``record_check`` counts its own)."""
        if calls < 1:
            raise InvalidValue(f"calls must be at least 1, got {calls}")
        month = month_of(self._now(at))
        try:
            with self._session(write=True) as session:
                self._add_usage(session, key_id, month, calls)
        except sa_exc.IntegrityError as exc:
            raise NotFound(f"API key {key_id} not found") from exc

    def usage(self, *, key_id: int, month: str | None = None) -> int:
        """Billable calls made with a key in ``month`` (``YYYY-MM``, default this month)."""
        month = month or month_of(self._now())
        month_bounds(month)
        self._settle()
        with self._session() as session:
            calls = session.scalar(
                select(UsageRow.calls).where(UsageRow.key_id == key_id, UsageRow.month == month)
            )
            return calls or 0

    def site_stats(self, *, site_id: int, month: str | None = None) -> SiteStats:
        """A site's counters for a month, with the calls of all its keys."""
        month = month or month_of(self._now())
        self._settle()
        with self._session() as session:
            row = session.get(SiteRow, site_id)
            if row is None:
                raise NotFound(f"site {site_id} not found")
            calls = session.scalar(
                select(func.coalesce(func.sum(UsageRow.calls), 0))
                .join(ApiKeyRow, ApiKeyRow.id == UsageRow.key_id)
                .where(ApiKeyRow.site_id == site_id, UsageRow.month == month)
            )
            return self._stats(session, row, month, api_calls=int(calls or 0))

    def key_sites(self, *, key_id: int, month: str | None = None) -> list[SiteStats]:
        """Per-site activity of a key for Akismet's key-sites report.

        A key belongs to one site, so the list has one entry; ``api_calls`` are
        that key's calls and ``is_revoked`` says whether the key is revoked.
        """
        month = month or month_of(self._now())
        self._settle()
        with self._session() as session:
            key = session.get(ApiKeyRow, key_id)
            if key is None:
                raise NotFound(f"API key {key_id} not found")
            site_row = session.get(SiteRow, key.site_id)
            if site_row is None:  # not reached: the foreign key guarantees it
                raise NotFound(f"site of API key {key_id} not found")
            calls = session.scalar(
                select(UsageRow.calls).where(UsageRow.key_id == key_id, UsageRow.month == month)
            )
            stats = self._stats(
                session,
                site_row,
                month,
                api_calls=int(calls or 0),
                is_revoked=key.revoked_at is not None,
            )
            return [stats]

    def _stats(
        self,
        session: Session,
        site_row: SiteRow,
        month: str,
        *,
        api_calls: int,
        is_revoked: bool = False,
    ) -> SiteStats:
        first, after = month_bounds(month)
        sums = session.execute(
            select(
                *(
                    func.coalesce(func.sum(getattr(DailyCountRow, name)), 0)
                    for name in _COUNTER_NAMES
                )
            ).where(
                DailyCountRow.site_id == site_row.id,
                DailyCountRow.day >= first,
                DailyCountRow.day < after,
            )
        ).one()
        counts = {name: int(value) for name, value in zip(_COUNTER_NAMES, sums, strict=True)}
        return SiteStats(
            site_id=site_row.id,
            url=site_row.url,
            month=month,
            api_calls=api_calls,
            is_revoked=is_revoked,
            **counts,
        )

    def daily_counts(
        self, *, site_id: int | None = None, since: date, until: date | None = None
    ) -> list[DailyCount]:
        """Counters per day from ``since`` up to ``until`` inclusive, for charts.

        With ``site_id=None`` the rows are sums over all sites. Days without any
        activity are absent.
        """
        sums = [func.sum(getattr(DailyCountRow, name)) for name in _COUNTER_NAMES]
        query = select(DailyCountRow.day, *sums).where(DailyCountRow.day >= since)
        if until is not None:
            query = query.where(DailyCountRow.day <= until)
        if site_id is not None:
            query = query.where(DailyCountRow.site_id == site_id)
        query = query.group_by(DailyCountRow.day).order_by(DailyCountRow.day)
        self._settle()
        with self._session() as session:
            return [
                DailyCount(
                    day=day,
                    site_id=site_id,
                    **{name: int(v) for name, v in zip(_COUNTER_NAMES, values, strict=True)},
                )
                for day, *values in session.execute(query)
            ]

    # -- reputation ----------------------------------------------------------------

    def update_reputation(
        self,
        *,
        site_id: int,
        entries: Iterable[ReputationEntry],
        label: Label | str,
        at: datetime | None = None,
    ) -> None:
        """Count one ``label`` report for each ``(kind, value)``; values are stored hashed.

        Values are normalised per kind (an IP counts for its /24 or /48, a URL for its
        domain); an ``author_email`` may be the address or its ``hash_pii`` (as checks
        store it). Unusable values (an IP that does not parse, an empty name) are skipped.
        """
        label = _member(Label, label, "label")
        entries = list(entries)
        now = self._now(at)
        try:
            with self._session(write=True) as session:
                self._bump_reputation(session, site_id, entries, label, now)
        except sa_exc.IntegrityError as exc:
            raise NotFound(f"site {site_id} not found") from exc

    def get_reputation(
        self, *, site_id: int, entries: Iterable[ReputationEntry]
    ) -> dict[ReputationEntry, Counts]:
        """``Counts(ham, spam)`` for every entry asked, zeros for values never reported."""
        hashed = {entry: self._reputation_hash(*entry) for entry in entries}
        wanted = {h for h in hashed.values() if h is not None}
        found: dict[str, Counts] = {}
        if wanted:
            with self._connection() as connection:
                rows = connection.execute(
                    _REPUTATION_READ, {"site_id": site_id, "hashes": list(wanted)}
                )
                found = {value_hash: Counts(ham, spam) for value_hash, ham, spam in rows}
        zero = Counts(0, 0)
        return {entry: found.get(h, zero) if h is not None else zero for entry, h in hashed.items()}

    def _reputation_hash(self, kind: str, value: str) -> str | None:
        return self._hasher.reputation(_member(ReputationKind, kind, "reputation kind"), value)

    def _bump_reputation(
        self,
        session: Session,
        site_id: int,
        entries: Iterable[ReputationEntry],
        label: Label,
        now: datetime,
    ) -> None:
        rows: dict[str, dict[str, Any]] = {}
        for kind, value in entries:
            value_hash = self._reputation_hash(kind, value)
            if value_hash is None:
                continue
            rows[value_hash] = {
                "site_id": site_id,
                "kind": ReputationKind(kind).value,
                "value_hash": value_hash,
                "ham_count": int(label is Label.HAM),
                "spam_count": int(label is Label.SPAM),
                "last_seen": now,
            }
        if not rows:
            return
        session.execute(
            upsert(
                self._dialect,
                ReputationRow.__table__,  # type: ignore[arg-type]
                list(rows.values()),
                keys=("site_id", "kind", "value_hash"),
                add=("ham_count", "spam_count"),
                replace=("last_seen",),
            )
        )

    # -- shared state --------------------------------------------------------------

    def get_state(self, name: str) -> str | None:
        """A value shared by all replicas, e.g. the current model version."""
        with self._session() as session:
            row = session.get(RegistryStateRow, name)
            return row.value if row is not None else None

    def set_state(self, name: str, value: str) -> None:
        if not name or len(name) > 200:
            raise InvalidValue("state name must be 1 to 200 characters")
        with self._session(write=True) as session:
            session.execute(
                upsert(
                    self._dialect,
                    RegistryStateRow.__table__,  # type: ignore[arg-type]
                    {"name": name, "value": value, "updated_at": self._now()},
                    keys=("name",),
                    replace=("value", "updated_at"),
                )
            )

    # -- retention and data-subject requests ---------------------------------------

    def purge_expired(self, *, now: datetime | None = None) -> int:
        """Empty content, comment fields and reasons of checks older than their site's retention.

        Scores, verdicts and counters stay. Feedback is purged too unless
        ``keep_feedback_examples`` (labelled comments are the training data).
        Returns the number of rows purged; one transaction per site keeps SQLite's
        write lock short.
        """
        moment = self._now(now)
        self._settle()
        with self._session() as session:
            sites = [
                (site_id, SiteSettings.from_json(settings).retention_days)
                for site_id, settings in session.execute(select(SiteRow.id, SiteRow.settings))
            ]
        scrubbed: dict[str, Any] = {
            "content": None,
            "fields": {},
            "email_hash": None,
            "ip_hash": None,
            "purged_at": moment,
        }
        purged = 0
        for site_id, days in sites:
            cutoff = moment - timedelta(days=days)
            tables: list[type[CheckRow] | type[FeedbackRow]] = [CheckRow]
            if not self.keep_feedback_examples:
                tables.append(FeedbackRow)
            with self._session(write=True) as session:
                for table in tables:
                    values = dict(scrubbed)
                    if table is CheckRow:
                        # reasons name the comment's own words ("word “viagra”"): text too
                        values["content_hash"] = None
                        values["reasons"] = []
                    result = session.execute(
                        update(table)
                        .where(
                            table.site_id == site_id,
                            table.created_at < cutoff,
                            table.purged_at.is_(None),
                        )
                        .values(values)
                        .execution_options(synchronize_session=False)
                    )
                    purged += result.rowcount  # type: ignore[attr-defined]
        log.info("purged %d expired rows", purged)
        return purged

    def _subject(self, email: str | None, ip: str | None) -> tuple[list[Any], list[Any], list[str]]:
        if not email and not ip:
            raise InvalidValue("give an e-mail address, an IP address or both")
        check_terms: list[Any] = []
        feedback_terms: list[Any] = []
        reputation: list[str] = []
        if email:
            email_hash = self._hasher.email(email)
            check_terms.append(CheckRow.email_hash == email_hash)
            feedback_terms.append(FeedbackRow.email_hash == email_hash)
            reputation.append(self._reputation_hash(ReputationKind.AUTHOR_EMAIL, email) or "")
        if ip:
            ip_hash = self._hasher.ip(ip)
            check_terms.append(CheckRow.ip_hash == ip_hash)
            feedback_terms.append(FeedbackRow.ip_hash == ip_hash)
            reputation.append(self._reputation_hash(ReputationKind.IP_PREFIX, ip) or "")
        return check_terms, feedback_terms, [h for h in reputation if h]

    def export_subject(self, *, email: str | None = None, ip: str | None = None) -> dict[str, Any]:
        """Everything stored about an e-mail and/or IP address, as JSON-ready data.

        Rows are found by the keyed hashes stored with every check and feedback, so
        this works whether the site keeps those values hashed or in clear.
        Reputation entries are the e-mail's and the IP's /24 or /48 network's.
        """
        check_terms, feedback_terms, reputation = self._subject(email, ip)
        self._settle()
        with self._session() as session:
            checks = session.scalars(
                select(CheckRow).where(or_(*check_terms)).order_by(CheckRow.created_at)
            )
            feedback = session.scalars(
                select(FeedbackRow).where(or_(*feedback_terms)).order_by(FeedbackRow.id)
            )
            export: dict[str, Any] = {
                "checks": [convert.check_json(r) for r in checks],
                "feedback": [convert.feedback_json(r) for r in feedback],
                "reputation": [],
            }
            if reputation:
                rows = session.scalars(
                    select(ReputationRow).where(ReputationRow.value_hash.in_(reputation))
                )
                export["reputation"] = [convert.reputation_json(r) for r in rows]
        return export

    def delete_subject(self, *, email: str | None = None, ip: str | None = None) -> int:
        """Delete the checks, feedback and reputation entries ``export_subject`` finds.

        Daily counters are aggregates without personal data and stay. Returns the
        number of rows deleted.
        """
        check_terms, feedback_terms, reputation = self._subject(email, ip)
        deleted = 0
        self._settle()  # else a check held in memory would be stored after its deletion
        with self._session(write=True) as session:
            statements = [
                delete(FeedbackRow).where(or_(*feedback_terms)),
                delete(CheckRow).where(or_(*check_terms)),
            ]
            if reputation:
                statements.append(
                    delete(ReputationRow).where(ReputationRow.value_hash.in_(reputation))
                )
            for statement in statements:
                result = session.execute(statement.execution_options(synchronize_session=False))
                deleted += result.rowcount  # type: ignore[attr-defined]
        log.info("deleted %d rows for a data-subject request", deleted)
        return deleted

    # -- internals -----------------------------------------------------------------

    def _site_settings(self, session: Session, site_id: int) -> SiteSettings:
        settings = session.scalar(select(SiteRow.settings).where(SiteRow.id == site_id))
        if settings is None:
            raise NotFound(f"site {site_id} not found")
        return SiteSettings.from_json(settings)

    def _count(self, session: Session, site_id: int, day: date, deltas: Mapping[str, int]) -> None:
        if not any(deltas.values()):
            return
        values: dict[str, Any] = {"site_id": site_id, "day": day}
        values.update({name: deltas.get(name, 0) for name in _COUNTER_NAMES})
        session.execute(
            upsert(
                self._dialect,
                DailyCountRow.__table__,  # type: ignore[arg-type]
                values,
                keys=("site_id", "day"),
                add=[name for name in _COUNTER_NAMES if deltas.get(name)],
            )
        )

    def _add_usage(self, session: Session, key_id: int, month: str, calls: int) -> None:
        session.execute(
            upsert(
                self._dialect,
                UsageRow.__table__,  # type: ignore[arg-type]
                {"key_id": key_id, "month": month, "calls": calls},
                keys=("key_id", "month"),
                add=("calls",),
            )
        )


def _member(enum: type[E], value: E | str, what: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = [m.value for m in enum]
        raise InvalidValue(f"{what} must be one of {allowed}, got {value!r}") from None


def _checked(score: float, verdict: Verdict | str, check_id: str) -> Verdict:
    """The verdict, after refusing a score, verdict or check id that cannot be stored."""
    member = _member(Verdict, verdict, "verdict")
    if isinstance(score, bool) or not (math.isfinite(score) and 0.0 <= score <= 1.0):
        raise InvalidValue(f"score must be a number between 0 and 1, got {score!r}")
    if not _CHECK_ID_PATTERN.match(check_id):
        raise InvalidValue(f"check id must be 1 to {CHECK_ID_LENGTH} URL-safe characters")
    return member


def _json_list(values: Sequence[Any]) -> list[Any]:
    items = list(values)
    try:
        json.dumps(items)
    except (TypeError, ValueError) as exc:
        raise InvalidValue("reasons must be JSON-serialisable") from exc
    return items


def _errors(verdict: Verdict, label: Label | None) -> Counter[str]:
    """Which error counter a label on a verdict adds to; unsure is wrong either way."""
    if label is Label.SPAM and verdict in (Verdict.HAM, Verdict.UNSURE):
        return Counter(missed_spam=1)
    if label is Label.HAM and verdict in (Verdict.SPAM, Verdict.DISCARD, Verdict.UNSURE):
        return Counter(false_positives=1)
    return Counter()


def _feedback_deltas(verdict: Verdict, *, old: Label | None, new: Label) -> dict[str, int]:
    deltas = _errors(verdict, new)
    deltas.subtract(_errors(verdict, old))
    return {name: n for name, n in deltas.items() if n}

"""Dashboard accounts: users, their roles and sites, and their sign-in sessions.

``Accounts`` works on the same Engine as ``Storage`` (``storage.engine``) and, like it,
opens one short session per call and returns frozen records. Passwords are hashed with
scrypt and a random salt; the parameters are stored with the hash, so raising them later
still verifies older hashes (and ``authenticate`` rehashes those on the next sign-in).
Session tokens are random and only their SHA-256 is stored: a copy of the database does
not let anyone sign in. The tables are created by migration ``0002``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, ForeignKey, Integer, String, delete, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from service.storage.engine import BEGIN_OPTION, configure_sqlite, unavailable_as_storage_error
from service.storage.errors import AlreadyExists, InvalidValue, NotFound
from service.storage.schema import HASH_LENGTH, Base, SiteRow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
SESSION_TTL = timedelta(hours=12)

# scrypt cost: 2**15 * 8 * 128 bytes = 32 MiB of memory and ~0.1 s per hash.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 256 * 1024 * 1024
_HASH_SCHEME = "scrypt"


class Role(StrEnum):
    """What a dashboard user may do: admins everything, moderators their sites' comments."""

    ADMIN = "admin"
    MODERATOR = "moderator"


@dataclass(frozen=True, slots=True)
class DashboardUser:
    """A dashboard account; ``site_ids`` are the sites a moderator may see (admins: all)."""

    id: int
    username: str
    role: Role
    site_ids: tuple[int, ...]
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def may_see(self, site_id: int) -> bool:
        return self.is_admin or site_id in self.site_ids


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just started: ``token`` is the cookie value, returned only this once."""

    token: str
    user: DashboardUser
    expires_at: datetime


class UserRow(Base):
    __tablename__ = "dashboard_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class UserSiteRow(Base):
    __tablename__ = "dashboard_user_sites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SessionRow(Base):
    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("dashboard_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# -- password hashing ------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(
    password: str, *, n: int | None = None, r: int | None = None, p: int | None = None
) -> str:
    """``scrypt$n$r$p$salt$hash`` with a fresh 16-byte salt (base64url, no padding).

    The cost defaults to the module's ``SCRYPT_N``, ``SCRYPT_R`` and ``SCRYPT_P``, read at
    call time (tests lower them to stay fast).
    """
    n, r, p = n or SCRYPT_N, r or SCRYPT_R, p or SCRYPT_P
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    )
    return f"{_HASH_SCHEME}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _HASH_SCHEME:
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's."""
    return not stored.startswith(f"{_HASH_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name takes as long as a
    wrong password and sign-in timing does not reveal which usernames exist."""
    return hash_password(secrets.token_urlsafe(16))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username or ""):
        raise InvalidValue("username must be 1 to 64 letters, digits or . _ @ -")
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidValue(
            f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


def _role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidValue(
            f"role must be one of {[r.value for r in Role]}, got {value!r}"
        ) from None


class Accounts:
    """Dashboard users and sessions, over the service's database.

    ``engine`` is ``storage.engine``; ``clock`` is injectable for tests and
    ``session_ttl`` bounds how long a sign-in lasts.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        session_ttl: timedelta = SESSION_TTL,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        configure_sqlite(engine)
        writer = engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        self._reader = sessionmaker(engine, expire_on_commit=False)
        self._writer = sessionmaker(writer, expire_on_commit=False)
        self.session_ttl = session_ttl
        self._clock = clock

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        maker = self._writer if write else self._reader
        with unavailable_as_storage_error(), maker.begin() as session:
            yield session

    # -- users -----------------------------------------------------------------------

    def create_user(
        self,
        *,
        username: str,
        password: str,
        role: Role | str = Role.ADMIN,
        site_ids: Iterable[int] = (),
    ) -> DashboardUser:
        """Add a user; a moderator needs at least one site, an admin takes none."""
        check_username(username)
        check_password(password)
        role = _role(role)
        sites = sorted(set(site_ids))
        if role is Role.MODERATOR and not sites:
            raise InvalidValue("a moderator needs at least one site")
        if role is Role.ADMIN and sites:
            raise InvalidValue("an admin sees every site; give sites only to moderators")
        password_hash = hash_password(password)
        try:
            with self._session(write=True) as session:
                known = set(session.scalars(select(SiteRow.id).where(SiteRow.id.in_(sites))))
                missing = [s for s in sites if s not in known]
                if missing:
                    raise NotFound(f"site {missing[0]} not found")
                row = UserRow(
                    username=username,
                    password_hash=password_hash,
                    role=role.value,
                    created_at=self._clock(),
                )
                session.add(row)
                session.flush()
                session.add_all(UserSiteRow(user_id=row.id, site_id=s) for s in sites)
                session.flush()
                return self._user(row, tuple(sites))
        except sa_exc.IntegrityError as exc:
            raise AlreadyExists(f"a user named {username!r} already exists") from exc

    def get_user(self, *, username: str) -> DashboardUser | None:
        with self._session() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return self._user(row, self._site_ids(session, row.id)) if row else None

    def list_users(self) -> list[DashboardUser]:
        with self._session() as session:
            rows = list(session.scalars(select(UserRow).order_by(UserRow.username)))
            return [self._user(r, self._site_ids(session, r.id)) for r in rows]

    def delete_user(self, *, username: str) -> None:
        """Remove a user and end all their sessions."""
        with self._session(write=True) as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                raise NotFound(f"user {username!r} not found")
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
            session.execute(delete(UserSiteRow).where(UserSiteRow.user_id == row.id))
            session.delete(row)

    def set_password(self, *, username: str, password: str) -> None:
        """Change a password and end the user's sessions."""
        check_password(password)
        password_hash = hash_password(password)
        with self._session(write=True) as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            if row is None:
                raise NotFound(f"user {username!r} not found")
            row.password_hash = password_hash
            session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))

    def authenticate(self, *, username: str, password: str) -> DashboardUser | None:
        """The user if the password is right, else ``None`` (same time either way)."""
        if len(password) > MAX_PASSWORD_LENGTH or not USERNAME_PATTERN.match(username or ""):
            verify_password(password[:MAX_PASSWORD_LENGTH], _dummy_hash())
            return None
        with self._session() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            stored = row.password_hash if row is not None else _dummy_hash()
        if not verify_password(password, stored) or row is None:
            return None
        if needs_rehash(stored):
            rehashed = hash_password(password)
            with self._session(write=True) as session:
                fresh = session.get(UserRow, row.id)
                if fresh is not None and fresh.password_hash == stored:
                    fresh.password_hash = rehashed
        with self._session() as session:
            return self._user(row, self._site_ids(session, row.id))

    # -- sessions --------------------------------------------------------------------

    def start_session(self, *, user_id: int) -> NewSession:
        """A new sign-in session for ``user_id``; expired sessions are swept at the same time."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        expires = now + self.session_ttl
        with self._session(write=True) as session:
            row = session.get(UserRow, user_id)
            if row is None:
                raise NotFound(f"user {user_id} not found")
            session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            session.add(
                SessionRow(
                    token_hash=_token_hash(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=expires,
                )
            )
            row.last_login_at = now
            session.flush()
            user = self._user(row, self._site_ids(session, user_id))
        return NewSession(token=token, user=user, expires_at=expires)

    def session_user(self, *, token: str) -> DashboardUser | None:
        """The user signed in with ``token``, or ``None`` if unknown or expired."""
        if not token or len(token) > 256:
            return None
        with self._session() as session:
            found = session.execute(
                select(SessionRow, UserRow)
                .join(UserRow, UserRow.id == SessionRow.user_id)
                .where(SessionRow.token_hash == _token_hash(token))
            ).first()
            if found is None:
                return None
            session_row, user_row = found
            if session_row.expires_at <= self._clock():
                return None
            return self._user(user_row, self._site_ids(session, user_row.id))

    def end_session(self, *, token: str) -> None:
        """Sign out: forget the session (unknown tokens are ignored)."""
        with self._session(write=True) as session:
            session.execute(delete(SessionRow).where(SessionRow.token_hash == _token_hash(token)))

    # -- internals -------------------------------------------------------------------

    @staticmethod
    def _site_ids(session: Session, user_id: int) -> tuple[int, ...]:
        rows = session.scalars(
            select(UserSiteRow.site_id)
            .where(UserSiteRow.user_id == user_id)
            .order_by(UserSiteRow.site_id)
        )
        return tuple(rows)

    @staticmethod
    def _user(row: UserRow, site_ids: tuple[int, ...]) -> DashboardUser:
        return DashboardUser(
            id=row.id,
            username=row.username,
            role=Role(row.role),
            site_ids=site_ids,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )

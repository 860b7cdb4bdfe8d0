"""Dashboard accounts: scrypt hashes with their parameters, hashed session tokens, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dashboard_support import PASSWORD, World
from sqlalchemy import select

from service.storage import AlreadyExists, InvalidValue, NotFound, Storage
from service.storage import accounts as accounts_module
from service.storage.accounts import (
    Accounts,
    Role,
    SessionRow,
    UserRow,
    hash_password,
    verify_password,
)


def test_production_hash_is_scrypt_with_its_parameters_and_a_random_salt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(accounts_module, "SCRYPT_N", 2**15)
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "32768", "8", "1")
    assert len(salt) >= 22 and len(digest) >= 43
    assert first != second  # a fresh salt each time
    assert verify_password(PASSWORD, first)
    assert not verify_password(PASSWORD + "!", first)
    assert not verify_password(PASSWORD, "md5$whatever")


def test_old_parameters_still_verify_and_are_upgraded_at_sign_in(world: World) -> None:
    with world.storage.engine.begin() as connection:
        connection.execute(
            UserRow.__table__.update()
            .where(UserRow.__table__.c.username == "ada")
            .values(password_hash=hash_password(PASSWORD, n=2**9))
        )
    assert world.accounts.authenticate(username="ada", password=PASSWORD) is not None
    with world.storage.engine.connect() as connection:
        stored = connection.scalar(select(UserRow.password_hash).where(UserRow.username == "ada"))
    assert stored.startswith(f"scrypt${accounts_module.SCRYPT_N}$")


def test_wrong_password_and_unknown_user_both_fail(world: World) -> None:
    assert world.accounts.authenticate(username="ada", password=PASSWORD) == world.admin
    assert world.accounts.authenticate(username="ada", password="not the password") is None
    assert world.accounts.authenticate(username="nobody", password=PASSWORD) is None
    assert world.accounts.authenticate(username="bad name!", password=PASSWORD) is None


def test_session_tokens_are_stored_hashed_and_expire(world: World) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = Accounts(world.storage.engine, clock=lambda: now, session_ttl=timedelta(hours=1))
    session = accounts.start_session(user_id=world.admin.id)
    with world.storage.engine.connect() as connection:
        stored = list(connection.scalars(select(SessionRow.token_hash)))
    assert session.token not in stored and len(session.token) >= 40
    assert accounts.session_user(token=session.token) == accounts.get_user(username="ada")
    later = Accounts(world.storage.engine, clock=lambda: now + timedelta(hours=2))
    assert later.session_user(token=session.token) is None
    assert accounts.session_user(token="forged") is None
    accounts.end_session(token=session.token)
    assert accounts.session_user(token=session.token) is None


def test_deleting_a_user_or_changing_the_password_ends_their_sessions(world: World) -> None:
    first = world.accounts.start_session(user_id=world.moderator.id)
    world.accounts.set_password(username="mo", password="another long password")
    assert world.accounts.session_user(token=first.token) is None
    second = world.accounts.start_session(user_id=world.moderator.id)
    world.accounts.delete_user(username="mo")
    assert world.accounts.session_user(token=second.token) is None
    assert world.accounts.get_user(username="mo") is None
    with pytest.raises(NotFound):
        world.accounts.delete_user(username="mo")


def test_roles_and_sites(
    world: World,
) -> None:
    assert world.admin.is_admin and world.admin.may_see(world.other.id)
    assert world.moderator.site_ids == (world.site.id,)
    assert world.moderator.may_see(world.site.id) and not world.moderator.may_see(world.other.id)
    with pytest.raises(InvalidValue, match="moderator needs at least one site"):
        world.accounts.create_user(username="m2", password=PASSWORD, role=Role.MODERATOR)
    with pytest.raises(InvalidValue, match="role must be one of"):
        world.accounts.create_user(username="m3", password=PASSWORD, role="owner")
    with pytest.raises(NotFound):
        world.accounts.create_user(
            username="m4", password=PASSWORD, role="moderator", site_ids=[999_999]
        )
    with pytest.raises(AlreadyExists):
        world.accounts.create_user(username="ada", password=PASSWORD)
    with pytest.raises(InvalidValue, match="password must be"):
        world.accounts.create_user(username="m5", password="short")


def test_deleting_a_site_takes_it_from_its_moderators(world: World) -> None:
    storage: Storage = world.storage
    storage.delete_site(site_id=world.site.id)
    assert world.accounts.get_user(username="mo").site_ids == ()

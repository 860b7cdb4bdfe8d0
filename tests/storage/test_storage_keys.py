"""API keys: stored only as keyed hashes, found by plaintext, revocable."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import MetaData, select

from service.storage import AlreadyExists, InvalidValue, NotFound, Storage


def test_create_and_find_key(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    key_id, key = storage.create_key(site_id=site.id)
    assert re.fullmatch(r"[0-9a-f]{12}", key)

    match = storage.find_key(plaintext=key)
    assert match is not None
    assert match.key.id == key_id
    assert match.key.hint == key[-4:]
    assert match.key.is_revoked is False
    assert match.site == site


def test_unknown_and_malformed_keys_are_not_found(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    _, key = storage.create_key(site_id=site.id)
    other = "0" * 12 if key != "0" * 12 else "1" * 12
    assert storage.find_key(plaintext=other) is None
    assert storage.find_key(plaintext=key.upper()) is None
    assert storage.find_key(plaintext="") is None
    assert storage.find_key(plaintext="x" * 500) is None
    assert storage.find_key(plaintext="' OR 1=1 --") is None


def test_revoked_key_is_not_found_but_still_listed(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    key_id, key = storage.create_key(site_id=site.id)
    kept_id, kept = storage.create_key(site_id=site.id)

    revoked = storage.revoke_key(key_id=key_id)
    assert revoked.is_revoked
    assert storage.find_key(plaintext=key) is None
    assert storage.find_key(plaintext=kept) is not None
    again = storage.revoke_key(key_id=key_id)
    assert again.revoked_at == revoked.revoked_at

    listed = storage.list_keys(site_id=site.id)
    assert [(k.id, k.is_revoked) for k in listed] == [(key_id, True), (kept_id, False)]
    assert [k.hint for k in listed] == [key[-4:], kept[-4:]]
    with pytest.raises(NotFound):
        storage.revoke_key(key_id=987_654_321)


def test_key_is_stored_only_hashed(storage: Storage, database_text: Callable[[], str]) -> None:
    site = storage.create_site(url="https://example.com")
    key_id, key = storage.create_key(site_id=site.id)
    storage.record_check(
        site_id=site.id,
        key_id=key_id,
        fields={"content": "hello"},
        score=0.2,
        verdict="ham",
        model_version="m",
    )
    metadata = MetaData()
    metadata.reflect(storage.engine, only=["api_keys"])
    with storage.engine.connect() as connection:
        row = connection.execute(select(metadata.tables["api_keys"])).one()
    assert key not in repr(tuple(row))
    assert row.key_hash != key and len(row.key_hash) == 64
    assert key not in database_text()


def test_key_hash_depends_on_the_secret(db_url: str) -> None:
    with Storage(db_url, secret="first-secret-0123456789") as first:
        site = first.create_site(url="https://example.com")
        _, key = first.create_key(site_id=site.id)
    with Storage(db_url, secret="other-secret-0123456789") as other:
        assert other.find_key(plaintext=key) is None


def test_externally_generated_key(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    key_id, key = storage.create_key(site_id=site.id, plaintext="abcdef012345")
    assert key == "abcdef012345"
    match = storage.find_key(plaintext="abcdef012345")
    assert match is not None and match.key.id == key_id
    with pytest.raises(AlreadyExists):
        storage.create_key(site_id=site.id, plaintext="abcdef012345")
    with pytest.raises(InvalidValue):
        storage.create_key(site_id=site.id, plaintext="short")


def test_key_for_unknown_site(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.create_key(site_id=987_654_321)

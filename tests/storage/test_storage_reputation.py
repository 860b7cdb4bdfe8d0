"""Reputation counts per site, looked up in one query, and the shared registry state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from service.storage import Counts, InvalidValue, NotFound, Storage
from service.storage.hashing import domain_of, ip_prefix

ENTRIES = [
    ("author_name", "Pill  Seller"),
    ("author_email", "Seller@Example.com"),
    ("author_url_domain", "https://www.pills.example/buy"),
    ("link_domain", "cheap.example"),
    ("ip_prefix", "203.0.113.9"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.9", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("198.51.100.0/24", "198.51.100.0/24"),
        ("not an ip", None),
    ],
)
def test_ip_prefix(value: str, expected: str | None) -> None:
    assert ip_prefix(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://WWW.Example.com/path", "example.com"),
        ("example.com", "example.com"),
        ("http://sub.example.com:8080", "sub.example.com"),
        ("", None),
    ],
)
def test_domain_of(value: str, expected: str | None) -> None:
    assert domain_of(value) == expected


def test_update_and_get_reputation(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    other = storage.create_site(url="https://other.example")
    storage.update_reputation(site_id=site.id, entries=ENTRIES, label="spam")
    storage.update_reputation(site_id=site.id, entries=ENTRIES, label="spam")
    storage.update_reputation(site_id=site.id, entries=ENTRIES[:2], label="ham")

    asked = [
        ("author_name", "pill seller"),
        ("author_email", " seller@example.COM "),
        ("author_url_domain", "pills.example"),
        ("link_domain", "https://cheap.example/page"),
        ("ip_prefix", "203.0.113.200"),
        ("ip_prefix", "203.0.114.9"),
        ("author_name", "Somebody Else"),
    ]
    found = storage.get_reputation(site_id=site.id, entries=asked)
    assert found == {
        asked[0]: Counts(ham=1, spam=2),
        asked[1]: Counts(ham=1, spam=2),
        asked[2]: Counts(ham=0, spam=2),
        asked[3]: Counts(ham=0, spam=2),
        asked[4]: Counts(ham=0, spam=2),
        asked[5]: Counts(ham=0, spam=0),
        asked[6]: Counts(ham=0, spam=0),
    }
    elsewhere = storage.get_reputation(site_id=other.id, entries=asked[:1])
    assert elsewhere == {asked[0]: Counts(0, 0)}


def test_a_reputation_read_is_one_statement_outside_any_transaction(storage: Storage) -> None:
    """Read per check: no BEGIN/ROLLBACK around it, and it sees a write made just before."""
    site = storage.create_site(url="https://example.com")
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(storage.engine, "before_cursor_execute", seen)
    try:
        assert storage.get_reputation(site_id=site.id, entries=ENTRIES[:1]) == {
            ENTRIES[0]: Counts(0, 0)
        }
        storage.update_reputation(site_id=site.id, entries=ENTRIES[:1], label="spam")
        statements.clear()
        found = storage.get_reputation(site_id=site.id, entries=ENTRIES[:1])
    finally:
        event.remove(storage.engine, "before_cursor_execute", seen)
    assert found == {ENTRIES[0]: Counts(ham=0, spam=1)}
    assert statements == ["SELECT"]


def test_email_reputation_accepts_the_address_or_its_stored_hash(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    stored_hash = storage.hash_pii("seller@example.com")
    storage.update_reputation(
        site_id=site.id, entries=[("author_email", "Seller@Example.com")], label="spam"
    )
    storage.update_reputation(
        site_id=site.id, entries=[("author_email", stored_hash)], label="spam"
    )
    found = storage.get_reputation(
        site_id=site.id,
        entries=[("author_email", stored_hash), ("author_email", "seller@example.com")],
    )
    assert set(found.values()) == {Counts(ham=0, spam=2)}
    export = storage.export_subject(email="seller@example.com")
    assert [r["spam_count"] for r in export["reputation"]] == [2]


def test_reputation_values_are_stored_hashed(
    storage: Storage, database_text: Callable[[], str]
) -> None:
    site = storage.create_site(url="https://example.com")
    storage.update_reputation(site_id=site.id, entries=ENTRIES, label="spam")
    text = database_text().lower()
    for needle in ["pill seller", "seller@example.com", "pills.example", "cheap.example", "203.0"]:
        assert needle not in text


def test_reputation_inputs_are_checked(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    with pytest.raises(InvalidValue, match="reputation kind"):
        storage.update_reputation(site_id=site.id, entries=[("phone", "123")], label="spam")
    with pytest.raises(InvalidValue, match="label"):
        storage.update_reputation(site_id=site.id, entries=ENTRIES, label="maybe")
    with pytest.raises(NotFound):
        storage.update_reputation(site_id=987_654_321, entries=ENTRIES, label="spam")
    storage.update_reputation(site_id=site.id, entries=[("ip_prefix", "garbage")], label="spam")
    assert storage.get_reputation(site_id=site.id, entries=[]) == {}


def test_feedback_can_update_reputation_in_the_same_transaction(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    storage.record_feedback(
        site_id=site.id,
        label="spam",
        source="akismet",
        fields={"content": "x", "author_email": "seller@example.com"},
        reputation=[("author_email", "seller@example.com")],
        at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    found = storage.get_reputation(
        site_id=site.id, entries=[("author_email", "seller@example.com")]
    )
    assert found == {("author_email", "seller@example.com"): Counts(0, 1)}


def test_registry_state(storage: Storage) -> None:
    assert storage.get_state("model.current") is None
    storage.set_state("model.current", "2026-03-01")
    storage.set_state("model.current", "2026-03-08")
    storage.set_state("other", "x")
    assert storage.get_state("model.current") == "2026-03-08"
    assert storage.get_state("other") == "x"
    with pytest.raises(InvalidValue):
        storage.set_state("", "x")

"""Sites: create, find, list, delete, and settings that refuse bad values."""

from __future__ import annotations

import pytest

from service.storage import (
    AlreadyExists,
    InvalidSetting,
    InvalidValue,
    NotFound,
    SiteSettings,
    Storage,
    normalize_site_url,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTPS://Example.COM/", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:8080/Blog/", "http://example.com:8080/Blog"),
        ("https://example.com/?p=1#top", "https://example.com"),
        ("http://[::1]:80/", "http://[::1]"),
    ],
)
def test_site_urls_are_normalised(given: str, expected: str) -> None:
    assert normalize_site_url(given) == expected


@pytest.mark.parametrize(
    "bad", ["example.com", "ftp://example.com", "https://", "http://u:p@x.org"]
)
def test_malformed_site_urls_are_refused(bad: str) -> None:
    with pytest.raises(InvalidValue):
        normalize_site_url(bad)


def test_create_and_find_site(storage: Storage) -> None:
    site = storage.create_site(url="HTTPS://Blog.Example.com/", name="Blog")
    assert site.url == "https://blog.example.com"
    assert site.name == "Blog"
    assert site.settings == SiteSettings()
    assert site.created_at.tzinfo is not None
    assert storage.get_site(site.id) == site
    assert storage.get_site_by_url("https://blog.example.com") == site
    assert storage.get_site_by_url("https://BLOG.example.com:443/") == site
    assert storage.get_site_by_url("https://other.example.com") is None
    assert storage.get_site_by_url("not a url") is None
    assert storage.get_site(site.id + 1000) is None


def test_site_url_is_unique_after_normalisation(storage: Storage) -> None:
    storage.create_site(url="https://example.com")
    with pytest.raises(AlreadyExists):
        storage.create_site(url="HTTPS://EXAMPLE.com/")


def test_list_and_delete_sites(storage: Storage) -> None:
    first = storage.create_site(url="https://a.example")
    second = storage.create_site(url="https://b.example")
    assert [s.id for s in storage.list_sites()] == [first.id, second.id]
    key_id, _ = storage.create_key(site_id=first.id)
    storage.record_check(
        site_id=first.id,
        key_id=key_id,
        fields={"content": "hi"},
        score=0.1,
        verdict="ham",
        model_version="m",
    )
    storage.delete_site(site_id=first.id)
    assert [s.id for s in storage.list_sites()] == [second.id]
    assert storage.list_keys(site_id=first.id) == []
    with pytest.raises(NotFound):
        storage.delete_site(site_id=first.id)


def test_settings_defaults_and_update(storage: Storage) -> None:
    site = storage.create_site(url="https://example.com")
    assert site.settings.unsure_is_spam is False
    assert site.settings.retention_days == 15
    assert site.settings.store_pii == "hashed"
    assert site.settings.fail_open == "ham"
    assert site.settings.cutoffs is None

    cutoffs = {"unsure": 0.4, "spam": 0.7, "discard": 0.99}
    updated = storage.update_site_settings(
        site_id=site.id,
        cutoffs=cutoffs,
        unsure_is_spam=True,
        retention_days=30,
        store_pii="clear",
        fail_open="unsure",
    )
    assert updated.settings.cutoffs == cutoffs
    assert updated.settings.unsure_is_spam is True
    assert updated.settings.retention_days == 30
    assert updated.settings.store_pii == "clear"
    assert updated.settings.fail_open == "unsure"
    assert storage.get_site(site.id) == updated

    reset = storage.update_site_settings(site_id=site.id, cutoffs=None)
    assert reset.settings.cutoffs is None
    assert reset.settings.retention_days == 30


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "blue"}, "unknown setting 'colour'"),
        ({"unsure_is_spam": "yes"}, "unsure_is_spam"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention_days": True}, "retention_days"),
        ({"retention_days": 12.5}, "retention_days"),
        ({"store_pii": "plain"}, "store_pii"),
        ({"fail_open": "spam"}, "fail_open"),
        ({"cutoffs": {"spam": 0.5}}, "cutoffs"),
        ({"cutoffs": {"unsure": 0.9, "spam": 0.5, "discard": 0.99}}, "cutoffs"),
        ({"cutoffs": {"unsure": 0.1, "spam": 0.5, "discard": 1.5}}, "cutoffs.discard"),
        ({"cutoffs": {"unsure": "low", "spam": 0.5, "discard": 0.9}}, "cutoffs.unsure"),
        ({"cutoffs": [0.1, 0.5, 0.9]}, "cutoffs"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    storage: Storage, changes: dict[str, object], message: str
) -> None:
    site = storage.create_site(url="https://example.com")
    with pytest.raises(InvalidSetting, match=message):
        storage.update_site_settings(site_id=site.id, **changes)
    assert storage.get_site(site.id) == site


def test_create_site_validates_initial_settings(storage: Storage) -> None:
    with pytest.raises(InvalidSetting):
        storage.create_site(url="https://example.com", settings={"retention_days": -1})
    site = storage.create_site(url="https://example.com", settings={"store_pii": "clear"})
    assert site.settings.store_pii == "clear"


def test_update_settings_of_unknown_site(storage: Storage) -> None:
    with pytest.raises(NotFound):
        storage.update_site_settings(site_id=987_654_321, retention_days=3)

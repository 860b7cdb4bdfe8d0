"""Sites and keys: create sites, create keys shown once, revoke them, per-site settings."""

from __future__ import annotations

import re

from dashboard_support import Dash, World


def test_create_a_site(admin: Dash, world: World) -> None:
    response = admin.post("/dashboard/sites", {"url": "https://news.example/", "name": "News"})
    assert response.status_code == 303
    site = world.storage.get_site_by_url("https://news.example")
    assert site is not None and site.name == "News"
    assert response.headers["location"] == f"/dashboard/sites/{site.id}?msg=site_created"
    duplicate = admin.post("/dashboard/sites", {"url": "https://news.example"})
    assert duplicate.status_code == 409
    invalid = admin.post("/dashboard/sites", {"url": "not a url"})
    assert (invalid.status_code == 422 and "Please check" in invalid.text) or "url" in invalid.text


def test_key_is_shown_once_then_revoked(admin: Dash, world: World) -> None:
    response = admin.post(f"/dashboard/sites/{world.site.id}/keys")
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    key = re.search(r'<output id="new-key" class="key">([^<]+)</output>', response.text)[1]
    match = world.storage.find_key(plaintext=key)
    assert match is not None and match.site.id == world.site.id
    page = admin.get(f"/dashboard/sites/{world.site.id}").text
    assert key not in page and f"…{key[-4:]}" in page
    revoked = admin.post(f"/dashboard/sites/{world.site.id}/keys/{match.key.id}/revoke")
    assert revoked.status_code == 303
    assert world.storage.find_key(plaintext=key) is None
    assert "revoked" in admin.get(f"/dashboard/sites/{world.site.id}").text
    # A key of another site cannot be revoked through this one.
    other_id, _ = world.storage.create_key(site_id=world.other.id)
    wrong = admin.post(f"/dashboard/sites/{world.site.id}/keys/{other_id}/revoke")
    assert wrong.status_code == 404


def test_settings(admin: Dash, world: World) -> None:
    form = {
        "cutoffs_mode": "custom",
        "unsure": "0.4",
        "spam": "0.7",
        "discard": "0.98",
        "unsure_is_spam": "true",
        "retention_days": "30",
        "store_pii": "clear",
        "fail_open": "unsure",
    }
    response = admin.post(f"/dashboard/sites/{world.site.id}/settings", form)
    assert response.status_code == 303
    settings = world.storage.get_site(world.site.id).settings
    assert dict(settings.cutoffs) == {"unsure": 0.4, "spam": 0.7, "discard": 0.98}
    assert settings.unsure_is_spam and settings.retention_days == 30
    assert (settings.store_pii, settings.fail_open) == ("clear", "unsure")
    back = admin.post(f"/dashboard/sites/{world.site.id}/settings", {"cutoffs_mode": "model"})
    assert back.status_code == 303
    assert world.storage.get_site(world.site.id).settings.cutoffs is None


def test_bad_settings_are_refused_with_a_reason(admin: Dash, world: World) -> None:
    bad = {"cutoffs_mode": "custom", "unsure": "0.9", "spam": "0.5", "discard": "0.99"}
    response = admin.post(f"/dashboard/sites/{world.site.id}/settings", bad)
    assert response.status_code == 422
    assert "unsure &lt;= spam &lt;= discard" in response.text
    days = admin.post(f"/dashboard/sites/{world.site.id}/settings", {"retention_days": "0"})
    assert days.status_code == 422 and "retention_days" in days.text
    assert world.storage.get_site(world.site.id).settings.cutoffs is None


def test_try_it_scores_without_storing(admin: Dash, world: World) -> None:
    response = admin.post(
        "/dashboard/try",
        {
            "site": world.site.id,
            "content": "WIN BIG at our online casino!!! Free spins at https://lucky-spins.top",
            "author_name": "Lucky",
        },
    )
    assert response.status_code == 200
    assert 'id="result-score"' in response.text and "Verdict:" in response.text
    assert 'class="reasons"' in response.text
    assert world.storage.list_checks(site_id=world.site.id) == []
    assert admin.post("/dashboard/try", {"site": world.site.id, "content": " "}).status_code == 422

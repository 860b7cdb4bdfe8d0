"""``/admin``: sites, settings and keys behind the admin token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token"}


def test_admin_needs_the_admin_token(anonymous_client: TestClient, api_key: str) -> None:
    calls = [
        ("get", "/admin/sites", {}),
        ("post", "/admin/sites", {"json": {"url": "https://x.example"}}),
        ("get", "/admin/sites/1", {}),
        ("patch", "/admin/sites/1/settings", {"json": {"unsure_is_spam": True}}),
        ("get", "/admin/sites/1/keys", {}),
        ("post", "/admin/sites/1/keys", {}),
        ("post", "/admin/keys/1/revoke", {}),
    ]
    wrong = [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {api_key}"},  # a site's API key is not the admin token
        {"Authorization": "Basic dGVzdC1hZG1pbi10b2tlbg=="},
    ]
    for method, path, kwargs in calls:
        for headers in wrong:
            response = getattr(anonymous_client, method)(path, headers=headers, **kwargs)
            assert response.status_code == 401, (method, path, headers)
            assert response.json()["error"] == "unauthorized"


def test_admin_disabled_without_a_token(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"admin_token": None}))) as client:
        response = client.get("/admin/sites", headers={"Authorization": "Bearer "})
        assert response.status_code == 401
        assert "SLUICE_ADMIN_TOKEN" in response.json()["message"]


def test_sites_settings_and_keys(anonymous_client: TestClient) -> None:
    client = anonymous_client
    created = client.post(
        "/admin/sites",
        json={"url": "HTTPS://Shop.Example/", "name": "Shop", "settings": {"retention_days": 7}},
        headers=ADMIN,
    )
    assert created.status_code == 201
    site = created.json()
    assert site["url"] == "https://shop.example" and site["settings"]["retention_days"] == 7
    again = client.post("/admin/sites", json={"url": "https://shop.example"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["error"] == "already_exists"
    assert [s["url"] for s in client.get("/admin/sites", headers=ADMIN).json()] == [site["url"]]

    path = f"/admin/sites/{site['id']}"
    patched = client.patch(
        f"{path}/settings",
        json={"cutoffs": {"unsure": 0.3, "spam": 0.6, "discard": 0.95}, "unsure_is_spam": True},
        headers=ADMIN,
    )
    assert patched.status_code == 200
    assert patched.json()["settings"]["cutoffs"] == {"unsure": 0.3, "spam": 0.6, "discard": 0.95}
    assert patched.json()["settings"]["retention_days"] == 7  # untouched
    reset = client.patch(f"{path}/settings", json={"cutoffs": None}, headers=ADMIN)
    assert reset.json()["settings"]["cutoffs"] is None
    assert reset.json()["settings"]["unsure_is_spam"] is True
    bad = client.patch(
        f"{path}/settings",
        json={"cutoffs": {"unsure": 0.9, "spam": 0.5, "discard": 0.95}},
        headers=ADMIN,
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_setting"
    assert client.patch(f"{path}/settings", json={"nope": 1}, headers=ADMIN).status_code == 422

    key = client.post(f"{path}/keys", headers=ADMIN)
    assert key.status_code == 201
    body = key.json()
    assert len(body["key"]) == 12 and body["hint"] == body["key"][-4:]
    listed = client.get(f"{path}/keys", headers=ADMIN).json()
    assert listed == [{k: v for k, v in body.items() if k != "key"}]  # never shown again
    check = client.post(
        "/v1/comments/check",
        json={"content": "Hello there"},
        headers={"Authorization": f"Bearer {body['key']}"},
    )
    assert check.status_code == 200
    revoked = client.post(f"/admin/keys/{body['id']}/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    check = client.post(
        "/v1/comments/check",
        json={"content": "Hello there"},
        headers={"Authorization": f"Bearer {body['key']}"},
    )
    assert check.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/sites/999"),
        ("get", "/admin/sites/999/keys"),
        ("post", "/admin/sites/999/keys"),
        ("post", "/admin/keys/999/revoke"),
        ("patch", "/admin/sites/999/settings"),
    ],
)
def test_unknown_ids_are_404_json(anonymous_client: TestClient, method: str, path: str) -> None:
    kwargs = {"json": {}} if method == "patch" else {}
    response = getattr(anonymous_client, method)(path, headers=ADMIN, **kwargs)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_bad_site_url_is_422(anonymous_client: TestClient) -> None:
    response = anonymous_client.post("/admin/sites", json={"url": "ftp://x"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"  # refused at the edge, naming url
    assert response.json()["details"][0]["field"] == "url"

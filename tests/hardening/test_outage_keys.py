"""During an outage, keys seen before are served from memory, but never one revoked since.

``Moderation`` remembers the last answer for each key so that known callers are still served
while the database is unavailable. A key revoked (or a site deleted) through this process
must not come back to life through that memory when the database fails afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app, open_storage
from tests.hardening.conftest import hardening_settings
from tests.hardening.test_database_outage import HAM, SwitchableStorage

ADMIN = {"Authorization": "Bearer hardening-admin-token"}


def _check(client: TestClient, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return client.post("/v1/comments/check", json=HAM, headers=headers).status_code


@pytest.mark.parametrize("removal", ["revoke", "delete site"])
def test_a_key_removed_here_is_not_served_from_memory_during_a_later_outage(
    models_dir: Path, tmp_path: Path, removal: str
) -> None:
    settings = hardening_settings(
        models_dir,
        tmp_path,
        spool_replay_seconds=3600,  # the outage lasts until the test ends it
        rate_limit_key_per_minute=0,
        rate_limit_ip_per_minute=0,
    )
    storage = SwitchableStorage(open_storage(settings))
    with TestClient(create_app(settings, storage=storage)) as client:  # type: ignore[arg-type]
        real = storage.real
        doomed_site = real.create_site(url="https://doomed.example")
        doomed_id, doomed = real.create_key(site_id=doomed_site.id)
        other_site = real.create_site(url="https://other.example")
        _, other = real.create_key(site_id=other_site.id)
        assert _check(client, doomed) == 200 and _check(client, other) == 200  # both seen

        if removal == "revoke":
            response = client.post(f"/admin/keys/{doomed_id}/revoke", headers=ADMIN)
        else:
            real.delete_site(site_id=doomed_site.id)
            response = client.get("/admin/sites", headers=ADMIN)
        assert response.status_code == 200
        assert _check(client, other) == 200  # still in use after the change

        storage.down = True
        try:
            assert _check(client, doomed) == 503  # cannot be verified: refused, not scored
            assert _check(client, other) == 200  # a live key is still served from memory
        finally:
            storage.down = False
            assert client.app.state.moderation.replay_spool()

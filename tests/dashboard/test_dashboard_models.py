"""Models page: versions with their cards and plots, promote and roll back through verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_support import PASSWORD, Dash, copy_registry, csrf_of, sign_in
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.app import create_app
from service.scoring import Scorer
from service.settings import Settings
from service.storage.accounts import Accounts
from training import artifacts


@pytest.fixture
def registry(tmp_path: Path, models_dir: Path) -> tuple[Path, str, str]:
    current, newer = copy_registry(models_dir, tmp_path / "registry")
    return tmp_path / "registry", current, newer


@pytest.fixture
def models_admin(tmp_path: Path, scorer: Scorer, registry: tuple[Path, str, str]) -> Iterator[Dash]:
    """An admin of an app over a registry of its own (on SQLite only: promotion does not
    touch the database, and loading models is what takes the time here)."""
    settings = Settings(
        models_dir=registry[0],
        data_dir=tmp_path / "data",
        database_url=None,
        migrate_on_start=True,
        secret_key="test-secret",
        model_reload_seconds=0,
    )
    application: FastAPI = create_app(settings)
    application.state.models.scorer = scorer  # the registry's current version: no reload
    with TestClient(application) as client:
        storage = application.state.moderation.storage
        user = Accounts(storage.engine).create_user(username="ada", password=PASSWORD)
        assert sign_in(client, "ada").status_code == 303
        yield Dash(client, csrf_of(client.get("/dashboard/").text), user)


def test_versions_with_cards_and_plots(models_admin: Dash, registry: tuple[Path, str, str]) -> None:
    _, current, newer = registry
    page = models_admin.get("/dashboard/models").text
    assert page.index(newer) < page.index(f'id="version-{current}"')  # newest first
    assert f'<tr id="version-{current}" class="current">' in page
    detail = models_admin.get(f"/dashboard/models/{current}").text
    assert "Held-out metrics" in detail and "Evaluation report" in detail
    for plot in ("precision_recall.png", "score_distribution.png", "confusion.png"):
        assert f"/dashboard/models/{current}/plots/{plot}" in detail
        image = models_admin.get(f"/dashboard/models/{current}/plots/{plot}")
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert models_admin.get("/dashboard/models/nope").status_code == 404
    assert models_admin.get(f"/dashboard/models/{current}/plots/card.json").status_code == 404
    assert models_admin.get("/dashboard/models/..%2F..%2Fetc/plots/confusion.png").status_code in (
        404,
        422,
    )


def test_promote_verifies_then_serves_and_roll_back_returns(
    models_admin: Dash, registry: tuple[Path, str, str]
) -> None:
    models_dir, current, newer = registry
    response = models_admin.post("/dashboard/models/promote", {"version": newer})
    assert response.status_code == 303
    assert artifacts.current_version(models_dir) == newer
    holder = models_admin.client.app.state.models
    assert holder.scorer.version == newer
    back = models_admin.post("/dashboard/models/rollback")
    assert back.status_code == 303
    assert artifacts.current_version(models_dir) == current
    assert holder.scorer.version == current


def test_a_tampered_model_is_refused(models_admin: Dash, registry: tuple[Path, str, str]) -> None:
    models_dir, current, newer = registry
    with (models_dir / newer / artifacts.MODEL_FILE).open("ab") as handle:
        handle.write(b"tampered")
    response = models_admin.post("/dashboard/models/promote", {"version": newer})
    assert response.status_code == 422 and "checksum" in response.text
    assert artifacts.current_version(models_dir) == current
    unknown = models_admin.post("/dashboard/models/promote", {"version": "../etc"})
    assert unknown.status_code == 404

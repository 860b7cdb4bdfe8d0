"""Model faults: a missing, truncated, tampered or foreign-version model is never loaded; the
previous one keeps serving, or the service reports not-ready and says why (and logs it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.models import ModelHolder
from tests.hardening.conftest import hardening_settings
from training import artifacts


def _truncate(model: Path) -> None:
    data = (model / artifacts.MODEL_FILE).read_bytes()
    (model / artifacts.MODEL_FILE).write_bytes(data[: len(data) // 2])


def _tamper(model: Path) -> None:
    with (model / artifacts.MODEL_FILE).open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))


def _foreign_versions(model: Path) -> None:
    card = json.loads((model / artifacts.CARD_FILE).read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (model / artifacts.CARD_FILE).write_text(json.dumps(card))


def _missing(model: Path) -> None:
    (model / artifacts.MODEL_FILE).unlink()


FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (_missing, "missing"),
    "truncated": (_truncate, "checksum"),
    "tampered": (_tamper, "checksum"),
    "other library versions": (_foreign_versions, "0.24.2"),
}


def _registry(models_dir: Path, target: Path, versions: list[str]) -> Path:
    source = models_dir / str(artifacts.current_version(models_dir))
    for version in versions:
        (target / version).mkdir(parents=True)
        for name in (artifacts.MODEL_FILE, artifacts.CARD_FILE):
            (target / version / name).write_bytes((source / name).read_bytes())
    return target


def test_bad_model_never_replaces_the_served_one(
    models_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = _registry(models_dir, tmp_path, ["good", *FAULTS])
    artifacts.set_current(registry, "good")
    holder = ModelHolder(registry)
    assert holder.refresh()
    served = holder.scorer
    for fault, (damage, says) in FAULTS.items():
        damage(registry / fault)
        artifacts.set_current(registry, fault)
        with caplog.at_level(logging.ERROR, logger="service.models"):
            assert not holder.refresh(), fault
        assert holder.scorer is served is not None
        assert says in (holder.last_error or ""), fault
        assert any(fault in r.getMessage() and says in r.getMessage() for r in caplog.records)


def test_bad_model_and_no_previous_one_is_not_ready(models_dir: Path, tmp_path: Path) -> None:
    registry = _registry(models_dir, tmp_path / "models", ["bad"])
    _truncate(registry / "bad")
    artifacts.set_current(registry, "bad")
    settings = hardening_settings(registry, tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "checksum" in ready.json()["model"]["error"]
        storage = client.app.state.moderation.storage
        key = storage.create_key(site_id=storage.create_site(url="https://a.example").id)[1]
        check = client.post(
            "/v1/comments/check",
            json={"content": "hello"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert check.status_code == 503 and check.json()["error"] == "not_ready"
        form = {"api_key": key, "blog": "https://a.example", "comment_content": "hello"}
        akismet = client.post("/1.1/comment-check", data=form)
        assert akismet.status_code == 200 and akismet.text == "false"  # fail open: ham

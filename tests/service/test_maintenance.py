"""Operator commands through ``python -m service ...`` and hot reload of promoted models."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.__main__ import main
from service.app import create_app
from service.settings import Settings
from training import artifacts


def copy_registry(source: Path, target: Path, *names: str) -> Path:
    """A registry with the default model under each of ``names`` (card version renamed)."""
    version = artifacts.current_version(source)
    for name in names:
        shutil.copytree(source / version, target / name)
        card_path = target / name / artifacts.CARD_FILE
        card = json.loads(card_path.read_text())
        card["version"] = name
        card_path.write_text(json.dumps(card))
    artifacts.set_current(target, names[0])
    return target


@pytest.fixture
def env(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    registry = copy_registry(models_dir, tmp_path / "models", "v1", "v2")
    monkeypatch.setenv("SLUICE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SLUICE_MODELS_DIR", str(registry))
    monkeypatch.setenv("SLUICE_SECRET_KEY", "test-secret")
    return Settings()


def _site_with_traffic(settings: Settings) -> TestClient:
    client = TestClient(create_app(settings))
    client.__enter__()
    storage = client.app.state.moderation.storage
    _, key = storage.create_key(site_id=storage.create_site(url="https://blog.example").id)
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def test_models_promote_and_roll_back(env: Settings, capsys) -> None:
    assert main(["models", "promote", "v2"]) == 0
    assert artifacts.current_version(env.models_dir) == "v2"
    assert main(["models", "list"]) == 0
    assert "* v2" in capsys.readouterr().out
    assert main(["models", "rollback"]) == 0
    assert artifacts.current_version(env.models_dir) == "v1"


def test_promoting_a_tampered_model_is_refused(env: Settings) -> None:
    with (env.models_dir / "v2" / artifacts.MODEL_FILE).open("ab") as handle:
        handle.write(b"x")
    with pytest.raises(artifacts.ModelRejected):
        main(["models", "promote", "v2"])
    assert artifacts.current_version(env.models_dir) == "v1"


def test_running_service_switches_model_without_failing_requests(env: Settings) -> None:
    settings = env.model_copy(update={"model_reload_seconds": 0.2})
    client = _site_with_traffic(settings)
    try:
        assert client.get("/v1/model").json()["version"] == "v1"
        artifacts.set_current(settings.models_dir, "v2")
        versions = set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "v2" not in versions:
            response = client.post("/v1/comments/check", json={"content": "Nice post, thanks!"})
            assert response.status_code == 200
            versions.add(response.json()["model_version"])
        assert "v2" in versions
    finally:
        client.__exit__(None, None, None)


def test_bad_promoted_model_keeps_the_old_one_serving(env: Settings) -> None:
    settings = env.model_copy(update={"model_reload_seconds": 0.2})
    client = _site_with_traffic(settings)
    try:
        (settings.models_dir / "v2" / artifacts.MODEL_FILE).write_bytes(b"truncated")
        artifacts.set_current(settings.models_dir, "v2")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ready = client.get("/readyz").json()
            if ready["model"].get("last_reload_error"):
                break
            time.sleep(0.1)
        assert ready["ready"] is True
        assert ready["model"]["version"] == "v1"
        assert "checksum" in ready["model"]["last_reload_error"]
        response = client.post("/v1/comments/check", json={"content": "Nice post"})
        assert response.json()["model_version"] == "v1"
    finally:
        client.__exit__(None, None, None)


def test_purge_and_privacy_commands(env: Settings, capsys) -> None:
    client = _site_with_traffic(env)
    try:
        comment = {
            "content": "Lovely photos!",
            "author_email": "Ann@Example.org",
            "user_ip": "198.51.100.7",
        }
        check = client.post("/v1/comments/check", json=comment).json()
        client.post(f"/v1/comments/{check['id']}/feedback", json={"label": "ham"})
    finally:
        client.__exit__(None, None, None)
    assert main(["privacy", "export", "--email", "ann@example.org"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported["checks"]) == 1 and len(exported["feedback"]) == 1
    assert "ann@example.org" not in json.dumps(exported).lower()  # stored hashed by default
    assert main(["purge"]) == 0
    assert "purged 0" in capsys.readouterr().out  # nothing is older than 15 days yet
    assert main(["privacy", "delete", "--ip", "198.51.100.7"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main(["privacy", "export", "--email", "ann@example.org"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["checks"] == [] and after["feedback"] == []


def test_purge_drops_old_set_aside_spool_lines(env: Settings, capsys) -> None:
    """Lines the database refused are kept for an operator with comments in clear: only for
    as long as the longest site retention (15 days by default)."""
    rejected = env.data_dir / "spool" / "rejected.jsonl"
    rejected.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    lines = [
        {"kind": "check", "at": (now - timedelta(days=20)).isoformat(), "fields": {"x": "old"}},
        {"kind": "feedback", "at": (now - timedelta(days=1)).isoformat(), "fields": {"x": "new"}},
    ]
    rejected.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
    assert main(["purge"]) == 0
    assert "purged 2 set-aside spool lines older than 15 days" in capsys.readouterr().out
    assert [json.loads(line)["fields"]["x"] for line in rejected.read_text().splitlines()] == [
        "new"
    ]


@pytest.mark.slow
def test_retrain_uses_feedback_and_goes_through_the_gate(env: Settings, capsys) -> None:
    client = _site_with_traffic(env)
    try:
        for i in range(30):
            check = client.post(
                "/v1/comments/check",
                json={"content": f"Visit our partner site number {i} for exclusive widget deals"},
            ).json()
            client.post(f"/v1/comments/{check['id']}/feedback", json={"label": "spam"})
    finally:
        client.__exit__(None, None, None)
    code = main(["retrain", "-q"])
    output = capsys.readouterr().out
    assert "30 labelled comments from moderators' feedback" in output
    assert "gate:" in output
    versions = artifacts.list_versions(env.models_dir)
    new = [v for v in versions if v not in ("v1", "v2")]
    assert len(new) == 1
    card = artifacts.read_card(env.models_dir / new[0])
    feedback = [s for s in card["data"]["sources"] if s["name"] == "feedback"]
    assert feedback and feedback[0]["rows"] == 30 and feedback[0]["spam"] == 30
    assert card["gate"]["champion_version"] == "v1"
    promoted = artifacts.current_version(env.models_dir) == new[0]
    assert promoted == card["gate"]["passed"]
    assert code == (0 if promoted else 3)

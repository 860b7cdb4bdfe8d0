import json
from pathlib import Path

import pytest

from training import artifacts
from training.artifacts import ModelRejected


def _copy_model(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in (artifacts.MODEL_FILE, artifacts.CARD_FILE):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_card_records_what_users_need(default_model: artifacts.LoadedModel) -> None:
    card = default_model.card
    for key in ("version", "created_at", "libraries", "data", "params", "cutoffs", "evaluation"):
        assert key in card
    assert len(card["artifact"]["sha256"]) == 64
    assert all(len(s["sha256"]) == 64 and s["rows"] > 0 for s in card["data"]["sources"])
    assert (default_model.path / "report.md").is_file()
    for plot in ("precision_recall.png", "score_distribution.png", "confusion.png"):
        assert (default_model.path / plot).stat().st_size > 1000


def test_tampered_model_is_refused(default_model: artifacts.LoadedModel, tmp_path: Path) -> None:
    copy = _copy_model(default_model.path, tmp_path / "v")
    with (copy / artifacts.MODEL_FILE).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelRejected, match="checksum"):
        artifacts.load_model(copy)


def test_model_from_other_library_versions_is_refused(
    default_model: artifacts.LoadedModel, tmp_path: Path
) -> None:
    copy = _copy_model(default_model.path, tmp_path / "v")
    card = json.loads((copy / artifacts.CARD_FILE).read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (copy / artifacts.CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelRejected, match=r"scikit-learn 0\.24\.2"):
        artifacts.load_model(copy)


def test_missing_model_file_is_refused(
    default_model: artifacts.LoadedModel, tmp_path: Path
) -> None:
    copy = _copy_model(default_model.path, tmp_path / "v")
    (copy / artifacts.MODEL_FILE).unlink()
    with pytest.raises(ModelRejected, match="missing"):
        artifacts.load_model(copy)

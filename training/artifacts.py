"""Saved models: a version directory per model, a JSON card beside the joblib file, a registry.

joblib files are pickles: loading one runs code. So a model is loaded only after its SHA-256
matches the card, and only under the library versions it was trained with (scikit-learn does
not promise that a pickle from another version behaves the same).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy
import scipy
import sklearn
from sklearn.pipeline import Pipeline

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
CURRENT_FILE = "CURRENT"
HISTORY_FILE = "HISTORY"


class ModelRejected(RuntimeError):
    """A model that must not be served; the message says why."""


@dataclass(frozen=True, slots=True)
class LoadedModel:
    version: str
    pipeline: Pipeline
    card: dict[str, Any]
    path: Path


def library_versions() -> dict[str, str]:
    """Versions that must match between training and serving for a pickle to be trusted."""
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_version(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d-%H%M%S")


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_model(pipeline: Pipeline, card: dict[str, Any], models_dir: Path, version: str) -> Path:
    """Write ``models_dir/version/`` with the artifact and its card; returns the directory."""
    directory = models_dir / version
    directory.mkdir(parents=True, exist_ok=False)
    artifact = directory / MODEL_FILE
    joblib.dump(pipeline, artifact, compress=3)
    card = {
        **card,
        "version": version,
        "libraries": library_versions(),
        "artifact": {"file": MODEL_FILE, "sha256": sha256_file(artifact)},
    }
    _atomic_write(directory / CARD_FILE, json.dumps(card, indent=2, sort_keys=False) + "\n")
    return directory


def read_card(directory: Path) -> dict[str, Any]:
    try:
        card: dict[str, Any] = json.loads((directory / CARD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelRejected(f"{directory}: no {CARD_FILE}") from exc
    except json.JSONDecodeError as exc:
        raise ModelRejected(f"{directory / CARD_FILE}: not valid JSON ({exc})") from exc
    return card


def load_model(directory: Path) -> LoadedModel:
    """Verify checksum and library versions against the card, then unpickle."""
    card = read_card(directory)
    artifact = directory / card.get("artifact", {}).get("file", MODEL_FILE)
    if not artifact.is_file():
        raise ModelRejected(f"{artifact}: model file missing")
    expected = card.get("artifact", {}).get("sha256")
    actual = sha256_file(artifact)
    if not expected or actual != expected:
        raise ModelRejected(
            f"{artifact}: checksum {actual[:12]}… does not match the card's {str(expected)[:12]}…"
        )
    trained_with = card.get("libraries", {})
    running = library_versions()
    mismatched = {k: (v, running.get(k)) for k, v in trained_with.items() if running.get(k) != v}
    if mismatched:
        detail = ", ".join(f"{k} {a} (running {b})" for k, (a, b) in sorted(mismatched.items()))
        raise ModelRejected(f"{directory}: trained with other library versions: {detail}")
    try:
        pipeline = joblib.load(artifact)
    except Exception as exc:  # a verified file that still fails to unpickle
        raise ModelRejected(f"{artifact}: cannot be loaded: {exc}") from exc
    if not isinstance(pipeline, Pipeline):
        raise ModelRejected(f"{artifact}: not a scikit-learn Pipeline")
    return LoadedModel(version=card["version"], pipeline=pipeline, card=card, path=directory)


def list_versions(models_dir: Path) -> list[str]:
    """Versions with a card, oldest first."""
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if (p / CARD_FILE).is_file())


def current_version(models_dir: Path) -> str | None:
    try:
        version = (models_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def set_current(models_dir: Path, version: str) -> None:
    """Point the registry at ``version`` (atomic rename, so readers never see half a name)."""
    if not (models_dir / version / CARD_FILE).is_file():
        raise ModelRejected(f"{models_dir / version}: no such model version")
    _atomic_write(models_dir / CURRENT_FILE, version + "\n")
    with (models_dir / HISTORY_FILE).open("a", encoding="utf-8") as history:
        history.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {version}\n")


def previous_version(models_dir: Path) -> str | None:
    """The version that was current before the current one (for roll-back)."""
    try:
        lines = (models_dir / HISTORY_FILE).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return None
    versions = lines[1::2]
    current = current_version(models_dir)
    for version in reversed(versions):
        if version != current and (models_dir / version / CARD_FILE).is_file():
            return version
    return None

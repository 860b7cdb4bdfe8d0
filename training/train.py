"""Fit, evaluate on held-out data, choose cut-offs, save a versioned model with card and report."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training import artifacts
from training.data import REPO_ROOT, file_sha256, to_records
from training.evaluate import (
    CostPolicy,
    choose_cutoffs,
    evaluate_scores,
    grouped_folds,
    grouped_split,
)
from training.features import OPTIONAL_SIGNAL_FIELDS
from training.gate import compare
from training.pipeline import ModelParams, build_pipeline
from training.report import write_report

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    name: str
    path: str
    sha256: str
    rows: int
    spam: int
    weight: float


@dataclass(slots=True)
class TrainingRun:
    """What to train on and how; the result of ``train`` records all of it in the card."""

    frame: pd.DataFrame
    sources: list[SourceInfo]
    models_dir: Path
    params: ModelParams = field(default_factory=ModelParams)
    policy: CostPolicy = field(default_factory=CostPolicy)
    seed: int = 0
    cross_source: bool = False
    cutoff_folds: int = 4
    champion: artifacts.LoadedModel | None = None
    metadata_dropout: float = 0.3


def describe_source(name: str, path: Path, frame: pd.DataFrame, weight: float) -> SourceInfo:
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    return SourceInfo(
        name=name,
        path=str(shown),
        sha256=file_sha256(path),
        rows=len(frame),
        spam=int(frame["label"].sum()),
        weight=weight,
    )


# Some rows lose every field at once (this share of ``share``): without them only the public
# corpora would teach what a comment sent with its text alone looks like.
CONTENT_ONLY_SHARE = 0.2


def drop_metadata(frame: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """Blank each optional field of each row with probability ``share``, and all of them
    for a few rows.

    Clients send different subsets of the optional fields (the JSON API may get content
    alone, WordPress sends everything). Without this, the model would learn that a field's
    mere absence means something, which is an artefact of how each corpus was collected.
    """
    if share <= 0:
        return frame
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    bare = rng.random(len(frame)) < share * CONTENT_ONLY_SHARE
    for name in OPTIONAL_SIGNAL_FIELDS:
        drop = bare | (rng.random(len(frame)) < share)
        frame.loc[drop, name] = ""
    return frame


def _fit(pipeline: Any, frame: pd.DataFrame, *, dropout: float = 0.0, seed: int = 0) -> Any:
    frame = drop_metadata(frame, dropout, seed)
    return pipeline.fit(
        to_records(frame),
        frame["label"].to_numpy(),
        classifier__sample_weight=frame["weight"].to_numpy(),
    )


def spam_scores(pipeline: Any, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(pipeline.predict_proba(to_records(frame))[:, 1])


def out_of_fold_scores(run: TrainingRun, frame: pd.DataFrame) -> np.ndarray:
    """Scores of every row from a model that never saw its group (for choosing cut-offs)."""
    scores = np.zeros(len(frame))
    for i, (fit_rows, score_rows) in enumerate(
        grouped_folds(frame, n_splits=run.cutoff_folds, seed=run.seed), start=1
    ):
        log.info("cut-off fold %d/%d: fitting on %d rows", i, run.cutoff_folds, len(fit_rows))
        model = _fit(
            build_pipeline(run.params, seed=run.seed),
            frame.iloc[fit_rows],
            dropout=run.metadata_dropout,
            seed=run.seed + i,
        )
        scores[score_rows] = spam_scores(model, frame.iloc[score_rows])
    return scores


def metadata_means(pipeline: Any, frame: pd.DataFrame) -> dict[str, float]:
    """Mean value of each metadata signal in the training data.

    Reasons are measured against this typical comment, so a signal every comment has (a length,
    Latin script) is not reported as a reason unless this comment departs from the usual.
    """
    meta = pipeline.named_steps["features"].transformer_list[2][1]
    matrix = meta.transform(pipeline.named_steps["prepare"].transform(to_records(frame)))
    means = np.asarray(matrix.mean(axis=0)).ravel()
    names = meta.named_steps["vectorize"].feature_names_
    return {name: round(float(m), 6) for name, m in zip(names, means, strict=True) if m >= 0.01}


def train(run: TrainingRun) -> Path:
    """Train, evaluate and save one model version; returns its directory."""
    started = time.perf_counter()
    frame = run.frame.reset_index(drop=True)
    if frame["label"].nunique() < 2:
        raise ValueError("training data must contain both spam and ham")
    train_rows, test_rows = grouped_split(frame, seed=run.seed)
    train_part, test_part = frame.iloc[train_rows], frame.iloc[test_rows]
    log.info(
        "split: %d training rows, %d held-out rows (grouped by duplicate group)",
        len(train_part),
        len(test_part),
    )

    oof = out_of_fold_scores(run, train_part.reset_index(drop=True))
    cutoffs = choose_cutoffs(
        train_part["label"].to_numpy(), oof, run.policy, groups=train_part["group"].to_numpy()
    )
    log.info("cut-offs: %s", cutoffs)

    log.info("fitting on the training part (%d rows)", len(train_part))
    model = _fit(
        build_pipeline(run.params, seed=run.seed),
        train_part,
        dropout=run.metadata_dropout,
        seed=run.seed,
    )
    held_scores = spam_scores(model, test_part)
    y_test = test_part["label"].to_numpy()
    evaluation: dict[str, Any] = {
        "protocol": (
            "grouped split by a hash of each duplicate group (about 20% held out; near-"
            "duplicates never cross, and a group stays on its side in every later training), "
            f"{len(train_part)} training / {len(test_part)} held-out rows; cut-offs from "
            f"{run.cutoff_folds}-fold grouped out-of-fold scores of the training part; the "
            "served model is the one fitted on the training part and scored on the held-out part"
        ),
        "held_out": evaluate_scores(y_test, held_scores, cutoffs),
        "by_source": {
            name: evaluate_scores(y_test[mask], held_scores[mask], cutoffs)
            for name in sorted(test_part["source"].unique())
            if (mask := (test_part["source"] == name).to_numpy()).sum() > 0
        },
    }
    if run.cross_source and frame["source"].nunique() > 1:
        evaluation["cross_source"] = {}
        for name in sorted(frame["source"].unique()):
            held = frame["source"] == name
            log.info("cross-source: fitting without %s", name)
            other = _fit(
                build_pipeline(run.params, seed=run.seed),
                frame[~held],
                dropout=run.metadata_dropout,
                seed=run.seed,
            )
            evaluation["cross_source"][name] = evaluate_scores(
                frame.loc[held, "label"].to_numpy(), spam_scores(other, frame[held]), cutoffs
            )

    gate = compare(run.champion, model, cutoffs, test_part, run.policy)
    log.info("gate against %s: %s", gate.champion_version or "nothing", gate.reason)
    version = artifacts.new_version()
    suffix = 1
    while (run.models_dir / version).exists():
        version, suffix = f"{artifacts.new_version()}-{suffix}", suffix + 1
    card: dict[str, Any] = {
        "gate": gate.as_dict(),
        "feature_baseline": metadata_means(model, train_part),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": run.seed,
        "data": {
            "sources": [asdict(s) for s in run.sources],
            "rows": len(frame),
            "spam": int(frame["label"].sum()),
        },
        "params": run.params.as_dict(),
        "policy": asdict(run.policy),
        "metadata_dropout": run.metadata_dropout,
        "cutoffs": cutoffs.as_dict(),
        "evaluation": evaluation,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    directory = artifacts.save_model(model, card, run.models_dir, version)
    saved_card = artifacts.read_card(directory)
    write_report(directory, saved_card, y_test, held_scores, cutoffs)
    log.info("saved model %s in %.1f s", directory, time.perf_counter() - started)
    return directory


def summary(
    metrics: dict[str, Any],
    keys: Sequence[str] = ("roc_auc", "mcc", "blocked_ham", "recall", "recall_at_fpr_0.001"),
) -> str:
    return ", ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)

"""Scoring a comment: the model's probability, the verdict, and the reasons behind it.

Plain domain code (no FastAPI, no SQLAlchemy) so it is tested and benchmarked on its own.
The model is linear after calibration, so each feature's share of the calibrated log-odds is
exact: ``-a * w_j * x_j`` where ``a`` is the sigmoid calibration slope. Reasons are the
largest of those shares, measured against the training data's typical comment (the card's
``feature_baseline``) and labelled for a moderator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from training.artifacts import LoadedModel
from training.features import PreparedComment, feature_label
from training.verdicts import Cutoffs, Verdict

# Hashed columns (``training.outofcore``) have no names: their reasons name the kind of signal.
HASHED = "(hashed)"
HASHED_LABELS = {
    f"words__{HASHED}": ("word", "words and word pairs in the text"),
    f"chars__{HASHED}": ("chars", "spelling patterns in the text"),
    f"meta__{HASHED}": ("meta", "metadata signals (author, links, request)"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One signal and its weight in log-odds: positive pushes towards spam, negative towards ham."""

    feature: str
    label: str
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "label": self.label, "weight": round(self.weight, 4)}


@dataclass(frozen=True, slots=True)
class Score:
    score: float
    verdict: Verdict
    reasons: list[Reason] = field(default_factory=list)
    model_version: str = ""


class Scorer:
    """A loaded model, ready to score; immutable, so it can be swapped atomically on reload."""

    def __init__(self, model: LoadedModel, *, max_reasons: int = 6) -> None:
        self.model = model
        self.version = model.version
        self.max_reasons = max_reasons
        self.cutoffs = Cutoffs(**model.card["cutoffs"])
        pipeline = model.pipeline
        self._features = pipeline[:-1]
        calibrated = pipeline.named_steps["classifier"].calibrated_classifiers_[0]
        estimator = calibrated.estimator
        calibrator = calibrated.calibrators[0]
        # Calibrated log-odds = slope * (X @ coef + intercept) + offset.
        self._slope = float(-calibrator.a_)
        self._offset = float(-calibrator.b_)
        self._coef = np.asarray(estimator.coef_).ravel()
        self._intercept = float(np.asarray(estimator.intercept_).ravel()[0])
        self._names = self._feature_names()
        baseline = model.card.get("feature_baseline", {})
        self._baseline = np.zeros(len(self._names))
        index = {name: i for i, name in enumerate(self._names) if name.startswith("meta__")}
        for name, mean in baseline.items():
            if f"meta__{name}" in index:
                self._baseline[index[f"meta__{name}"]] = mean
        self._baseline_columns = np.flatnonzero(self._baseline)

    def _feature_names(self) -> np.ndarray:
        union = self._features.named_steps["features"]
        names: list[str] = []
        for branch, transformer in union.transformer_list:
            last = (
                transformer.steps[-1][1]
                if branch != "meta"
                else transformer.named_steps["vectorize"]
            )
            if branch == "meta" and hasattr(last, "feature_names_"):
                inner = list(last.feature_names_)
            elif hasattr(last, "get_feature_names_out"):
                inner = list(last.get_feature_names_out())
            else:  # hashed features (out-of-core model): one shared name per branch
                width = transformer.transform([PreparedComment(text="")]).shape[1]
                names.extend([f"{branch}__{HASHED}"] * width)
                continue
            names.extend(f"{branch}__{name}" for name in inner)
        return np.asarray(names, dtype=object)

    def log_odds(self, records: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, Any]:
        matrix = self._features.transform(list(records)).tocsr()
        raw = matrix @ self._coef + self._intercept
        return self._slope * np.asarray(raw).ravel() + self._offset, matrix

    def score_many(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        cutoffs: Cutoffs | None = None,
        explain: bool = True,
    ) -> list[Score]:
        cutoffs = cutoffs or self.cutoffs
        logits, matrix = self.log_odds(records)
        probabilities = expit(logits)
        results = []
        for row, probability in enumerate(probabilities):
            reasons = self._reasons(matrix, row) if explain else []
            results.append(
                Score(
                    score=float(probability),
                    verdict=cutoffs.verdict(float(probability)),
                    reasons=reasons,
                    model_version=self.version,
                )
            )
        return results

    def score(self, record: Mapping[str, Any], *, cutoffs: Cutoffs | None = None) -> Score:
        return self.score_many([record], cutoffs=cutoffs)[0]

    def _reasons(self, matrix: Any, row: int) -> list[Reason]:
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = dict(zip(matrix.indices[start:end], matrix.data[start:end], strict=True))
        for column in self._baseline_columns:
            values[column] = values.get(column, 0.0) - self._baseline[column]
        columns = np.fromiter(values, dtype=np.int64, count=len(values))
        deltas = np.fromiter(values.values(), dtype=float, count=len(values))
        shares = self._slope * self._coef[columns] * deltas
        grouped: dict[str, float] = {}
        labels: dict[str, str] = {}
        present = set(matrix.indices[start:end].tolist())
        for column, share in zip(columns, shares, strict=True):
            name = self._names[column]
            kind, label = HASHED_LABELS.get(name) or feature_label(name)
            key = "chars" if kind == "chars" else name
            grouped[key] = grouped.get(key, 0.0) + float(share)
            # A usual signal this comment lacks weighs too; say that it is absent.
            labels[key] = label if column in present else f"absent: {label}"
        ranked = sorted(grouped.items(), key=lambda item: abs(item[1]), reverse=True)
        return [
            Reason(feature=key, label=labels[key], weight=share)
            for key, share in ranked[: self.max_reasons]
            if abs(share) >= 0.05
        ]

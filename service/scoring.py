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
from training.fastpath import FastScorer, UnsupportedPipeline
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
        self._grouped = np.asarray(
            [(HASHED_LABELS.get(n) or feature_label(n))[0] == "chars" for n in self._names]
        )
        try:
            self._fast: FastScorer | None = FastScorer(pipeline)
        except UnsupportedPipeline:
            self._fast = None  # e.g. hashed (out-of-core) models: scored through the pipeline

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
        """Scores with reasons; the fast path gives the pipeline's probability (to 1e-9)."""
        cutoffs = cutoffs or self.cutoffs
        rows = self._rows(records) if explain else None
        if rows is not None:
            probabilities = [probability for probability, _, _ in rows]
        elif self._fast is not None:
            probabilities = self._fast.spam_probabilities(records).tolist()
        else:
            probabilities = expit(self.log_odds(records)[0]).tolist()
        return [
            Score(
                score=float(probability),
                verdict=cutoffs.verdict(float(probability)),
                reasons=self._reasons(rows[i][1], rows[i][2]) if rows is not None else [],
                model_version=self.version,
            )
            for i, probability in enumerate(probabilities)
        ]

    def _rows(
        self, records: Sequence[Mapping[str, Any]]
    ) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """(probability, feature columns, feature values) per record."""
        if self._fast is not None:
            results = [self._fast.explain(record) for record in records]
            return [(r.probability, r.indices, r.values) for r in results]
        logits, matrix = self.log_odds(records)
        return [
            (
                float(expit(logit)),
                matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]],
                matrix.data[matrix.indptr[i] : matrix.indptr[i + 1]],
            )
            for i, logit in enumerate(logits)
        ]

    def score(self, record: Mapping[str, Any], *, cutoffs: Cutoffs | None = None) -> Score:
        return self.score_many([record], cutoffs=cutoffs)[0]

    def _reasons(self, indices: np.ndarray, data: np.ndarray) -> list[Reason]:
        """The largest shares of the log-odds against the typical comment, labelled.

        Character n-grams are many and individually meaningless, so they are summed into one
        reason; only the few candidates that can make the list are labelled. The n-grams have
        no baseline (only metadata columns do), so the comparison with the typical comment
        runs over the other columns alone: a few dozen instead of the whole row.
        """
        indices, data = _sorted_row(np.asarray(indices, dtype=np.int64), np.asarray(data))
        grouped = self._grouped[indices]
        chars = float((self._slope * self._coef[indices[grouped]] * data[grouped]).sum())
        own = indices[~grouped]
        columns = np.union1d(own, self._baseline_columns)  # in order, as the row had them
        deltas = np.zeros(columns.size)
        deltas[np.searchsorted(columns, own)] = data[~grouped]
        deltas -= self._baseline[columns]
        shares = self._slope * self._coef[columns] * deltas
        top = np.argsort(-np.abs(shares))[: self.max_reasons]
        present = set(own.tolist())
        candidates = [(abs(chars), "chars", "spelling patterns in the text", chars)]
        for position in top.tolist():
            column = int(columns[position])
            name = self._names[column]
            _, label = HASHED_LABELS.get(name) or feature_label(name)
            # A usual signal this comment lacks weighs too; say that it is absent.
            label = label if column in present else f"absent: {label}"
            share = float(shares[position])
            candidates.append((abs(share), name, label, share))
        candidates.sort(key=lambda item: item[0], reverse=True)
        return [
            Reason(feature=name, label=label, weight=share)
            for magnitude, name, label, share in candidates[: self.max_reasons]
            if magnitude >= 0.05
        ]


def _sorted_row(indices: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row by increasing column, each column once (its last value), as a sparse matrix
    row would hold it; the fast path's rows already are."""
    if indices.size < 2 or bool((indices[1:] > indices[:-1]).all()):
        return indices, data
    order = np.argsort(indices, kind="stable")
    indices, data = indices[order], data[order]
    last = np.append(indices[1:] != indices[:-1], True)
    return indices[last], data[last]

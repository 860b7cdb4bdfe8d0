"""Held-out evaluation, duplicate-aware splits, and cost-based cut-offs."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedGroupKFold

from training.verdicts import Cutoffs

FPR_TARGETS = (0.01, 0.005, 0.001)


@dataclass(frozen=True, slots=True)
class CostPolicy:
    """What mistakes cost, and how common spam is where the model will run.

    A legitimate comment sent to the spam folder (false positive) costs ``false_positive``
    times a missed spam; holding one for a moderator costs ``hold`` times a missed spam.
    """

    spam_prior: float = 0.5
    false_positive: float = 20.0
    hold: float = 1.0
    max_spam_fpr: float = 0.005
    max_hold_fpr: float = 0.02
    discard_fpr: float = 0.001
    min_discard: float = 0.97


def is_held_out(group: str, *, test_share: float = 0.2, seed: int = 0) -> bool:
    """Whether a duplicate group belongs to the held-out part.

    Decided by a hash of the group alone, so a group's side never changes when rows are added:
    every model version trained on the same sources is tested on the same held-out rows, none
    of which it trained on, which is what makes champion/challenger comparisons fair.
    """
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_share


def grouped_split(
    frame: pd.DataFrame, *, test_share: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Train/test row indices; rows sharing a ``group`` are always on the same side."""
    held = np.fromiter(
        (is_held_out(g, test_share=test_share, seed=seed) for g in frame["group"]),
        dtype=bool,
        count=len(frame),
    )
    return np.flatnonzero(~held), np.flatnonzero(held)


def grouped_folds(
    frame: pd.DataFrame, *, n_splits: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(frame, frame["label"], frame["group"]))


def recall_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """Share of spam caught by the strictest threshold that blocks at most ``fpr`` of ham."""
    return (
        float(np.mean(scores[y == 1] > threshold_at_fpr(y, scores, fpr))) if (y == 1).any() else 0.0
    )


def threshold_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float) -> float:
    """Lowest threshold ``t`` such that the share of ham scoring above ``t`` is at most ``fpr``."""
    ham = np.sort(scores[y == 0])[::-1]
    if ham.size == 0:
        return 0.0
    allowed = int(np.floor(fpr * ham.size))
    return float(ham[allowed]) if allowed < ham.size else 0.0


def _class_weights(y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    """Each row's weight in its class's rates: 1, or 1/k for the k rows of a duplicate group.

    Copies of one text land in the same out-of-fold part and get the same score, so they are
    one observation of the model, not k. Counted k times, a single legitimate comment posted
    twice can decide the cut-off of a small training set on its own.
    """
    if groups is None:
        return np.ones(y.size)
    keys = pd.Series(np.asarray(groups)).astype(str) + "\x00" + pd.Series(y).astype(str)
    sizes = keys.map(keys.value_counts()).to_numpy(dtype=float)
    return 1.0 / sizes


def _rates_above(scores: np.ndarray, weights: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Weighted share of ``scores`` at or above each threshold."""
    order = np.argsort(scores, kind="stable")
    sorted_scores, sorted_weights = scores[order], weights[order]
    below = np.concatenate([[0.0], np.cumsum(sorted_weights)])
    first_at_or_above = np.searchsorted(sorted_scores, thresholds, side="left")
    total = below[-1]
    return (total - below[first_at_or_above]) / total if total > 0 else np.zeros(len(thresholds))


def choose_cutoffs(
    y: np.ndarray,
    scores: np.ndarray,
    policy: CostPolicy,
    groups: Sequence[str] | np.ndarray | None = None,
) -> Cutoffs:
    """Cut-offs minimising expected cost under ``policy`` on held-out scores.

    Rates are measured per class on held-out data and re-weighted to the stated prior, so the
    corpus's own spam share does not decide the cut-offs. With ``groups`` (duplicate groups),
    each group counts once within its class. A cap on blocked or held ham is never finer than
    one ham in the sample: with 120 ham, 0.5% would otherwise allow none at all, and the
    single highest-scoring ham would set the cut-off.
    """
    y = np.asarray(y)
    scores = np.asarray(scores, dtype=float)
    weights = _class_weights(y, None if groups is None else np.asarray(groups))
    candidates = np.unique(np.concatenate([np.linspace(0.05, 0.995, 190), scores]))
    candidates = candidates[(candidates > 0.05) & (candidates < 1.0)]
    ham, spam = y == 0, y == 1
    fpr = _rates_above(scores[ham], weights[ham], candidates)
    fnr = 1.0 - _rates_above(scores[spam], weights[spam], candidates) if spam.any() else 0.0
    one_ham = 1.0 / weights[ham].sum() if ham.any() else 1.0
    prior = policy.spam_prior

    def best(fp_cost: float, max_fpr: float) -> float:
        cost = fp_cost * (1 - prior) * fpr + prior * fnr
        allowed = fpr <= max(max_fpr, one_ham) + 1e-12
        if not allowed.any():
            return 0.999
        lowest = cost[allowed].min()
        # Of the cheapest cut-offs, the highest: the same cost for fewer blocked comments.
        return float(candidates[allowed & (cost <= lowest + 1e-12)].max())

    spam_cutoff = best(policy.false_positive, policy.max_spam_fpr)
    unsure = min(best(policy.hold, policy.max_hold_fpr), spam_cutoff)
    above_all_but = threshold_at_fpr(y, scores, policy.discard_fpr)
    discard = min(max(spam_cutoff, above_all_but + 1e-6, policy.min_discard), 1.0)
    # Rounded down: a cut-off chosen at a spam's score must still block that spam.
    return Cutoffs(unsure=_floor6(unsure), spam=_floor6(spam_cutoff), discard=_floor6(discard))


def _floor6(value: float) -> float:
    # The 1e-6 (of a millionth) keeps 0.29999999999999993 from a grid of floats at 0.3.
    return math.floor(value * 1e6 + 1e-6) / 1e6


def evaluate_scores(
    y: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, cutoffs: Cutoffs
) -> dict[str, float | int]:
    """Threshold-free and at-cut-off metrics; "blocked" means verdict spam or discard."""
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    blocked = (scores >= cutoffs.spam).astype(int)
    held = (scores >= cutoffs.unsure) & (scores < cutoffs.spam)
    both_classes = len(np.unique(y)) == 2
    tn, fp, fn, tp = confusion_matrix(y, blocked, labels=[0, 1]).ravel()
    result: dict[str, float | int] = {
        "n": int(y.size),
        "n_spam": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, scores)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(y, scores)) if both_classes else float("nan"),
        "accuracy": float(accuracy_score(y, blocked)),
        "precision": float(precision_score(y, blocked, zero_division=0)),
        "recall": float(recall_score(y, blocked, zero_division=0)),
        "f1": float(f1_score(y, blocked, zero_division=0)),
        "mcc": float(matthews_corrcoef(y, blocked)) if both_classes else float("nan"),
        "blocked_ham": float(fp / max(fp + tn, 1)),
        "held_ham": float(held[y == 0].mean()) if (y == 0).any() else 0.0,
        "held_spam": float(held[y == 1].mean()) if (y == 1).any() else 0.0,
        "tp": int(tp),
        "fp": int(fp),
        "tn": int(tn),
        "fn": int(fn),
    }
    for target in FPR_TARGETS:
        result[f"recall_at_fpr_{target:g}"] = recall_at_fpr(y, scores, target)
    return result

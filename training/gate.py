"""Champion/challenger gate: a new model is promoted only if it is not worse where it matters.

Both models are scored on the same held-out rows, which neither trained on (the split is a
hash of each duplicate group, so it is the same for every version trained on the same
sources; moderator feedback that falls on the held-out side is included). What matters is
spam recall at the ham false-positive rate the cut-offs are chosen for, and how much ham
each model blocks at its own cut-offs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from training.artifacts import LoadedModel
from training.data import to_records
from training.evaluate import CostPolicy, evaluate_scores, recall_at_fpr
from training.verdicts import Cutoffs

RECALL_TOLERANCE = 0.005  # noise allowance on recall; blocked ham gets none


@dataclass(frozen=True, slots=True)
class GateResult:
    passed: bool
    reason: str
    champion_version: str | None
    rows: int
    fpr: float
    champion_recall: float | None
    challenger_recall: float
    champion_blocked_ham: float | None
    challenger_blocked_ham: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    champion: LoadedModel | None,
    challenger: Any,
    challenger_cutoffs: Cutoffs,
    held_out: pd.DataFrame,
    policy: CostPolicy,
) -> GateResult:
    y = held_out["label"].to_numpy()
    records = to_records(held_out)
    fpr = policy.max_spam_fpr
    new_scores = np.asarray(challenger.predict_proba(records)[:, 1])
    new_recall = recall_at_fpr(y, new_scores, fpr)
    new_blocked = float(evaluate_scores(y, new_scores, challenger_cutoffs)["blocked_ham"])
    if champion is None:
        return GateResult(
            True, "no current model", None, len(y), fpr, None, new_recall, None, new_blocked
        )
    old_scores = np.asarray(champion.pipeline.predict_proba(records)[:, 1])
    old_recall = recall_at_fpr(y, old_scores, fpr)
    old_cutoffs = Cutoffs(**champion.card["cutoffs"])
    old_blocked = float(evaluate_scores(y, old_scores, old_cutoffs)["blocked_ham"])
    problems = []
    if new_recall < old_recall - RECALL_TOLERANCE:
        problems.append(
            f"spam recall at {fpr:.1%} ham FPR fell from {old_recall:.4f} to {new_recall:.4f}"
        )
    if new_blocked > max(old_blocked, fpr):
        problems.append(
            f"blocked ham at its cut-offs rose from {old_blocked:.4f} to {new_blocked:.4f}"
        )
    reason = "; ".join(problems) or (
        f"recall at {fpr:.1%} FPR {new_recall:.4f} (current {old_recall:.4f}), blocked ham "
        f"{new_blocked:.4f} (current {old_blocked:.4f})"
    )
    return GateResult(
        passed=not problems,
        reason=reason,
        champion_version=champion.version,
        rows=len(y),
        fpr=fpr,
        champion_recall=old_recall,
        challenger_recall=new_recall,
        champion_blocked_ham=old_blocked,
        challenger_blocked_ham=new_blocked,
    )

import math

import numpy as np
import pandas as pd

from training.evaluate import (
    CostPolicy,
    choose_cutoffs,
    evaluate_scores,
    grouped_split,
    recall_at_fpr,
)


def test_grouped_split_never_splits_a_group() -> None:
    frame = pd.DataFrame({"label": [0, 1] * 50, "group": [f"g{i // 4}" for i in range(100)]})
    train, test = grouped_split(frame, seed=1)
    assert set(frame["group"].iloc[train]).isdisjoint(frame["group"].iloc[test])
    assert len(test) > 0


def test_recall_at_fpr_respects_the_false_positive_budget() -> None:
    y = np.array([0] * 1000 + [1] * 100)
    rng = np.random.default_rng(0)
    scores = np.concatenate([rng.uniform(0, 0.6, 1000), rng.uniform(0.4, 1.0, 100)])
    recall = recall_at_fpr(y, scores, 0.01)
    assert 0 < recall < 1
    assert recall_at_fpr(y, scores, 0.001) <= recall


def test_cutoffs_are_ordered_and_keep_blocked_ham_under_budget() -> None:
    rng = np.random.default_rng(0)
    y = np.array([0] * 2000 + [1] * 2000)
    scores = np.concatenate([rng.beta(2, 8, 2000), rng.beta(8, 2, 2000)])
    policy = CostPolicy()
    cutoffs = choose_cutoffs(y, scores, policy)
    assert cutoffs.unsure <= cutoffs.spam <= cutoffs.discard
    metrics = evaluate_scores(y, scores, cutoffs)
    assert metrics["blocked_ham"] <= policy.max_spam_fpr
    assert 0.5 < metrics["recall"] < 1


def test_higher_false_positive_cost_raises_the_spam_cutoff() -> None:
    rng = np.random.default_rng(1)
    y = np.array([0] * 2000 + [1] * 2000)
    scores = np.concatenate([rng.beta(2, 5, 2000), rng.beta(5, 2, 2000)])
    cheap = choose_cutoffs(y, scores, CostPolicy(false_positive=1, max_spam_fpr=1))
    dear = choose_cutoffs(y, scores, CostPolicy(false_positive=50, max_spam_fpr=1))
    assert dear.spam > cheap.spam


def _cutoff_by_definition(y: np.ndarray, scores: np.ndarray, fp_cost: float, cap: float) -> float:
    """The spam cut-off as first written: a loop over thresholds, ham rows counted one by one
    and the cap applied as given (no floor of one ham)."""
    candidates = np.unique(np.concatenate([np.linspace(0.05, 0.995, 190), scores]))
    best_t, best_cost = 0.999, np.inf
    for t in candidates[(candidates > 0.05) & (candidates < 1.0)]:
        fpr = float((scores[y == 0] >= t).mean())
        fnr = float((scores[y == 1] < t).mean())
        if fpr > cap:
            continue
        cost = fp_cost * 0.5 * fpr + 0.5 * fnr
        if cost < best_cost - 1e-12 or (abs(cost - best_cost) <= 1e-12 and t > best_t):
            best_t, best_cost = float(t), cost
    return best_t


def _floor6(value: float) -> float:
    return math.floor(value * 1e6) / 1e6


def _small_video() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """120 ham and 120 spam, as in one YouTube video's training part: 118 ham texts score
    below 0.5 and one more text, posted twice, scores 0.999; 84 spam score above it and 36
    between 0.6 and 0.95."""
    rng = np.random.default_rng(3)
    ham = np.concatenate([rng.uniform(0.01, 0.5, 118), [0.999, 0.999]])
    spam = np.concatenate([rng.uniform(0.9992, 0.9999, 84), rng.uniform(0.6, 0.95, 36)])
    y = np.array([0] * 120 + [1] * 120)
    groups = np.array(
        [f"h{i}" for i in range(118)] + ["copied", "copied"] + [f"s{i}" for i in range(120)]
    )
    return y, np.concatenate([ham, spam]), groups


def test_one_copied_ham_no_longer_sets_the_cutoff_of_a_small_training_set() -> None:
    y, scores, groups = _small_video()
    policy = CostPolicy()
    # Counted row by row, the two copies are 1.7% of ham: more than the cap allows, and
    # dearer than the 30% of spam below them, so the cut-off sits above 0.999.
    assert choose_cutoffs(y, scores, policy).spam > 0.999
    # Counted once, the copied text is one blocked ham in 119 (the cap's floor allows one),
    # which costs less than missing 30% of spam.
    grouped = choose_cutoffs(y, scores, policy, groups=groups)
    assert 0.5 < grouped.spam <= scores[y == 1].min()
    caught = evaluate_scores(y, scores, grouped)
    assert caught["recall"] == 1.0
    assert caught["fp"] == 2


def test_the_cap_on_blocked_ham_is_never_finer_than_one_ham() -> None:
    rng = np.random.default_rng(4)
    y = np.array([0] * 100 + [1] * 100)
    scores = np.concatenate([rng.uniform(0.0, 0.4, 99), [0.99], rng.uniform(0.5, 0.999, 100)])
    policy = CostPolicy(false_positive=2)
    # 0.5% of 100 ham is no ham at all: the old rule had to go above the one high ham.
    assert _cutoff_by_definition(y, scores, 2, policy.max_spam_fpr) > 0.99
    cutoffs = choose_cutoffs(y, scores, policy)
    assert 0.4 < cutoffs.spam <= scores[y == 1].min()
    assert evaluate_scores(y, scores, cutoffs)["blocked_ham"] == 0.01


def test_thousands_of_ham_leave_the_cutoffs_as_first_defined() -> None:
    rng = np.random.default_rng(5)
    y = np.array([0] * 4000 + [1] * 1500)
    scores = np.round(np.concatenate([rng.beta(1.5, 9, 4000), rng.beta(6, 1.5, 1500)]), 4)
    distinct = np.array([f"g{i}" for i in range(5500)])
    for policy in (CostPolicy(), CostPolicy(false_positive=5), CostPolicy(false_positive=50)):
        expected = _cutoff_by_definition(y, scores, policy.false_positive, policy.max_spam_fpr)
        assert choose_cutoffs(y, scores, policy).spam == _floor6(expected)
        assert choose_cutoffs(y, scores, policy, groups=distinct).spam == _floor6(expected)

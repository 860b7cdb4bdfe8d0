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

"""The default model's score is a probability: among held-out comments scored about p, about
p are spam. Moderators read it, sites set cut-offs on it and reputation shifts its log-odds."""

import numpy as np
import pandas as pd
import pytest

from training.artifacts import LoadedModel
from training.data import available_public, load_authored, load_public
from training.evaluate import grouped_split
from training.train import spam_scores

BINS = np.linspace(0.0, 1.0, 11)


@pytest.fixture(scope="module")
def held_out_scores(default_model: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the rows the default model was not trained on (its card's held-out part)."""
    assert {"youtube", "sms"} <= set(available_public()), "the public corpora must be readable"
    frame = pd.concat(
        [load_authored(), load_public("youtube"), load_public("sms")], ignore_index=True
    )
    _, test = grouped_split(frame)
    held = frame.iloc[test]
    return held["label"].to_numpy(), spam_scores(default_model.pipeline, held)


def reliability(y: np.ndarray, scores: np.ndarray) -> list[tuple[float, float, int]]:
    """(mean score, share of spam, rows) per tenth of the score range."""
    which = np.clip(np.digitize(scores, BINS) - 1, 0, len(BINS) - 2)
    return [
        (float(scores[which == b].mean()), float(y[which == b].mean()), int((which == b).sum()))
        for b in range(len(BINS) - 1)
        if (which == b).any()
    ]


def test_expected_calibration_error_is_small(held_out_scores) -> None:
    y, scores = held_out_scores
    table = reliability(y, scores)
    error = sum(n * abs(mean - share) for mean, share, n in table) / len(y)
    assert error < 0.03, table


def test_scores_above_one_half_are_mostly_spam_and_below_mostly_ham(held_out_scores) -> None:
    """The failure this guards against: folds cut along the sources calibrated on cross-corpus
    predictions, and comments scored 0.4 were all spam."""
    y, scores = held_out_scores
    populated = [(mean, share, n) for mean, share, n in reliability(y, scores) if n >= 20]
    assert len(populated) >= 4, populated  # the check below must look at most of the range
    for mean, share, n in populated:
        assert abs(mean - share) < 0.25, (mean, share, n)

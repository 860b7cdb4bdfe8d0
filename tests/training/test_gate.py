"""The champion/challenger gate refuses a worse model and accepts an equal or better one."""

import pandas as pd
import pytest

from training.artifacts import LoadedModel
from training.data import available_public, load_public
from training.evaluate import CostPolicy, grouped_split, is_held_out
from training.gate import compare
from training.pipeline import ModelParams, build_pipeline
from training.verdicts import Cutoffs


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    assert "youtube" in available_public(), "the public corpora must be readable in tests"
    frame = load_public("youtube")
    _, test = grouped_split(frame)
    return frame.iloc[test]


def test_split_is_stable_when_rows_are_added() -> None:
    groups = [f"g{i}" for i in range(2000)]
    first = {g for g in groups if is_held_out(g)}
    more = groups + [f"new{i}" for i in range(500)]
    assert first == {g for g in more if is_held_out(g) and g.startswith("g")}
    assert 0.15 < len(first) / len(groups) < 0.25


def test_same_model_passes(default_model: LoadedModel, held_out: pd.DataFrame) -> None:
    cutoffs = Cutoffs(**default_model.card["cutoffs"])
    result = compare(default_model, default_model.pipeline, cutoffs, held_out, CostPolicy())
    assert result.passed, result.reason
    assert result.challenger_recall == result.champion_recall


def test_worse_model_fails(default_model: LoadedModel, held_out: pd.DataFrame) -> None:
    weak_data = pd.DataFrame(
        {
            "content": ["great video", "subscribe to my channel", "love it", "check out my page"]
            * 5,
            "label": [0, 1, 0, 1] * 5,
        }
    )
    weak = build_pipeline(ModelParams(min_df=1, calibration_folds=2)).fit(
        [{"content": text} for text in weak_data["content"]], weak_data["label"]
    )
    cutoffs = Cutoffs(**default_model.card["cutoffs"])
    result = compare(default_model, weak, cutoffs, held_out, CostPolicy())
    assert not result.passed
    assert "fell from" in result.reason or "rose from" in result.reason

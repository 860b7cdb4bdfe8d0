"""Reasons: what the scorer says against the definition in ``service.scoring``'s docstring."""

from __future__ import annotations

import numpy as np
import pytest

from service.scoring import HASHED_LABELS, Scorer
from training.artifacts import LoadedModel
from training.features import feature_label

COMMENTS = [
    {"content": "Great post, thanks for sharing!"},
    {
        "content": "Buy cheap viagra online http://rx-meds.example/buy no prescription",
        "author_name": "cheap pills",
        "author_email": "deals@rx-meds.example",
        "user_ip": "203.0.113.9",
    },
    {
        "content": "I tried this recipe but the dough was sticky. <b>More flour?</b>",
        "author_name": "Anna K.",
        "author_url": "https://anna.example",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    },
    {"content": "ok"},
]


@pytest.fixture(scope="module")
def scorer(default_model: LoadedModel) -> Scorer:
    return Scorer(default_model)


def reference_reasons(scorer: Scorer, record: dict[str, str]) -> list[tuple[str, str, float]]:
    """Every column's share of the log-odds against the typical comment, the character
    n-grams summed into one, the largest ``max_reasons`` of at least 0.05 kept."""
    row = scorer._features.transform([record]).tocsr()
    x = np.asarray(row.todense()).ravel()
    present = set(row.indices.tolist())  # a metadata value of 0 given is not "absent"
    shares = scorer._slope * scorer._coef * (x - scorer._baseline)
    chars = float(shares[scorer._grouped].sum())
    candidates = [(abs(chars), "chars", "spelling patterns in the text", chars)]
    for column in np.flatnonzero(~scorer._grouped & (shares != 0)):
        name = scorer._names[column]
        label = (HASHED_LABELS.get(name) or feature_label(name))[1]
        label = label if column in present else f"absent: {label}"
        candidates.append((abs(shares[column]), name, label, float(shares[column])))
    candidates.sort(key=lambda item: item[0], reverse=True)
    return [
        (name, label, share)
        for magnitude, name, label, share in candidates[: scorer.max_reasons]
        if magnitude >= 0.05
    ]


@pytest.mark.parametrize("record", COMMENTS)
def test_reasons_are_the_largest_shares_against_the_typical_comment(
    scorer: Scorer, record: dict[str, str]
) -> None:
    (score,) = scorer.score_many([record])
    got = [(r.feature, r.label, r.weight) for r in score.reasons]
    expected = reference_reasons(scorer, record)
    assert [(name, label) for name, label, _ in got] == [(n, lab) for n, lab, _ in expected]
    assert [w for _, _, w in got] == pytest.approx([w for _, _, w in expected], abs=1e-9)


def test_a_row_out_of_order_with_a_repeated_column_gives_the_same_reasons(
    scorer: Scorer,
) -> None:
    """As a sparse matrix holds it: by column, each once (the last value given counts)."""
    assert scorer._fast is not None
    result = scorer._fast.explain(COMMENTS[1])
    order = np.random.default_rng(7).permutation(result.indices.size)
    indices = np.append(result.indices[order], result.indices[0])
    values = np.append(result.values[order], result.values[0])
    values[np.flatnonzero(indices == result.indices[0])[0]] = 99.0  # overwritten by the last
    assert scorer._reasons(indices, values) == scorer._reasons(result.indices, result.values)

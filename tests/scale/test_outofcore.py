"""The out-of-core training path on small data: streaming, the served shape, the CLI, serving.

One model is trained per module through the command line (``--out-of-core``) on a few hundred
authored comments split across a CSV and a JSON Lines file, so both readers are exercised.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from fastapi.testclient import TestClient
from sklearn.feature_extraction.text import TfidfTransformer

from service.app import create_app
from service.scoring import HASHED, Scorer
from service.settings import Settings
from training import artifacts
from training.__main__ import main as training_main
from training.data import AUTHORED_CORPUS, DataError
from training.evaluate import is_held_out
from training.outofcore import (
    HashedIdf,
    OutOfCoreParams,
    StreamSource,
    mixed_chunks,
    source_chunks,
)

ROWS = 700


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A site's export in two files: the first half as CSV, the rest as JSON Lines."""
    frame = pd.read_json(AUTHORED_CORPUS, lines=True, dtype=False)
    frame = frame.sample(n=ROWS, random_state=1).reset_index(drop=True)
    directory = tmp_path_factory.mktemp("export")
    csv, jsonl = directory / "part1.csv", directory / "part2.jsonl"
    frame.iloc[: ROWS // 2].to_csv(csv, index=False)
    frame.iloc[ROWS // 2 :].to_json(jsonl, orient="records", lines=True, force_ascii=False)
    return csv, jsonl


@pytest.fixture(scope="module")
def registry(export: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("ooc-models")
    argv = ["-q", "train", "--out-of-core", "--no-default-data", "--models-dir", str(models)]
    for path in export:
        argv += ["--data", str(path)]
    assert training_main(argv) == 0
    return models


@pytest.fixture(scope="module")
def model(registry: Path) -> artifacts.LoadedModel:
    version = artifacts.current_version(registry)
    assert version
    return artifacts.load_model(registry / version)


def test_chunks_never_exceed_the_chunk_size(export: tuple[Path, Path]) -> None:
    csv, jsonl = export
    sources = [StreamSource("a", csv), StreamSource("b", jsonl, weight=3.0)]
    for source in sources:
        sizes = [len(c) for c in source_chunks(source, 100)]
        assert max(sizes) == 100 and sum(sizes) == ROWS // 2
    params = OutOfCoreParams(chunksize=64, shuffle_rows=200)
    chunks = list(mixed_chunks(sources, params, seed=0, split_seed=0))
    assert max(len(c) for c in chunks) <= 64
    frame = pd.concat(chunks)
    assert len(frame) == ROWS and set(frame["source"]) == {"a", "b"}
    assert set(frame.loc[frame["source"] == "b", "weight"]) == {3.0}
    # The held-out part is the in-memory path's: the same hash of the duplicate group.
    expected = np.array([is_held_out(g, test_share=0.2, seed=0) for g in frame["group"]])
    assert ((frame["part"] == "test").to_numpy() == expected).all()
    # Sources are interleaved within the first shuffle window, not read one after the other.
    assert set(chunks[0]["source"]) == {"a", "b"}


def test_a_bad_label_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame(
        {"content": ["fine", "also fine", "hm"], "label": ["spam", "ham", "maybe"]}
    ).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"bad\.csv: row 4, column 'label'"):
        list(source_chunks(StreamSource("bad", path), 2))


def test_hashed_idf_matches_sklearn_tfidf() -> None:
    counts = sp.csr_matrix(np.array([[1, 0, 3, 0], [2, 2, 0, 0], [0, 1, 1, 5]], dtype=float))
    ours = HashedIdf().partial_fit(counts[:2]).partial_fit(counts[2:]).transform(counts)
    theirs = TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts)
    np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-12)


def test_the_model_has_the_served_shape(model: artifacts.LoadedModel) -> None:
    pipeline = model.pipeline
    assert list(pipeline.named_steps) == ["prepare", "features", "classifier"]
    union = pipeline.named_steps["features"]
    assert [name for name, _ in union.transformer_list] == ["words", "chars", "meta"]
    card = model.card
    assert card["trainer"] == "out-of-core"
    held = card["evaluation"]["held_out"]
    assert held["n"] > 0 and held["roc_auc"] > 0.9
    assert card["data"]["rows"] == ROWS
    probabilities = pipeline.predict_proba(
        [{"content": "Buy cheap pills now http://pills.example.ru"}, {"content": "Nice post!"}]
    )[:, 1]
    assert probabilities[0] > probabilities[1]


def test_the_scorer_reproduces_the_pipeline_and_labels_hashed_reasons(
    model: artifacts.LoadedModel,
) -> None:
    scorer = Scorer(model)
    records = [
        {"content": "CHEAP replica watches!!! visit http://watches.example.ru/buy now"},
        {"content": "Thanks, the second step of the recipe was very clear.", "author_name": "Ann"},
    ]
    expected = model.pipeline.predict_proba(records)[:, 1]
    scores = scorer.score_many(records)
    np.testing.assert_allclose([s.score for s in scores], expected, rtol=1e-9)
    labels = {r.feature for s in scores for r in s.reasons}
    assert labels <= {f"words__{HASHED}", "chars", f"meta__{HASHED}"}
    assert labels


def test_the_service_serves_an_out_of_core_model(registry: Path, tmp_path: Path) -> None:
    settings = Settings(
        models_dir=registry,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        admin_token="test-admin-token",
        model_reload_seconds=0,
    )
    with TestClient(create_app(settings)) as client:
        storage = client.app.state.moderation.storage
        site = storage.create_site(url="https://blog.example")
        _, key = storage.create_key(site_id=site.id)
        response = client.post(
            "/v1/comments/check",
            json={"content": "Great deals on replica watches: http://watches.example.ru"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model_version"] == artifacts.current_version(registry)
        assert body["reasons"]


def test_reservoir_keeps_a_uniform_sample_of_a_stream() -> None:
    from training.outofcore import _Reservoir

    kept = np.zeros(60)
    for seed in range(400):
        reservoir = _Reservoir(6, seed)
        for start in range(0, 60, 7):  # frames of uneven size, as chunks arrive
            reservoir.add(pd.DataFrame({"i": range(start, min(start + 7, 60))}))
        assert reservoir.seen == 60 and len(reservoir.rows) == 6
        assert len({row["i"] for row in reservoir.rows}) == 6
        kept[[row["i"] for row in reservoir.rows]] += 1
    # Each row is kept with probability 6/60; 400 draws: 40 expected, sd about 6.
    assert kept.min() > 15 and kept.max() < 65
    assert abs(kept[:30].sum() - kept[30:].sum()) < 200  # no bias to early or late rows


def test_cutoffs_count_each_duplicate_group_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the in-memory trainer: the calibration rows' duplicate groups reach choose_cutoffs."""
    import training.outofcore as outofcore

    frame = pd.read_json(AUTHORED_CORPUS, lines=True, dtype=False)
    # One row per group: an obfuscated variant shares its source's group but not its text.
    frame = frame.drop_duplicates("group").sample(n=300, random_state=2).reset_index(drop=True)
    copies = frame.iloc[:100]  # 100 texts posted three times each
    frame = pd.concat([frame, copies, copies], ignore_index=True).sample(frac=1, random_state=3)
    path = tmp_path / "copies.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)

    calls: list[dict[str, np.ndarray]] = []
    real = outofcore.choose_cutoffs

    def spy(y, scores, policy, groups=None):  # type: ignore[no-untyped-def]
        calls.append({"y": np.asarray(y), "scores": np.asarray(scores), "groups": groups})
        return real(y, scores, policy, groups=groups)

    monkeypatch.setattr(outofcore, "choose_cutoffs", spy)
    models = tmp_path / "models"
    argv = ["-q", "train", "--out-of-core", "--no-default-data", "--models-dir", str(models)]
    assert training_main([*argv, "--data", str(path)]) == 0

    (call,) = calls
    assert call["groups"] is not None
    groups = pd.Series(np.asarray(call["groups"]))
    # The calibration rows, read independently: their groups' sizes must be what was passed.
    chunks = mixed_chunks([StreamSource("copies", path)], OutOfCoreParams(), seed=0, split_seed=0)
    calibration = pd.concat(chunks).query("part == 'calibration'")
    expected_sizes = sorted(calibration["group"].value_counts())
    assert len(groups) == len(call["y"]) == len(calibration)
    assert sorted(groups.value_counts()) == expected_sizes
    assert expected_sizes.count(3) >= 3  # the copies are there to be counted once
    # Rows passed as one group are copies: one label and one score.
    for _, rows in groups.groupby(groups).groups.items():
        assert len(set(call["y"][rows])) == 1
        assert np.ptp(call["scores"][rows]) < 1e-12

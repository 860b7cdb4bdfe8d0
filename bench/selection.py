"""Model selection: compare ``ModelParams`` settings by grouped cross-validation, one for all.

    python -m bench.selection C=2,8,32 min_df=1,2 char_ngrams=2-5,3-6

Each setting (the default ``ModelParams`` with one field changed; or the full grid with
``--grid``) is scored by grouped cross-validation only, never on the published protocol's test
rows: per YouTube video, 4-fold grouped CV inside the oldest 70% (the newest 30% is never
read); leave one video out over those same training parts; SMS and authored grouped 5-fold
(seed 1, not the SMS benchmark's folds). Cross-corpus pairs are benchmark test sets and are
not used. Threshold-free metrics plus MCC at 0.5, without cut-off selection, so a setting
costs one fit per fold. Writes ``bench/reports/selection.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPORTS_DIR, facts_markdown, load_corpora, md_table, run_facts, text_table
from bench.quality import VIDEOS, measure, published_split
from training.data import to_records
from training.evaluate import grouped_folds
from training.pipeline import ModelParams, build_pipeline

log = logging.getLogger("bench.selection")

CV_SEED = 1  # not the SMS benchmark's seed 0, so its folds differ from the benchmark's


def parse_value(field: dataclasses.Field[Any], text: str) -> Any:
    default = field.default
    if isinstance(default, tuple):
        low, high = text.split("-")
        return (int(low), int(high))
    return type(default)(text)


def settings(specs: list[str], grid: bool) -> Iterator[tuple[str, ModelParams]]:
    fields = {f.name: f for f in dataclasses.fields(ModelParams)}
    options: dict[str, list[Any]] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in fields or not values:
            raise SystemExit(
                f"{spec!r}: expected FIELD=V1,V2 with FIELD one of {', '.join(fields)}"
            )
        options[name] = [parse_value(fields[name], v) for v in values.split(",")]
    yield "default", ModelParams()
    if grid:
        for combo in itertools.product(*options.values()):
            changes = dict(zip(options, combo, strict=True))
            label = ", ".join(f"{k}={v}" for k, v in changes.items())
            yield label, dataclasses.replace(ModelParams(), **changes)
    else:
        for name, values in options.items():
            for value in values:
                params = dataclasses.replace(ModelParams(), **{name: value})
                if params != ModelParams():
                    yield f"{name}={value}", params


def scores(params: ModelParams, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    pipeline = build_pipeline(params).fit(to_records(train), train["label"].to_numpy())
    return np.asarray(pipeline.predict_proba(to_records(test))[:, 1])


def pooled(
    params: ModelParams, splits: list[tuple[pd.DataFrame, pd.DataFrame]]
) -> dict[str, float]:
    ys, ss = [], []
    for train, test in splits:
        ys.append(test["label"].to_numpy())
        ss.append(scores(params, train, test))
    y, s = np.concatenate(ys), np.concatenate(ss)
    return measure(y, s, s >= 0.5)


def evaluate(params: ModelParams, frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if "youtube" in frames:
        youtube = frames["youtube"]
        training_parts = {v: published_split(youtube[youtube["video"] == v])[0] for v in VIDEOS}
        per_video = [pooled(params, _folds(part, n_splits=4)) for part in training_parts.values()]
        out["youtube per video, CV in the oldest 70% (mean)"] = {
            key: float(np.mean([m[key] for m in per_video])) for key in per_video[0]
        }
        out["youtube leave one video out, oldest 70%"] = pooled(
            params,
            [
                (pd.concat([p for w, p in training_parts.items() if w != v]), part)
                for v, part in training_parts.items()
            ],
        )
    for name in ("sms", "authored"):
        if name in frames:
            out[f"{name} grouped 5-fold"] = pooled(params, _folds(frames[name], n_splits=5))
    return out


def _folds(frame: pd.DataFrame, *, n_splits: int) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    frame = frame.reset_index(drop=True)
    return [
        (frame.iloc[a], frame.iloc[b])
        for a, b in grouped_folds(frame, n_splits=n_splits, seed=CV_SEED)
    ]


COLUMNS = (("roc_auc", "AUC"), ("mcc", "MCC@0.5"), ("recall_at_fpr_0.005", "R@0.5%"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.selection", description=__doc__)
    parser.add_argument("specs", nargs="*", help="FIELD=V1,V2 (tuples as LOW-HIGH)")
    parser.add_argument("--grid", action="store_true", help="every combination, not one at a time")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    facts = run_facts("python -m bench.selection " + " ".join(args.specs))
    frames = load_corpora().frames
    results: dict[str, dict[str, dict[str, float]]] = {}
    started = time.perf_counter()
    for label, params in settings(args.specs, args.grid):
        log.info("evaluating %s", label)
        results[label] = evaluate(params, frames)
    benches = list(next(iter(results.values())))
    headers = ["benchmark", "metric", *results]
    rows = [
        [bench, short, *(f"{r[bench][key]:.3f}" for r in results.values())]
        for bench in benches
        for key, short in COLUMNS
    ]
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    report = [
        "# Model selection",
        "",
        f"{len(results)} settings in {(time.perf_counter() - started) / 60:.1f} min.",
        "",
        facts_markdown(facts),
        "",
        md_table(headers, rows),
        "",
    ]
    (REPORTS_DIR / "selection.md").write_text("\n".join(report), encoding="utf-8")
    print(text_table(headers, rows))
    print(f"\nreport: {REPORTS_DIR / 'selection.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

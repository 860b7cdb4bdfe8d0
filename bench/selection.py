"""Model selection: compare ``ModelParams`` settings on the grouped protocols, one setting for all.

    python -m bench.selection C=2,8,32 min_df=1,2 char_ngrams=2-5,3-6

Each setting (the default ``ModelParams`` with one field changed; or the full grid with
``--grid``) is fitted once per split of: YouTube per video (published protocol), YouTube leave
one video out, SMS grouped 5-fold, authored grouped 5-fold (when present) and every
cross-corpus pair. Threshold-free metrics plus MCC at 0.5 are reported, without cut-off
selection, so a setting costs one fit per split. Writes ``bench/reports/selection.md``.
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

PAIRS = [(a, b) for a in ("youtube", "sms", "authored") for b in ("youtube", "sms", "authored")]


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
        per_video = [
            pooled(params, [published_split(youtube[youtube["video"] == v])]) for v in VIDEOS
        ]
        out["youtube per video (mean)"] = {
            key: float(np.mean([m[key] for m in per_video])) for key in per_video[0]
        }
        out["youtube leave one video out"] = pooled(
            params,
            [(youtube[youtube["video"] != v], youtube[youtube["video"] == v]) for v in VIDEOS],
        )
    for name in ("sms", "authored"):
        if name in frames:
            frame = frames[name].reset_index(drop=True)
            out[f"{name} grouped 5-fold"] = pooled(
                params,
                [(frame.iloc[a], frame.iloc[b]) for a, b in grouped_folds(frame, n_splits=5)],
            )
    for source, target in PAIRS:
        if source != target and source in frames and target in frames:
            out[f"{source}→{target}"] = pooled(params, [(frames[source], frames[target])])
    return out


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

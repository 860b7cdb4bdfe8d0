"""Detection quality against published results and baselines, every protocol in one run.

    python -m bench.quality [--only youtube-published,sms-5fold,...]

Writes ``bench/reports/quality.md`` (with PNG plots and ``quality.json``) and prints a summary.
Protocols, metrics and models are described in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    matthews_corrcoef,
    roc_auc_score,
    roc_curve,
)

from bench.baselines import SPAMBAYES_PACKAGE, Model, SpamBayes, all_models
from bench.common import (
    CITATIONS,
    PUBLISHED_SMS_SVM_ACCURACY,
    PUBLISHED_YOUTUBE,
    PUBLISHED_YOUTUBE_MEAN_MCC,
    REPORTS_DIR,
    Corpora,
    facts_markdown,
    load_corpora,
    md_table,
    num,
    pct,
    run_facts,
    text_table,
)
from training.evaluate import FPR_TARGETS, grouped_folds, recall_at_fpr

log = logging.getLogger("bench.quality")

OURS = "Sluice (own cut-offs)"
OURS_HALF = "Sluice (0.5)"
TRAIN_SHARE = 0.7  # the published YouTube protocol: oldest 70% of each class train
VIDEOS = tuple(PUBLISHED_YOUTUBE)


@dataclass
class Split:
    name: str
    train: pd.DataFrame
    test: pd.DataFrame


@dataclass
class Benchmark:
    key: str
    title: str
    protocol: str
    splits: list[Split]
    per_split: bool = False  # report every split (videos) as well as the pooled result


@dataclass
class Outcome:
    """Test labels, scores and decisions of one model row, over one or more splits."""

    y: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    blocked: list[np.ndarray] = field(default_factory=list)
    seconds: float = 0.0
    cutoffs: list[float] = field(default_factory=list)  # Sluice's spam cut-off per split

    def pooled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.concatenate(self.y), np.concatenate(self.scores), np.concatenate(self.blocked)


def measure(y: np.ndarray, scores: np.ndarray, blocked: np.ndarray) -> dict[str, float]:
    """Every metric of the report for one set of test predictions."""
    y = np.asarray(y, dtype=int)
    blocked = np.asarray(blocked, dtype=bool)
    spam, ham = y == 1, y == 0
    both = bool(spam.any() and ham.any())
    result = {
        "n": float(y.size),
        "n_spam": float(spam.sum()),
        "accuracy": float(accuracy_score(y, blocked)),
        "mcc": float(matthews_corrcoef(y, blocked)) if both else math.nan,
        "spam_caught": float(blocked[spam].mean()) if spam.any() else math.nan,
        "blocked_ham": float(blocked[ham].mean()) if ham.any() else math.nan,
        "roc_auc": float(roc_auc_score(y, scores)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, scores)) if both else math.nan,
    }
    for target in FPR_TARGETS:
        result[f"recall_at_fpr_{target:g}"] = recall_at_fpr(y, np.asarray(scores), target)
    return result


# ---------------------------------------------------------------------------- the protocols


def published_split(video: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oldest 70% of each class (file order: the files are chronological) train, newest 30% test.

    File order rather than ``date``: Eminem's spam has no date at all (see PROVENANCE.md).
    """
    train_parts, test_parts = [], []
    for _, part in video.groupby("label"):
        part = part.sort_values("row_in_file")
        n_train = int(len(part) * TRAIN_SHARE + 0.5)
        train_parts.append(part.iloc[:n_train])
        test_parts.append(part.iloc[n_train:])
    return pd.concat(train_parts), pd.concat(test_parts)


def benchmarks(corpora: Corpora) -> Iterator[Benchmark]:
    frames = corpora.frames
    if "youtube" in frames:
        youtube = frames["youtube"]
        yield Benchmark(
            key="youtube-published",
            title="YouTube Spam Collection, published protocol (per video)",
            protocol=(
                "Per video, the oldest 70% of each class (file order, which the publisher states "
                "is chronological) train and the newest 30% test, as in the TubeSpam paper. "
                "Duplicates are not removed (as published); the last column counts test rows "
                "whose text also occurs in the training part."
            ),
            splits=[
                Split(video, *published_split(youtube[youtube["video"] == video]))
                for video in VIDEOS
            ],
            per_split=True,
        )
        yield Benchmark(
            key="youtube-lovo",
            title="YouTube, leave one video out (pooled)",
            protocol=(
                "Train on four videos, test on the fifth; the five test sets are pooled. "
                "Duplicates of a test comment inside the training videos are left in (a real "
                "new video gets the same copy-paste spam)."
            ),
            splits=[
                Split(video, youtube[youtube["video"] != video], youtube[youtube["video"] == video])
                for video in VIDEOS
            ],
        )
    if "sms" in frames:
        sms = frames["sms"].reset_index(drop=True)
        yield Benchmark(
            key="sms-5fold",
            title="SMS Spam Collection, 5-fold grouped cross-validation (pooled)",
            protocol=(
                "Stratified 5-fold cross-validation grouped by `text_group`, so duplicate "
                "messages never sit on both sides; out-of-fold predictions pooled."
            ),
            splits=[
                Split(f"fold {i}", sms.iloc[train], sms.iloc[test])
                for i, (train, test) in enumerate(grouped_folds(sms, n_splits=5, seed=0), 1)
            ],
        )
    pairs = [("youtube", "sms"), ("sms", "youtube"), ("authored", "youtube"), ("authored", "sms")]
    for source, target in pairs:
        if source in frames and target in frames:
            yield Benchmark(
                key=f"cross-{source}-{target}",
                title=f"Cross-corpus: train on {source}, test on {target}",
                protocol=f"Fit on all of {source}, score all of {target}.",
                splits=[Split(f"{source}→{target}", frames[source], frames[target])],
            )


# ------------------------------------------------------------------------------- running


def run_benchmark(
    bench: Benchmark, make_models: Callable[[], list[Model]]
) -> dict[str, dict[str, Outcome]]:
    """Split name (and "pooled") → model row → outcome."""
    per_split: dict[str, dict[str, Outcome]] = {}
    pooled: dict[str, Outcome] = {}
    for split in bench.splits:
        per_split[split.name] = {}
        y = split.test["label"].to_numpy()
        for model in make_models():
            started = time.perf_counter()
            model.fit(split.train)
            scores = model.scores(split.test)
            seconds = time.perf_counter() - started
            cutoffs = getattr(model, "cutoffs", None)
            spam_cutoff = [cutoffs.spam] if cutoffs is not None else []
            for row, blocked in model.decisions(scores).items():
                one = Outcome([y], [scores], [blocked], seconds, spam_cutoff)
                per_split[split.name][row] = one
                total = pooled.setdefault(row, Outcome())
                total.y.append(y)
                total.scores.append(scores)
                total.blocked.append(blocked)
                total.seconds += seconds
                total.cutoffs += spam_cutoff
        log.info("%s / %s done", bench.key, split.name)
    return {**per_split, "pooled": pooled}


def overlap(split: Split) -> int:
    seen = set(split.train["group"])
    return int(split.test["group"].isin(seen).sum())


def summarise(outcomes: dict[str, Outcome]) -> dict[str, dict[str, Any]]:
    return {
        row: {**measure(*o.pooled()), "seconds": o.seconds, "spam_cutoffs": o.cutoffs}
        for row, o in outcomes.items()
    }


def best_baseline(rows: dict[str, dict[str, float]], metric: str = "mcc") -> tuple[str, float]:
    candidates = {k: v[metric] for k, v in rows.items() if not k.startswith("Sluice")}
    name = max(candidates, key=lambda k: -math.inf if math.isnan(candidates[k]) else candidates[k])
    return name, candidates[name]


METRIC_COLUMNS = (
    ("accuracy", "accuracy", pct),
    ("mcc", "MCC", num),
    ("spam_caught", "spam caught", pct),
    ("blocked_ham", "blocked ham", pct),
    ("roc_auc", "ROC-AUC", lambda v: num(v, 4)),
    ("pr_auc", "PR-AUC", lambda v: num(v, 4)),
    *(
        (f"recall_at_fpr_{t:g}", f"recall @ FPR {100 * t:g}%", lambda v: pct(v, 1))
        for t in FPR_TARGETS
    ),
)


def metrics_table(rows: dict[str, dict[str, float]], *, markdown: bool = True) -> str:
    headers = ["model", *(label for _, label, _ in METRIC_COLUMNS), "fit+score s"]
    body = [
        [name, *(fmt(values[key]) for key, _, fmt in METRIC_COLUMNS), f"{values['seconds']:.1f}"]
        for name, values in rows.items()
    ]
    return md_table(headers, body) if markdown else text_table(headers, body)


def video_table(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "video",
        "published best acc / MCC",
        "Sluice own cut-offs acc / MCC",
        "Sluice 0.5 acc / MCC",
        "best baseline here (acc / MCC)",
        "Sluice spam cut-off",
        "test rows also in train",
    ]
    body = []
    for video in VIDEOS:
        rows = result["splits"][video]
        acc, mcc = PUBLISHED_YOUTUBE[video]
        name, _ = best_baseline(rows)
        body.append(
            [
                video,
                f"{pct(acc)} / {mcc:.3f}",
                f"{pct(rows[OURS]['accuracy'])} / {num(rows[OURS]['mcc'])}",
                f"{pct(rows[OURS_HALF]['accuracy'])} / {num(rows[OURS_HALF]['mcc'])}",
                f"{name}: {pct(rows[name]['accuracy'])} / {num(rows[name]['mcc'])}",
                num(rows[OURS]["spam_cutoffs"][0]),
                str(result["overlap"][video]),
            ]
        )
    means = {
        row: float(np.mean([result["splits"][v][row]["mcc"] for v in VIDEOS]))
        for row in (OURS, OURS_HALF)
    }
    body.append(
        [
            "**mean MCC**",
            f"{PUBLISHED_YOUTUBE_MEAN_MCC:.3f}",
            num(means[OURS]),
            num(means[OURS_HALF]),
            "",
            "",
            "",
        ]
    )
    return headers, body


# ----------------------------------------------------------------------------- targets


def targets(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """The quality targets of the issue, each with its measured value for both decision rules."""
    lines: list[list[str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    if "youtube-published" in results:
        splits = results["youtube-published"]["splits"]
        for row_label in (OURS, OURS_HALF):
            below = [v for v in VIDEOS if splits[v][row_label]["mcc"] < PUBLISHED_YOUTUBE[v][1]]
            mean = float(np.mean([splits[v][row_label]["mcc"] for v in VIDEOS]))
            lines.append(
                [
                    f"YouTube published protocol, MCC ≥ published on every video ({row_label})",
                    "below on: " + (", ".join(below) or "none"),
                    verdict(not below),
                ]
            )
            lines.append(
                [f"YouTube published protocol, mean MCC ≥ 0.95 ({row_label})", num(mean), ""]
            )
            lines[-1][2] = verdict(mean >= 0.95)
    if "youtube-lovo" in results:
        pooled = results["youtube-lovo"]["pooled"]
        for row_label in (OURS, OURS_HALF):
            mcc = pooled[row_label]["mcc"]
            lines.append(
                [
                    f"Leave one video out, pooled MCC ≥ 0.90 ({row_label})",
                    num(mcc),
                    verdict(mcc >= 0.9),
                ]
            )
    if "sms-5fold" in results:
        pooled = results["sms-5fold"]["pooled"]
        for row_label in (OURS, OURS_HALF):
            acc, fpr = pooled[row_label]["accuracy"], pooled[row_label]["blocked_ham"]
            lines.append(
                [
                    f"SMS accuracy ≥ 98.5% with blocked ham ≤ 0.3% ({row_label})",
                    f"{pct(acc)}, blocked ham {pct(fpr)}",
                    verdict(acc >= 0.985 and fpr <= 0.003),
                ]
            )
    for key in ("cross-youtube-sms", "cross-sms-youtube"):
        if key in results:
            pooled = results[key]["pooled"]
            bow = {k: v for k, v in pooled.items() if k.startswith("BoW")}
            name, best = best_baseline(bow)
            for row_label in (OURS, OURS_HALF):
                gain = pooled[row_label]["mcc"] - best
                lines.append(
                    [
                        f"{results[key]['title']}: MCC ≥ best bag of words + 0.10 ({row_label})",
                        f"{num(pooled[row_label]['mcc'])} vs {name} {num(best)} ({gain:+.3f})",
                        verdict(gain >= 0.10),
                    ]
                )
    for row_label in (OURS, OURS_HALF):
        worse = []
        for key, result in results.items():
            groups = {"pooled": result["pooled"]}
            if result.get("per_split"):
                groups.update(result["splits"])
            for group, rows in groups.items():
                name, best = best_baseline(rows)
                if rows[row_label]["mcc"] < best:
                    where = key if group == "pooled" else f"{key}/{group}"
                    worse.append(f"{where} ({num(rows[row_label]['mcc'])} < {name} {num(best)})")
        lines.append(
            [
                f"Never worse than the best baseline on any row, by MCC ({row_label})",
                "; ".join(worse) or "none worse",
                verdict(not worse),
            ]
        )
    return lines


# ------------------------------------------------------------------------------- plots


def plot_mcc(results: dict[str, dict[str, Any]], path: Any) -> None:
    keys = list(results)
    models = list(results[keys[0]]["pooled"])
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(keys)), 4.5))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        values = [results[k]["pooled"].get(model, {}).get("mcc", math.nan) for k in keys]
        ax.bar(np.arange(len(keys)) + i * width, values, width, label=model)
    ax.set_xticks(np.arange(len(keys)) + 0.4 - width / 2, keys, rotation=20, ha="right")
    ax.set(ylabel="MCC (pooled)", ylim=(min(0, ax.get_ylim()[0]), 1), title="MCC by benchmark")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_roc(outcomes: dict[str, dict[str, dict[str, Outcome]]], path: Any) -> None:
    keys = [k for k in outcomes if k != "youtube-published"]
    if not keys:
        return
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax, key in zip(axes.ravel(), keys, strict=False):
        for model, outcome in outcomes[key]["pooled"].items():
            if model == OURS_HALF:
                continue
            y, scores, _ = outcome.pooled()
            fpr, tpr, _ = roc_curve(y, scores)
            ax.plot(np.maximum(fpr, 1e-4), tpr, label=model.replace(" (own cut-offs)", ""))
        for target in FPR_TARGETS:
            ax.axvline(target, color="grey", linewidth=0.6, linestyle=":")
        ax.set(xscale="log", xlim=(1e-4, 1), ylim=(0, 1.01), title=key, xlabel="ham blocked")
        ax.set_ylabel("spam caught")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(keys) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_videos(result: dict[str, Any], path: Any) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(VIDEOS))
    series = {
        "published best (TubeSpam)": [PUBLISHED_YOUTUBE[v][1] for v in VIDEOS],
        OURS: [result["splits"][v][OURS]["mcc"] for v in VIDEOS],
        OURS_HALF: [result["splits"][v][OURS_HALF]["mcc"] for v in VIDEOS],
        "best baseline here": [best_baseline(result["splits"][v])[1] for v in VIDEOS],
    }
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series.items()):
        ax.bar(x + i * width, values, width, label=label)
    ax.set_xticks(x + 0.4 - width / 2, VIDEOS)
    lowest = min(min(values) for values in series.values())
    ax.set(
        ylabel="MCC",
        ylim=(max(0.0, lowest - 0.05), 1.0),
        title="YouTube, published protocol: MCC per video",
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ report


def write_report(
    results: dict[str, dict[str, Any]],
    corpora: Corpora,
    facts: dict[str, Any],
    seconds: float,
) -> str:
    out: list[str] = [
        "# Sluice quality benchmark",
        "",
        f"Produced by `{facts['command']}` in {seconds / 60:.1f} min.",
        "",
        facts_markdown(facts),
        "",
        "## Data",
        "",
    ]
    for name, frame in corpora.frames.items():
        out.append(
            f"- {name}: {len(frame)} rows, {int(frame['label'].sum())} spam, "
            f"sha256 `{corpora.checksums[name][:16]}…`"
        )
    for name, why in corpora.missing.items():
        out.append(f"- {name}: **not used** — {why}")
    out += [
        "",
        "## Models",
        "",
        "- **Sluice (own cut-offs)**: `training.pipeline.build_pipeline()` with the default "
        "`ModelParams` (one configuration for every corpus and video); blocked = score ≥ the "
        "spam cut-off chosen by `choose_cutoffs` (default `CostPolicy`: a blocked legitimate "
        "comment costs 20 missed spams, at most 0.5% of ham blocked but never less than one "
        "ham; copies of one text count once) on 4-fold grouped "
        "out-of-fold scores of the training part only. **Sluice (0.5)**: the same scores at 0.5, "
        "the usual classifier decision, for comparison with published numbers.",
        "- **BoW + …**: TubeSpam-style bag of words — `CountVectorizer()` on the raw text into "
        "multinomial NB, Bernoulli NB, logistic regression or `LinearSVC`, library defaults.",
    ]
    if SpamBayes.available():
        out.append(
            f"- **SpamBayes**: classifier and tokenizer from `{SPAMBAYES_PACKAGE}` (a Python 3 "
            "packaging of the SpamBayes classifier); blocked = probability ≥ 0.90, its own "
            "`spam_cutoff`. The `spambayes` package itself (1.1b3) fails to build on Python 3.11."
        )
    else:
        out.append(
            f"- **SpamBayes: not run** — `{SPAMBAYES_PACKAGE}` is not installed "
            "(`pip install sbclassifier==0.1.1`); the `spambayes` package does not build on 3.11."
        )
    out += ["", "## Targets", ""]
    out.append(md_table(["target", "measured", "status"], targets(results)))
    out += ["", "![MCC by benchmark](quality_mcc.png)", ""]
    for key, result in results.items():
        out += [f"## {result['title']}", "", result["protocol"], ""]
        if key == "youtube-published":
            headers, body = video_table(result)
            out += [md_table(headers, body), "", "![per video](quality_videos.png)", ""]
            out.append(
                "Published: best of seven classifiers chosen per video (TubeSpam, Table III). "
                "Sluice uses one configuration for all videos."
            )
            out.append("")
            for video in VIDEOS:
                out += [f"### {video}", "", metrics_table(result["splits"][video]), ""]
            out += ["### All five test sets pooled", ""]
        if key == "sms-5fold":
            out += [
                f"Published: SVM accuracy {pct(PUBLISHED_SMS_SVM_ACCURACY)} (Almeida et al. "
                "2011, a single 30% hold-out, not grouped).",
                "",
            ]
        out += [metrics_table(result["pooled"]), ""]
        cutoffs = result["pooled"][OURS]["spam_cutoffs"]
        out += [
            "Sluice's spam cut-off, chosen on each training part: "
            + ", ".join(num(c) for c in cutoffs)
            + ".",
            "",
        ]
    out += ["## ROC curves (pooled test sets)", "", "![ROC](quality_roc.png)", ""]
    out += ["## Citations", "", *(f"- {text}" for text in CITATIONS.values()), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--only", help="comma-separated benchmark keys (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.perf_counter()
    facts = run_facts("python -m bench.quality" + (f" --only {args.only}" if args.only else ""))
    corpora = load_corpora()
    wanted = set(args.only.split(",")) if args.only else None
    results: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[str, dict[str, Outcome]]] = {}
    for bench in benchmarks(corpora):
        if wanted and bench.key not in wanted:
            continue
        log.info("running %s", bench.key)
        outcome = run_benchmark(bench, all_models)
        outcomes[bench.key] = outcome
        results[bench.key] = {
            "title": bench.title,
            "protocol": bench.protocol,
            "per_split": bench.per_split,
            "pooled": summarise(outcome["pooled"]),
            "splits": {s.name: summarise(outcome[s.name]) for s in bench.splits},
            "overlap": {s.name: overlap(s) for s in bench.splits},
        }
    if not results:
        print("no benchmark ran: are the corpora in SLUICE_DATASETS_DIR?")
        return 2
    seconds = time.perf_counter() - started
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    plot_mcc(results, REPORTS_DIR / "quality_mcc.png")
    plot_roc(outcomes, REPORTS_DIR / "quality_roc.png")
    if "youtube-published" in results:
        plot_videos(results["youtube-published"], REPORTS_DIR / "quality_videos.png")
    report = write_report(results, corpora, facts, seconds)
    (REPORTS_DIR / "quality.md").write_text(report, encoding="utf-8")
    (REPORTS_DIR / "quality.json").write_text(
        json.dumps({"facts": facts, "results": results}, indent=1, default=float) + "\n",
        encoding="utf-8",
    )
    for key, result in results.items():
        print(f"\n== {key}: {result['title']}")
        print(metrics_table(result["pooled"], markdown=False))
    print("\n== targets")
    print(text_table(["target", "measured", "status"], targets(results)))
    print(f"\nreport: {REPORTS_DIR / 'quality.md'} ({seconds / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

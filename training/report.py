"""Evaluation report beside a model: plots as PNG and a Markdown page that links them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve

from training.verdicts import Cutoffs


def _pr_curve(y: np.ndarray, scores: np.ndarray, cutoffs: Cutoffs, path: Path) -> None:
    precision, recall, thresholds = precision_recall_curve(y, scores)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision, color="#2b6cb0")
    for name, value in cutoffs.as_dict().items():
        index = min(np.searchsorted(thresholds, value), len(thresholds) - 1)
        ax.scatter(recall[index], precision[index], zorder=3)
        ax.annotate(
            name, (recall[index], precision[index]), textcoords="offset points", xytext=(5, -10)
        )
    ax.set(xlabel="spam recall", ylabel="precision", title="Precision–recall (held-out)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _distributions(y: np.ndarray, scores: np.ndarray, cutoffs: Cutoffs, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 4))
    bins = np.linspace(0, 1, 41)
    ax.hist(scores[y == 0], bins=bins, alpha=0.6, label="ham", color="#38a169")
    ax.hist(scores[y == 1], bins=bins, alpha=0.6, label="spam", color="#e53e3e")
    for name, value in cutoffs.as_dict().items():
        ax.axvline(value, linestyle="--", color="black", linewidth=0.8)
        ax.text(value, ax.get_ylim()[1] * 0.9, name, rotation=90, ha="right", fontsize=8)
    ax.set(
        xlabel="spam score", ylabel="comments", title="Score distribution by class", yscale="log"
    )
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _confusion(y: np.ndarray, scores: np.ndarray, cutoffs: Cutoffs, path: Path) -> None:
    verdicts = ["ham", "unsure", "spam", "discard"]
    counts = np.zeros((2, 4), dtype=int)
    for label, score in zip(y, scores, strict=True):
        counts[int(label), verdicts.index(cutoffs.verdict(float(score)).value)] += 1
    fig, ax = plt.subplots(figsize=(5, 2.8))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(4), verdicts)
    ax.set_yticks(range(2), ["ham", "spam"])
    ax.set(xlabel="verdict", ylabel="true label", title="Verdicts at the chosen cut-offs")
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, str(value), ha="center", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _table(rows: dict[str, dict[str, Any]], keys: list[str]) -> str:
    lines = ["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, metrics in rows.items():
        cells = [
            f"{metrics[k]:.4f}" if isinstance(metrics.get(k), float) else str(metrics.get(k, ""))
            for k in keys
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


METRIC_KEYS = [
    "n",
    "roc_auc",
    "pr_auc",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "mcc",
    "blocked_ham",
    "held_ham",
    "recall_at_fpr_0.01",
    "recall_at_fpr_0.005",
    "recall_at_fpr_0.001",
]


def _gate(card: dict[str, Any]) -> str:
    gate = card.get("gate")
    if not gate:
        return "not run"
    verdict = "passed" if gate["passed"] else "failed"
    against = gate["champion_version"] or "no current model"
    return f"{verdict} against {against} on {gate['rows']} held-out rows: {gate['reason']}."


def write_report(
    directory: Path, card: dict[str, Any], y: np.ndarray, scores: np.ndarray, cutoffs: Cutoffs
) -> Path:
    """Plots of the held-out scores plus ``report.md``; returns the report path."""
    _pr_curve(y, scores, cutoffs, directory / "precision_recall.png")
    _distributions(y, scores, cutoffs, directory / "score_distribution.png")
    _confusion(y, scores, cutoffs, directory / "confusion.png")
    evaluation = card["evaluation"]
    sources = "\n".join(
        f"- `{s['name']}`: {s['rows']} rows ({s['spam']} spam), weight {s['weight']}, "
        f"sha256 `{s['sha256'][:16]}…`"
        for s in card["data"]["sources"]
    )
    held_out = {
        "held-out (all sources)": evaluation["held_out"],
        **{
            f"held-out, {name}": metrics
            for name, metrics in evaluation.get("by_source", {}).items()
        },
    }
    cross = evaluation.get("cross_source", {})
    text = f"""# Evaluation report: model {card["version"]}

Created {card["created_at"]}. Seed {card["seed"]}.

## Data
{sources}

Split: {evaluation["protocol"]}

## Cut-offs
Chosen on out-of-fold scores of the training part for a spam prior of {card["policy"]["spam_prior"]}
and a false positive costing {card["policy"]["false_positive"]}× a missed spam:
`unsure` ≥ {cutoffs.unsure:.4f}, `spam` ≥ {cutoffs.spam:.4f}, `discard` ≥ {cutoffs.discard:.4f}.
"Blocked" below means verdict `spam` or `discard`; "held" means `unsure`.

## Held-out metrics
{_table(held_out, METRIC_KEYS)}

## Cross-source (trained without that source, tested on it)
{_table(cross, METRIC_KEYS) if cross else "not run (use --cross-source)"}

## Promotion gate
{_gate(card)}

## Plots
![precision–recall](precision_recall.png)
![score distribution](score_distribution.png)
![confusion](confusion.png)
"""
    path = directory / "report.md"
    path.write_text(text, encoding="utf-8")
    return path

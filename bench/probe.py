"""Score the blind probe set (data/probe) with the served model and print a Markdown report.

    python -m bench.probe [--models-dir DIR] [--probe FILE]

The probe set is never trained on, so this shows how the default model does on blog traffic
written apart from its training corpus: once on the text alone and once with the metadata a
blog sends, to see how much of the verdict the metadata carry.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from service.scoring import Scorer
from training.artifacts import current_version, load_model
from training.data import REPO_ROOT
from training.features import COMMENT_FIELDS
from training.verdicts import Verdict

PROBE = REPO_ROOT / "data" / "probe" / "blog_comments.jsonl"
# A URL with a scheme, a www. host or a host on a common TLD, or an HTML/BBCode anchor.
LINK = re.compile(
    r"https?://|\bwww\.|\b[\w-]+\.(com|net|org|co|shop|store|site|xyz|top|io|in|de|it|nl|pl|ru|jp|es|vn)"
    r"\b|<a\s|\[url",
    re.IGNORECASE,
)
MODES = ("content only", "with metadata")


@dataclass(frozen=True, slots=True)
class Scored:
    row: dict[str, str]
    score: float
    verdict: Verdict


def load_probe(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def record(row: dict[str, str], *, metadata: bool) -> dict[str, str]:
    """The comment as the service would receive it; without metadata only its text."""
    if not metadata:
        return {"content": row["content"]}
    return {field: row[field] for field in COMMENT_FIELDS if row.get(field)}


def score_rows(scorer: Scorer, rows: Sequence[dict[str, str]], *, metadata: bool) -> list[Scored]:
    scores = scorer.score_many([record(r, metadata=metadata) for r in rows], explain=False)
    return [Scored(row, s.score, s.verdict) for row, s in zip(rows, scores, strict=True)]


def rates(scored: Sequence[Scored]) -> tuple[int, float, float]:
    """(rows, share with a spam verdict, share held as unsure)."""
    n = len(scored)
    if not n:
        return 0, float("nan"), float("nan")
    flagged = sum(s.verdict.is_spam for s in scored) / n
    held = sum(s.verdict is Verdict.UNSURE for s in scored) / n
    return n, flagged, held


def auc(scored: Sequence[Scored]) -> float:
    labels = np.array([s.row["label"] == "spam" for s in scored])
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, [s.score for s in scored]))


def pct(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f}%"


def cell(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    flat = flat if len(flat) <= width else flat[: width - 1] + "…"
    return flat.replace("|", "\\|").replace("`", "'")


def summary_table(results: dict[str, list[Scored]]) -> list[str]:
    lines = [
        "| mode | spam caught | spam held | ham blocked | ham held | ROC-AUC |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, scored in results.items():
        _, caught, spam_held = rates([s for s in scored if s.row["label"] == "spam"])
        _, blocked, ham_held = rates([s for s in scored if s.row["label"] == "ham"])
        lines.append(
            f"| {mode} | {pct(caught)} | {pct(spam_held)} | {pct(blocked)} | {pct(ham_held)} "
            f"| {auc(scored):.3f} |"
        )
    return lines


def group_table(results: dict[str, list[Scored]], key: str) -> list[str]:
    """Per group: the share with a spam verdict and the share held, in both modes."""
    header = (
        "| label | "
        + key
        + " | rows | "
        + " | ".join(f"spam verdict ({m}) | held ({m})" for m in results)
    )
    lines = [header + " |", "| --- | --- | ---: |" + " ---: | ---: |" * len(results)]
    first = next(iter(results.values()))
    groups = sorted({(s.row["label"], s.row[key]) for s in first})
    for label, value in groups:
        cells = []
        n = 0
        for scored in results.values():
            n, flagged, held = rates(
                [s for s in scored if s.row["label"] == label and s.row[key] == value]
            )
            cells += [pct(flagged), pct(held)]
        lines.append(f"| {label} | {value} | {n} | " + " | ".join(cells) + " |")
    return lines


def mistakes(scored: Sequence[Scored]) -> list[Scored]:
    """Spam let through as ham, and ham sent to the spam folder (held rows are not mistakes)."""
    wrong = [
        s
        for s in scored
        if (s.row["label"] == "spam" and s.verdict is Verdict.HAM)
        or (s.row["label"] == "ham" and s.verdict.is_spam)
    ]
    return sorted(wrong, key=lambda s: (s.row["label"], -s.score))


def report(results: dict[str, list[Scored]], *, version: str, cutoffs: str, path: Path) -> str:
    first = next(iter(results.values()))
    n_spam = sum(s.row["label"] == "spam" for s in first)
    lines = [
        f"# Probe set: {path.name}",
        "",
        f"Model {version} (cut-offs {cutoffs}); {len(first)} rows, {n_spam} spam, "
        f"{len(first) - n_spam} ham. *Caught* and *blocked* are verdicts spam or discard; "
        "*held* is unsure.",
        "",
        *summary_table(results),
        "",
        "## Per kind",
        "",
        *group_table(results, "kind"),
        "",
        "## With and without a link in the text",
        "",
        *group_table(results, "link"),
        "",
        "## English and other languages",
        "",
        *group_table(results, "language"),
    ]
    for mode, scored in results.items():
        wrong = mistakes(scored)
        lines += [
            "",
            f"## Misclassified ({mode}): {len(wrong)}",
            "",
            "| id | score | verdict | content |",
            "| --- | ---: | --- | --- |",
        ]
        lines += [
            f"| {s.row['id']} | {s.score:.3f} | {s.verdict.value} | {cell(s.row['content'])} |"
            for s in wrong
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe", description=__doc__)
    parser.add_argument(
        "--models-dir",
        default=os.environ.get("SLUICE_MODELS_DIR", str(REPO_ROOT / "models")),
        help="model registry (default: $SLUICE_MODELS_DIR or models/)",
    )
    parser.add_argument("--probe", default=str(PROBE), help="probe set (JSON Lines)")
    args = parser.parse_args(argv)
    models_dir = Path(args.models_dir)
    version = current_version(models_dir)
    if version is None:
        print(f"{models_dir}: no CURRENT model; train one with python -m training train")
        return 2
    scorer = Scorer(load_model(models_dir / version))
    path = Path(args.probe)
    rows = load_probe(path)
    for row in rows:  # a handful of rows per other language: pooled, or the rates mean little
        row["language"] = "en" if row["lang"] == "en" else "other"
        row["link"] = "link" if LINK.search(row["content"]) else "no link"
    results = {mode: score_rows(scorer, rows, metadata=mode == "with metadata") for mode in MODES}
    cutoffs = "/".join(f"{v:.3f}" for v in scorer.cutoffs.as_dict().values())
    sys.stdout.write(report(results, version=version, cutoffs=cutoffs, path=path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

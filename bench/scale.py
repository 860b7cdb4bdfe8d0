"""Training at scale: the out-of-core path's time, peak memory and accuracy cost.

    .venv/bin/python -m bench.scale                       # compare on the corpora, 100k, 1M
    .venv/bin/python -m bench.scale --sizes 100k,1M,10M   # add a simulated 10M (hours)
    .venv/bin/python -m bench.scale --skip-compare --sizes 100k

Two measurements, each training in its own process (``python -m training train``) so that
its wall time and peak resident memory (``ru_maxrss`` from ``os.wait4``) are its own:

1. Accuracy cost: the in-memory and the out-of-core path on the same data (the authored
   corpus and the public corpora), held-out metrics read from each model's card. Both use
   the same held-out rows (a hash of each duplicate group).
2. Scale: the out-of-core path on simulated exports of N comments. They are synthesised by
   sampling the corpora's rows with replacement and perturbing each copy lightly (a word
   dropped or repeated, case changed, a number or a punctuation mark added), keeping the
   original's duplicate group so that near-copies never straddle the held-out split. They are
   simulated, not real: real exports have more distinct text (bigger vocabularies, which the
   hashing bounds anyway) and their own label noise.

Prints a Markdown table; ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.__main__ import DEFAULT_WEIGHTS
from training.data import available_public, load_authored, load_public
from training.features import COMMENT_FIELDS

ROOT = Path(__file__).resolve().parent.parent

KEYS = ("roc_auc", "pr_auc", "mcc", "blocked_ham", "recall", "recall_at_fpr_0.005")


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def base_frame() -> pd.DataFrame:
    frames = [load_authored(weight=DEFAULT_WEIGHTS["authored"])]
    frames += [load_public(name, weight=DEFAULT_WEIGHTS[name]) for name in available_public()]
    return pd.concat(frames, ignore_index=True)[[*COMMENT_FIELDS, "label", "group", "weight"]]


_EXTRA = np.array(["!", "?", "...", " :)", " 2", " 10", " ok", " pls", " now", " thx"])


def _perturb(texts: np.ndarray, rng: np.random.Generator) -> list[str]:
    out = []
    kinds = rng.integers(0, 5, size=len(texts))
    extra = _EXTRA[rng.integers(0, len(_EXTRA), size=len(texts))]
    for text, kind, tail in zip(texts, kinds, extra, strict=True):
        words = text.split(" ")
        if kind == 0 and len(words) > 3:
            del words[int(rng.integers(len(words)))]
        elif kind == 1:
            i = int(rng.integers(len(words)))
            words.insert(i, words[i])
        elif kind == 2:
            i = int(rng.integers(len(words)))
            words[i] = words[i].upper() if words[i].islower() else words[i].lower()
        out.append(" ".join(words) + (tail if kind in (3, 4) else ""))
    return out


def synthesise(base: pd.DataFrame, rows: int, path: Path, *, seed: int = 0) -> None:
    """Write ``rows`` perturbed samples of ``base`` to a CSV, 100k rows at a time."""
    rng = np.random.default_rng(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        while written < rows:
            n = min(100_000, rows - written)
            sample = base.iloc[rng.integers(0, len(base), size=n)].copy()
            sample["content"] = _perturb(sample["content"].to_numpy(), rng)
            sample["label"] = np.where(sample["label"] == 1, "spam", "ham")
            sample.to_csv(handle, index=False, header=written == 0)
            written += n


def measure(argv: list[str]) -> dict[str, Any]:
    """Run ``python -m training ...`` in a child; wall seconds and its peak RSS in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "training", "-q", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 3):  # 3: trained but not promoted by the gate
        raise RuntimeError(f"training failed ({process.returncode}):\n{output}")
    # ru_maxrss is in KiB on Linux.
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def latest_card(models_dir: Path) -> dict[str, Any]:
    versions = sorted(p for p in models_dir.iterdir() if (p / "card.json").is_file())
    card: dict[str, Any] = json.loads((versions[-1] / "card.json").read_text())
    return card


def compare(work: Path) -> list[dict[str, Any]]:
    rows = []
    for label, extra in (("in-memory", []), ("out-of-core", ["--out-of-core"])):
        models = work / f"compare-{label}"
        figures = measure(["train", "--models-dir", str(models), *extra])
        card = latest_card(models)
        held = card["evaluation"]["held_out"]
        rows.append(
            {
                "path": label,
                "rows": card["data"]["rows"],
                "held_out": held["n"],
                **figures,
                **{k: round(held[k], 4) for k in KEYS},
            }
        )
    return rows


def scale(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    base = base_frame()
    rows = []
    for size in sizes:
        data = work / f"synthetic-{size}.csv"
        started = time.perf_counter()
        synthesise(base, size, data)
        made = time.perf_counter() - started
        models = work / f"scale-{size}"
        figures = measure(
            [
                "train",
                "--out-of-core",
                "--no-default-data",
                "--data",
                str(data),
                "--models-dir",
                str(models),
            ]
        )
        card = latest_card(models)
        held = card["evaluation"]["held_out"]
        rows.append(
            {
                "comments": size,
                "file_mib": round(data.stat().st_size / 2**20, 1),
                "synthesis_seconds": round(made, 1),
                "epochs": card["params"]["epochs"],
                **figures,
                "comments_per_second": round(size / figures["seconds"]),
                **{k: round(held[k], 4) for k in ("roc_auc", "recall_at_fpr_0.005")},
            }
        )
        data.unlink()
        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1M", help="simulated export sizes")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--work-dir", type=Path, help="keep data and models here")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
        work = Path(tmp)
        result: dict[str, Any] = {
            "cpu": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
            "rlimit_as": resource.getrlimit(resource.RLIMIT_AS),
        }
        if not args.skip_compare:
            result["compare"] = compare(work)
            print("## Accuracy cost (same data, same held-out rows)\n")
            print(table(result["compare"]), flush=True)
        result["scale"] = scale(work, sizes)
        print("\n## Out-of-core at scale (simulated exports)\n")
        print(table(result["scale"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What both benchmarks share: corpora, run facts, Markdown helpers, citations."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from training.data import (
    AUTHORED_CORPUS,
    PUBLIC_CORPORA,
    REPO_ROOT,
    DataError,
    datasets_dir,
    file_sha256,
    load_authored,
    load_public,
)

REPORTS_DIR = Path(os.environ.get("SLUICE_BENCH_REPORTS", REPO_ROOT / "bench" / "reports"))

CITATIONS = {
    "youtube": (
        "Alberto, T.C., Lochter, J.V., Almeida, T.A. *TubeSpam: Comment Spam Filtering on "
        "YouTube.* Proc. 14th IEEE ICMLA'15, pp. 138–143, Miami, 2015. DOI 10.1109/ICMLA.2015.37. "
        "Data: YouTube Spam Collection v.1, UCI dataset 380."
    ),
    "sms": (
        "Almeida, T.A., Gómez Hidalgo, J.M., Yamakami, A. *Contributions to the Study of SMS "
        "Spam Filtering: New Collection and Results.* Proc. ACM DocEng'11, Mountain View, CA, "
        "2011, pp. 259–262. Data: SMS Spam Collection v.1, UCI dataset 228."
    ),
    "spambayes": (
        "SpamBayes classifier (Tim Peters et al., chi-squared combining after Gary Robinson), "
        "as packaged in `sbclassifier` 0.1.1 (PyPI, Oliver Cope)."
    ),
}

# Published best results, TubeSpam paper Table (best of seven classifiers per video).
PUBLISHED_YOUTUBE = {
    "Psy": (0.9623, 0.925),
    "KatyPerry": (0.9434, 0.893),
    "LMFAO": (0.9773, 0.955),
    "Eminem": (0.9704, 0.941),
    "Shakira": (0.9643, 0.931),
}
PUBLISHED_YOUTUBE_MEAN_MCC = 0.929
PUBLISHED_SMS_SVM_ACCURACY = 0.9764


@dataclass(frozen=True, slots=True)
class Corpora:
    """The corpora a benchmark run uses; ``missing`` says why any is absent."""

    frames: dict[str, pd.DataFrame]
    checksums: dict[str, str]
    missing: dict[str, str]


def load_corpora() -> Corpora:
    """YouTube and SMS from the shared datasets directory, and our authored corpus if present."""
    frames: dict[str, pd.DataFrame] = {}
    checksums: dict[str, str] = {}
    missing: dict[str, str] = {}
    for name, corpus in PUBLIC_CORPORA.items():
        path = datasets_dir() / corpus.relative_path
        try:
            frames[name] = load_public(name)
            checksums[name] = file_sha256(path)
        except DataError as exc:
            missing[name] = str(exc)
    if AUTHORED_CORPUS.exists():
        try:
            frames["authored"] = load_authored()
            checksums["authored"] = file_sha256(AUTHORED_CORPUS)
        except DataError as exc:
            missing["authored"] = str(exc)
    else:
        missing["authored"] = f"{AUTHORED_CORPUS.relative_to(REPO_ROOT)} does not exist yet"
    return Corpora(frames=frames, checksums=checksums, missing=missing)


def stop_server(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    """SIGTERM a server started in its own process group (a supervisor and its workers),
    then SIGKILL what is left after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _git(*args: str) -> str:
    try:
        out = subprocess.run(  # nosec B603 B607 # fixed git arguments, no shell; git from PATH
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def run_facts(command: str) -> dict[str, Any]:
    """When, on what code and on what machine a benchmark ran."""
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD") + (" (working tree modified)" * dirty),
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
        "load_average_at_start": ", ".join(f"{x:.2f}" for x in load),
        "command": command,
    }


def facts_markdown(facts: dict[str, Any]) -> str:
    return "\n".join(f"- {key.replace('_', ' ')}: {value}" for key, value in facts.items())


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub Markdown table; numbers must already be formatted."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The same table aligned for a terminal."""
    cells = [list(map(str, headers)), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    )


def pct(value: float, digits: int = 2) -> str:
    return "–" if value != value else f"{100 * value:.{digits}f}%"


def num(value: float, digits: int = 3) -> str:
    return "–" if value != value else f"{value:.{digits}f}"

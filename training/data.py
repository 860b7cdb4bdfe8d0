"""Labelled comments in, one validated DataFrame out.

Every loader returns the same columns: the comment fields of ``COMMENT_FIELDS``, ``label``
(1 spam, 0 ham), ``group`` (rows sharing a group are near-duplicates and are never split
across training and test), ``source`` and ``weight``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from training.features import COMMENT_FIELDS

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
AUTHORED_CORPUS = REPO_ROOT / "data" / "authored" / "comments.jsonl"
DEFAULT_DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"
COLUMNS = (*COMMENT_FIELDS, "label", "group", "source", "weight")

_SPAM_LABELS = {"1", "spam", "true", "yes", "junk"}
_HAM_LABELS = {"0", "ham", "false", "no", "not spam", "legit", "approved"}


class DataError(ValueError):
    """A labelled file that cannot be used as is; the message names file, row and column."""


@dataclass(frozen=True, slots=True)
class PublicCorpus:
    """Where a public corpus lives under the datasets directory and how its columns map."""

    name: str
    relative_path: str
    sha256: str
    columns: Mapping[str, str]
    url: str


# Manifests of the public corpora we know (see data/public/README.md for provenance).
PUBLIC_CORPORA = {
    corpus.name: corpus
    for corpus in (
        PublicCorpus(
            name="youtube",
            relative_path="youtube_spam_collection/youtube_spam_collection.normalized.csv",
            sha256="",
            columns={"content": "text", "author_name": "author"},
            url="https://archive.ics.uci.edu/dataset/380/youtube+spam+collection",
        ),
        PublicCorpus(
            name="sms",
            relative_path="sms_spam_collection/sms_spam_collection.normalized.csv",
            sha256="",
            columns={"content": "text"},
            url="https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
        ),
    )
}


def datasets_dir() -> Path:
    """The public corpora directory: ``SLUICE_DATASETS_DIR`` or ``../shared/datasets``."""
    return Path(os.environ.get("SLUICE_DATASETS_DIR", DEFAULT_DATASETS_DIR))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_table(path: Path) -> pd.DataFrame:
    suffixes = "".join(path.suffixes[-2:]).lower()
    if not path.exists():
        raise DataError(f"{path}: file not found")
    try:
        if suffixes.endswith((".jsonl", ".ndjson")) or suffixes.endswith(".json"):
            return pd.read_json(path, lines=True, dtype=False)
        if suffixes.endswith(".parquet"):
            return pd.read_parquet(path)
        if suffixes.endswith((".csv", ".tsv")):
            sep = "\t" if suffixes.endswith(".tsv") else ","
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: cannot be read as {path.suffix}: {exc}") from exc
    raise DataError(f"{path}: unsupported format {path.suffix!r}; use .csv, .jsonl or .parquet")


def _parse_label(value: object, *, path: Path, row: int, column: str) -> int:
    text = str(value).strip().lower()
    if text in _SPAM_LABELS:
        return 1
    if text in _HAM_LABELS:
        return 0
    raise DataError(
        f"{path}: row {row}, column {column!r}: label {value!r} is neither spam "
        f"({', '.join(sorted(_SPAM_LABELS))}) nor ham ({', '.join(sorted(_HAM_LABELS))})"
    )


def parse_mapping(spec: str | None) -> dict[str, str]:
    """``"content=body,label=is_spam"`` → ``{"content": "body", "label": "is_spam"}``."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        ours, sep, theirs = part.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not ours or not theirs:
            raise DataError(f"column mapping {part!r} must look like our_field=their_column")
        if ours not in (*COMMENT_FIELDS, "label", "group", "weight"):
            raise DataError(f"column mapping {part!r}: unknown field {ours!r}")
        mapping[ours] = theirs
    return mapping


def mapped_fields(raw: pd.DataFrame, mapping: Mapping[str, str], path: Path) -> pd.DataFrame:
    """The comment fields of ``raw`` under our names (absent ones empty); content and label
    columns must exist."""
    for required in ("content", "label"):
        column = mapping.get(required, required)
        if column not in raw.columns:
            raise DataError(
                f"{path}: required column {column!r} (for {required}) is missing; "
                f"columns present: {', '.join(map(str, raw.columns))}"
            )
    frame = pd.DataFrame(index=raw.index)
    for name in COMMENT_FIELDS:
        column = mapping.get(name, name)
        if column in raw.columns:
            frame[name] = raw[column].where(raw[column].notna(), "").astype(str)
        else:
            frame[name] = ""
    return frame


def load_labelled(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    source: str | None = None,
    weight: float = 1.0,
) -> pd.DataFrame:
    """Load a user's labelled comments (CSV, JSON Lines or Parquet) into the common columns.

    ``mapping`` maps our field names to the file's column names; unmapped fields are taken
    from a column of the same name when present. ``content`` and ``label`` are required.
    """
    path = Path(path)
    raw = _read_table(path)
    mapping = dict(mapping or {})
    frame = mapped_fields(raw, mapping, path)
    label_column = mapping.get("label", "label")
    first_row = 2 if path.suffix.lower() in (".csv", ".tsv") else 1  # header line in CSV
    frame["label"] = [
        _parse_label(value, path=path, row=i + first_row, column=label_column)
        for i, value in enumerate(raw[label_column].tolist())
    ]
    for i, text in enumerate(frame["content"].tolist()):
        if not text.strip():
            raise DataError(
                f"{path}: row {i + first_row}, column {mapping.get('content', 'content')!r}: "
                "content is empty"
            )
    group_column = mapping.get("group", "group")
    source = source or path.stem
    if group_column in raw.columns:
        frame["group"] = source + ":" + raw[group_column].astype(str)
    else:
        frame["group"] = [f"{source}:{text_group(t)}" for t in frame["content"]]
    frame["source"] = source
    frame["weight"] = float(weight)
    log.info("loaded %d rows (%d spam) from %s", len(frame), int(frame["label"].sum()), path)
    return frame.reset_index(drop=True)[list(COLUMNS)]


def text_group(text: str) -> str:
    """Duplicate-aware group key: hash of the case- and whitespace-folded text."""
    folded = re.sub(r"\s+", " ", text.replace("\ufeff", "")).strip().lower()
    return hashlib.sha1(folded.encode(), usedforsecurity=False).hexdigest()[:12]


def load_authored(weight: float = 1.0) -> pd.DataFrame:
    """The corpus of blog and forum comments written for this project (data/authored)."""
    return load_labelled(AUTHORED_CORPUS, source="authored", weight=weight)


def load_public(name: str, *, directory: Path | None = None, weight: float = 1.0) -> pd.DataFrame:
    """A public corpus from the datasets directory, read in place (never copied)."""
    corpus = PUBLIC_CORPORA[name]
    path = (directory or datasets_dir()) / corpus.relative_path
    frame = load_labelled(
        path, mapping={**corpus.columns, "group": "text_group"}, source=name, weight=weight
    )
    if name == "youtube":
        # The video is kept aside for the benchmark's per-video protocols; never a feature.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["video"] = raw["video"].to_numpy()
        frame["date"] = raw["date"].to_numpy()
        frame["row_in_file"] = raw["row_in_file"].astype(int).to_numpy()
    return frame


def available_public(directory: Path | None = None) -> list[str]:
    root = directory or datasets_dir()
    return [name for name, c in PUBLIC_CORPORA.items() if (root / c.relative_path).exists()]


def to_records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Rows as comment records, the input the pipeline takes."""
    return frame[list(COMMENT_FIELDS)].to_dict("records")

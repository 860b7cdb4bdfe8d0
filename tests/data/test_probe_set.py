"""Data contract of the blind probe set ``data/probe/blog_comments.jsonl``.

The probe set measures how the default model generalises to blog traffic it was never
trained on, so the tests also check that it shares no text with the authored corpus and that
the training package never reads it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from training import data as training_data

ROOT = Path(__file__).resolve().parents[2]
PROBE_DIR = ROOT / "data" / "probe"
PROBE = PROBE_DIR / "blog_comments.jsonl"
AUTHORED = ROOT / "data" / "authored" / "comments.jsonl"
TRAINING_PACKAGE = ROOT / "training"

COLUMNS = [
    "id",
    "label",
    "kind",
    "lang",
    "content",
    "author_name",
    "author_email",
    "author_url",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
]
ID_PATTERN = re.compile(r"probe-(ham|spam)-\d{4}")
# How code would name the set: its file, its directory as a path or as a path part.
NAMES_PROBE = re.compile(r"blog_comments|data/probe|['\"]probe['\"]", re.IGNORECASE)
RESERVED_TLD = re.compile(r"\.(example|test|invalid|localhost)(?=[/:?#\s]|$)", re.IGNORECASE)


def folded(text: str) -> str:
    """Case- and whitespace-folded text: copies that differ only there count as the same."""
    return re.sub(r"\s+", " ", text.replace("\ufeff", "")).strip().casefold()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with PROBE.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_every_line_has_every_column_as_a_string(rows: list[dict[str, str]]) -> None:
    for n, row in enumerate(rows, 1):
        assert list(row) == COLUMNS, f"line {n}: keys {list(row)}"
        bad = [key for key, value in row.items() if not isinstance(value, str)]
        assert not bad, f"line {n}: non-string values in {bad}"
        assert row["content"].strip(), f"line {n}: empty content"
        assert row["kind"] and row["lang"], f"line {n}: kind or lang empty"


def test_labels_ids_and_balance(rows: list[dict[str, str]]) -> None:
    labels = Counter(row["label"] for row in rows)
    assert set(labels) == {"ham", "spam"}
    assert len(rows) >= 300
    assert min(labels.values()) >= 0.4 * len(rows), labels
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids), [i for i, c in Counter(ids).items() if c > 1]
    for row in rows:
        match = ID_PATTERN.fullmatch(row["id"])
        assert match and match.group(1) == row["label"], row["id"]


def test_kinds_do_not_cross_labels(rows: list[dict[str, str]]) -> None:
    """A kind names one label's category, so per-kind rates read unambiguously."""
    kinds: dict[str, set[str]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], set()).add(row["label"])
    assert not [kind for kind, labels in kinds.items() if len(labels) > 1]


def test_contents_are_unique(rows: list[dict[str, str]]) -> None:
    counts = Counter(folded(row["content"]) for row in rows)
    assert not [text[:60] for text, n in counts.items() if n > 1]


def test_no_reserved_test_domains(rows: list[dict[str, str]]) -> None:
    """Real blogs and readers never use reserved TLDs; the authored corpus's sites do."""
    for row in rows:
        for key in ("author_url", "author_email", "referrer", "permalink"):
            assert not RESERVED_TLD.search(row[key]), (row["id"], key, row[key])


def test_no_content_shared_with_the_authored_corpus(rows: list[dict[str, str]]) -> None:
    assert AUTHORED.exists(), f"{AUTHORED} missing"
    with AUTHORED.open(encoding="utf-8") as handle:
        authored = {folded(json.loads(line)["content"]) for line in handle}
    shared = [row["id"] for row in rows if folded(row["content"]) in authored]
    assert not shared, shared


def test_default_training_sources_exclude_the_probe_set() -> None:
    sources = [training_data.AUTHORED_CORPUS, training_data.DEFAULT_DATASETS_DIR]
    sources += [
        training_data.datasets_dir() / corpus.relative_path
        for corpus in training_data.PUBLIC_CORPORA.values()
    ]
    for path in sources:
        assert not path.resolve().is_relative_to(PROBE_DIR.resolve()), path


def test_training_package_never_names_the_probe_set() -> None:
    """A grep, so that a loader added later that reads data/probe fails here."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted(TRAINING_PACKAGE.rglob("*.py"))
        if NAMES_PROBE.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders

"""Data contract of the authored corpus ``data/authored/comments.jsonl``.

If a test here fails after editing ``data/authored/raw/*.jsonl``, rebuild with
``python data/authored/build.py`` and commit the regenerated ``comments.jsonl``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "authored" / "comments.jsonl"
BUILD = ROOT / "data" / "authored" / "build.py"

REQUIRED_COLUMNS = [
    "id",
    "group",
    "label",
    "family",
    "lang",
    "topic",
    "content",
    "author_name",
    "author_email",
    "author_url",
    "user_ip",
    "user_agent",
    "referrer",
    "permalink",
    "comment_type",
    "created_at",
    "post_published_at",
    "honeypot",
    "site",
    "user_role",
]
SPAM_FAMILIES = {
    "seo_link_drop",
    "generic_praise",
    "tech_support_scam",
    "pharma",
    "casino_betting",
    "crypto_investment",
    "essay_writing",
    "adult",
    "fake_followers",
    "loans",
    "copied_offtopic",
    "marketplace",
    "romance_scam",
    "work_from_home",
    "seo_outreach",
    "obfuscated",
}
HARD_HAM_FAMILIES = {
    "short_thanks",
    "question_code",
    "disagreement",
    "legit_link",
    "author_reply",
    "tricky",
}


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    assert CORPUS.exists(), f"{CORPUS} missing: run python data/authored/build.py"
    return pd.read_json(CORPUS, lines=True, dtype=False)


def test_size_languages_and_labels(corpus: pd.DataFrame) -> None:
    assert len(corpus) >= 2000
    assert corpus["lang"].nunique() >= 6
    assert set(corpus["label"]) == {"ham", "spam"}


def test_every_line_has_every_column_as_a_string() -> None:
    with CORPUS.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            rec = json.loads(line)
            assert list(rec) == REQUIRED_COLUMNS, f"line {n}: keys {list(rec)}"
            bad = [k for k, v in rec.items() if not isinstance(v, str)]
            assert not bad, f"line {n}: non-string values in {bad}"


def test_required_columns_present(corpus: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in corpus.columns]
    assert not missing
    for col in (
        "id",
        "group",
        "label",
        "family",
        "lang",
        "content",
        "permalink",
        "site",
        "created_at",
        "post_published_at",
        "comment_type",
        "user_ip",
    ):
        assert (corpus[col].astype(str).str.len() > 0).all(), f"empty values in {col}"


def test_ids_unique(corpus: pd.DataFrame) -> None:
    dupes = corpus.loc[corpus["id"].duplicated(), "id"].tolist()
    assert not dupes, dupes[:10]


def test_no_content_with_both_labels(corpus: pd.DataFrame) -> None:
    n_labels = corpus.groupby("content")["label"].nunique()
    assert not (n_labels > 1).any(), n_labels[n_labels > 1].index.tolist()[:5]


def test_no_duplicate_content_across_groups(corpus: pd.DataFrame) -> None:
    n_groups = corpus.groupby("content")["group"].nunique()
    assert not (n_groups > 1).any(), n_groups[n_groups > 1].index.tolist()[:5]


def test_groups_point_at_source_texts(corpus: pd.DataFrame) -> None:
    ids = set(corpus["id"])
    assert set(corpus["group"]) <= ids
    plain = corpus[corpus["family"] != "obfuscated"]
    assert (plain["group"] == plain["id"]).all()
    obf = corpus[corpus["family"] == "obfuscated"]
    sources = corpus.set_index("id").loc[obf["group"]]
    assert (sources["label"] == "spam").all()
    assert (sources["family"] != "obfuscated").all()
    assert (sources["content"].to_numpy() != obf["content"].to_numpy()).all()


def test_families_present(corpus: pd.DataFrame) -> None:
    spam_fams = set(corpus.loc[corpus["label"] == "spam", "family"])
    ham_fams = set(corpus.loc[corpus["label"] == "ham", "family"])
    assert spam_fams >= SPAM_FAMILIES, SPAM_FAMILIES - spam_fams
    assert ham_fams >= HARD_HAM_FAMILIES, HARD_HAM_FAMILIES - ham_fams
    assert not (spam_fams & ham_fams), spam_fams & ham_fams
    plain_spam = corpus[(corpus["label"] == "spam") & (corpus["family"] != "obfuscated")]
    assert len(plain_spam) >= 900
    assert (corpus["family"] == "obfuscated").sum() >= 200


def test_dates_parse_and_are_ordered(corpus: pd.DataFrame) -> None:
    created = pd.to_datetime(corpus["created_at"], utc=True, format="ISO8601")
    published = pd.to_datetime(corpus["post_published_at"], utc=True, format="ISO8601")
    assert created.notna().all() and published.notna().all()
    assert (created >= published).all()
    assert corpus["created_at"].str.endswith("Z").all()


def test_metadata_overlaps_between_labels(corpus: pd.DataFrame) -> None:
    """Metadata are tendencies, not give-aways: each simple signal occurs in both labels."""
    ham = corpus[corpus["label"] == "ham"]
    spam = corpus[corpus["label"] == "spam"]

    def share(frame: pd.DataFrame, mask: pd.Series) -> float:
        return float(mask.loc[frame.index].mean())

    signals = {
        "author_url set": corpus["author_url"] != "",
        "no e-mail": corpus["author_email"] == "",
        "gmail": corpus["author_email"].str.endswith("@gmail.com"),
        "no referrer": corpus["referrer"] == "",
        "referrer is the post": corpus["referrer"] == corpus["permalink"],
        "IPv6": corpus["user_ip"].str.contains(":"),
        "browser UA": corpus["user_agent"].str.startswith("Mozilla/5.0 ("),
        "reply": corpus["comment_type"] == "reply",
    }
    for name, mask in signals.items():
        assert 0 < share(ham, mask) < 1, name
        assert 0 < share(spam, mask) < 1, name
    honeypot = corpus["honeypot"] != ""
    assert share(ham, honeypot) < 0.02
    assert 0.05 < share(spam, honeypot) < 0.25
    assert "administrator" not in set(corpus["user_role"])
    assert (ham.loc[ham["family"] == "author_reply", "user_role"] == "author").any()


def test_build_is_reproducible(tmp_path: Path) -> None:
    out = tmp_path / "comments.jsonl"
    subprocess.run([sys.executable, str(BUILD), "--out", str(out), "--quiet"], check=True, cwd=ROOT)
    assert out.read_bytes() == CORPUS.read_bytes(), (
        "committed comments.jsonl is stale: run python data/authored/build.py"
    )

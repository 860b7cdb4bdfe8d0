"""The fast scoring path gives the pipeline's own probability and feature row, for any input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from training.artifacts import LoadedModel
from training.data import available_public, load_authored, load_public, to_records
from training.fastpath import FastScorer, UnsupportedPipeline, _TextBranch
from training.features import prepare
from training.pipeline import ModelParams, build_pipeline

TOLERANCE = 1e-9

META_RECORDS: list[dict[str, Any]] = [
    {
        "content": "Great post! Visit <a href='https://cheap-pills.example/buy'>my site</a>",
        "author_name": "best cheap pills online",
        "author_email": "seller12345@mail.example",
        "author_url": "https://cheap-pills.example/buy/now",
        "user_ip": "203.0.113.9",
        "user_agent": "python-requests/2.31",
        "referrer": "https://elsewhere.example/",
        "permalink": "https://blog.example/2020/01/post",
        "comment_type": "comment",
        "lang": "en",
        "created_at": "2024-06-01T12:00:00+00:00",
        "post_published_at": "2020-01-05T08:00:00Z",
        "honeypot": "x",
    },
    {
        "content": "Thanks, the second example fixed my build. One question: does it work on ARM?",
        "author_name": "Priya S.",
        "author_email": "priya@example.org",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "referrer": "https://blog.example/2024/05/post",
        "permalink": "https://blog.example/2024/05/post",
        "created_at": "2024-05-03T10:00:00",
        "post_published_at": "2024-05-02T10:00:00",
    },
    {"content": "[url=http://bit.ly/x]click[/url] ＦＲＥＥ ｍｏｎｅｙ v\u200bi\u200ba\u200bgra"},
    {
        "content": "Позвоните +7 (495) 123-45-67 или пишите на spam@example.ru",
        "comment_type": "pingback",
    },
    {"content": "日本語のコメントです。とても役に立ちました！", "lang": "ja"},
    {"content": "\ufeff\ufeff", "author_name": "", "author_url": None},
    {"content": "!!!!!!!! $$$ 100% FREE $$$ !!!!!!!!", "author_name": "W1N B1G"},
    {"content": "ok", "created_at": "not a date", "post_published_at": "2024-01-01"},
]


@pytest.fixture(scope="session")
def fast(default_model: LoadedModel) -> FastScorer:
    return FastScorer(default_model.pipeline)


@pytest.fixture(scope="session")
def corpus_records() -> list[dict[str, str]]:
    """A few hundred comments of every length from each corpus that is available."""
    # The authored corpus is part of the repository; the public ones are read where found.
    frames = [load_authored(), *(load_public(name) for name in available_public())]
    records: list[dict[str, str]] = []
    for frame in frames:
        lengths = frame["content"].str.len()
        # Every length decile is represented, including the longest comments.
        bins = pd.qcut(lengths.rank(method="first"), 10, labels=False)
        picked = frame.groupby(bins, group_keys=False).apply(
            lambda part: part.sample(n=min(len(part), 15), random_state=0)
        )
        records.extend(to_records(picked))
        records.extend(to_records(frame.loc[[lengths.idxmax()]]))
    return records


def _spam(model: LoadedModel, records: list[dict[str, Any]]) -> np.ndarray:
    return np.asarray(model.pipeline.predict_proba(records)[:, 1])


def test_same_probability_as_the_pipeline_on_corpora(
    default_model: LoadedModel, fast: FastScorer, corpus_records: list[dict[str, str]]
) -> None:
    expected = _spam(default_model, corpus_records)
    got = fast.spam_probabilities(corpus_records)
    assert np.max(np.abs(got - expected)) <= TOLERANCE
    one_by_one = np.array([fast.spam_probability(r) for r in corpus_records[:50]])
    assert np.max(np.abs(one_by_one - expected[:50])) <= TOLERANCE


def test_same_probability_with_metadata(default_model: LoadedModel, fast: FastScorer) -> None:
    expected = default_model.pipeline.predict_proba(META_RECORDS)
    assert np.max(np.abs(fast.predict_proba(META_RECORDS) - expected)) <= TOLERANCE


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.text(min_size=0, max_size=600),
    author=st.one_of(st.none(), st.text(max_size=40)),
    url=st.one_of(st.none(), st.sampled_from(["https://a-b.example/x", "bit.ly/z", "nope"])),
)
def test_same_probability_on_any_unicode(
    default_model: LoadedModel, fast: FastScorer, content: str, author: str | None, url: str | None
) -> None:
    record = {"content": content, "author_name": author, "author_url": url}
    expected = float(default_model.pipeline.predict_proba([record])[0, 1])
    assert abs(fast.spam_probability(record) - expected) <= TOLERANCE


def test_feature_row_and_log_odds_match_the_pipeline(
    default_model: LoadedModel, fast: FastScorer, corpus_records: list[dict[str, str]]
) -> None:
    records = META_RECORDS + corpus_records[::10]
    matrix = default_model.pipeline[:-1].transform(records).tocsr()
    for i, record in enumerate(records):
        row = matrix[i]
        expected = {int(j): float(v) for j, v in zip(row.indices, row.data, strict=True) if v}
        got = dict(fast.contributions(record))
        assert got.keys() == expected.keys()
        assert all(abs(got[j] - expected[j]) <= 1e-12 for j in got)
        result = fast.explain(record)
        raw = float((row @ fast.coef)[0]) + fast.intercept
        assert abs(result.log_odds - (fast.slope * raw + fast.offset)) <= 1e-9
        assert abs(result.probability - fast.spam_probability(record)) <= 1e-15


def test_feature_names_follow_the_union(default_model: LoadedModel, fast: FastScorer) -> None:
    union = default_model.pipeline.named_steps["features"]
    words = union.transformer_list[0][1].steps[-1][1].get_feature_names_out()
    assert len(fast.feature_names) == fast.coef.size
    assert fast.feature_names[: len(words)].tolist() == [f"words__{w}" for w in words]
    assert fast.feature_names[-1].startswith("meta__")


def test_refuses_an_unfitted_or_unknown_pipeline() -> None:
    with pytest.raises((UnsupportedPipeline, AttributeError)):
        FastScorer(build_pipeline())


def test_other_ngram_ranges_and_batches(corpus_records: list[dict[str, str]]) -> None:
    """Word trigrams, longer character n-grams, tiny and empty texts, in one and many calls."""
    records = corpus_records[:300]
    labels = np.array([i % 2 for i in range(len(records))])
    params = ModelParams(word_ngrams=(1, 3), char_ngrams=(4, 7), min_df=1, calibration_folds=2)
    pipeline = build_pipeline(params).fit(records, labels)
    fast = FastScorer(pipeline)
    probe = [
        *records[:60],
        {"content": "a"},
        {"content": " "},
        {"content": "I ♥ it"},
        *META_RECORDS,
    ]
    expected = pipeline.predict_proba(probe)[:, 1]
    assert np.max(np.abs(fast.spam_probabilities(probe) - expected)) <= TOLERANCE
    singles = np.array([fast.spam_probability(r) for r in probe])
    assert np.max(np.abs(singles - expected)) <= TOLERANCE
    assert fast.spam_probabilities([]).shape == (0,)


@pytest.mark.parametrize("max_df", [1.0, 0.05])
def test_word_bigrams_from_the_table_or_strings(
    corpus_records: list[dict[str, str]], max_df: float
) -> None:
    """Bigrams found from unigram ids give the vectoriser's row; when ``max_df`` drops a
    bigram's word ("the") but not the bigram, the table is refused and strings are joined."""
    texts = [prepare(r).text for r in corpus_records] + ["", "a", "_ _", "é! ü? x_y z"]
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b\w+\b",
        max_df=max_df,
        sublinear_tf=True,
    ).fit(texts[:400])
    branch = _TextBranch(vectorizer, 0, np.ones(len(vectorizer.vocabulary_)))
    assert (branch.bigram_table is not None) == (max_df == 1.0)
    matrix = vectorizer.transform(texts).tocsr()
    for i, text in enumerate(texts):
        ids, values, _ = branch.row(text)
        row = matrix[i]
        order = np.argsort(row.indices)
        assert ids.tolist() == row.indices[order].tolist()
        assert np.allclose(values, row.data[order], rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(word=st.text(min_size=1, max_size=12).filter(lambda w: not any(c.isspace() for c in w)))
def test_character_ngrams_of_a_word_are_sklearns(word: str) -> None:
    for low, high in [(2, 5), (1, 1), (3, 3), (1, 7)]:
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high)).fit(["ab"])
        branch = _TextBranch(vectorizer, 0, np.ones(len(vectorizer.vocabulary_)))
        assert branch.padded_ngrams(word) == vectorizer._char_wb_ngrams(word)


def test_character_ngrams_of_corpus_words_are_sklearns(
    fast: FastScorer, corpus_records: list[dict[str, str]]
) -> None:
    chars = next(branch for branch in fast._text_branches if branch.per_word)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=chars.char_range)
    for record in corpus_records:
        for word in prepare(record).text.split():
            assert chars.padded_ngrams(word) == vectorizer._char_wb_ngrams(word)


def _sklearn_ids(branch: _TextBranch, vectorizer: TfidfVectorizer, word: str) -> list[int]:
    grams = vectorizer._char_wb_ngrams(word)
    return sorted(branch.vocabulary[g] for g in grams if g in branch.vocabulary)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(
        st.one_of(
            st.text(alphabet="aeiostxy01é😀\ud800_-.'!", min_size=1, max_size=9),
            st.text(min_size=1, max_size=9),
        ).filter(lambda w: not any(c.isspace() for c in w)),
        min_size=1,
        max_size=30,
    )
)
def test_packed_ngrams_are_sklearns(fast: FastScorer, words: list[str]) -> None:
    """Many new words at once take the numpy route (packed n-grams); same ids as sklearn's."""
    chars = next(branch for branch in fast._text_branches if branch.per_word)
    assert chars.packed is not None
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=chars.char_range)
    for word, ids in zip(words, chars.packed.word_ids(words), strict=True):
        assert sorted(ids.tolist()) == _sklearn_ids(chars, vectorizer, word)


def test_new_words_ngrams_of_corpus_words_are_sklearns(
    fast: FastScorer, corpus_records: list[dict[str, str]]
) -> None:
    chars = next(branch for branch in fast._text_branches if branch.per_word)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=chars.char_range)
    words = list(dict.fromkeys(w for r in corpus_records for w in prepare(r).text.split()))
    packed = chars.packed.word_ids(words)
    one_by_one = chars._python_word_ids(words)
    for word, ids, python_ids in zip(words, packed, one_by_one, strict=True):
        assert sorted(ids.tolist()) == _sklearn_ids(chars, vectorizer, word)
        assert sorted(python_ids.tolist()) == _sklearn_ids(chars, vectorizer, word)


def test_joint_and_per_branch_text_shares_agree(
    fast: FastScorer, corpus_records: list[dict[str, str]]
) -> None:
    """One comment's text branches are scored together; branch by branch gives the same."""
    assert fast._text_idf is not None
    for record in corpus_records[::5]:
        text = prepare(record).text
        separate = sum(branch.share(text) for branch in fast._text_branches)
        assert abs(fast._joint_text_share(text) - separate) <= 1e-12

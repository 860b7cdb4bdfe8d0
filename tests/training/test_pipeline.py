"""The metadata branch forgets rare one-hot values and keeps every numeric signal."""

from training.pipeline import FrequentDictVectorizer


def test_rare_one_hot_values_are_forgotten_numeric_signals_kept() -> None:
    rows = [{"name_word=ethan": 1.0, "length_log": 0.5}] * 3 + [
        {"link_tld=com": 1.0, "length_log": 0.2}
    ] * 10
    vectorizer = FrequentDictVectorizer(min_share=0.5).fit(rows)
    assert vectorizer.feature_names_ == ["length_log", "link_tld=com"]
    matrix = vectorizer.transform([{"name_word=ethan": 1.0, "length_log": 0.7}])
    assert matrix.toarray().tolist() == [[0.7, 0.0]]


def test_fit_transform_equals_fit_then_transform() -> None:
    rows = [{"a=x": 1.0}] * 3 + [{"a=y": 1.0, "n": 2.0}]
    together = FrequentDictVectorizer().fit_transform(iter(rows))
    apart = FrequentDictVectorizer().fit(rows).transform(rows)
    assert (together != apart).nnz == 0
    assert together.shape == (4, 2)  # a=x and n: a=y is in one row of four, under 3

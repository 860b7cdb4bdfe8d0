"""Scoring one comment without scikit-learn's per-call overhead, with the pipeline's exact result.

``Pipeline.predict_proba([record])`` spends most of its time not on arithmetic but on building
and validating sparse matrices, once per transformer, for a single row. ``FastScorer`` takes a
*fitted* pipeline apart and scores with what it learned — the vectorisers' vocabularies and
analysers, the idf weights, the scaler, the coefficients and the calibration sigmoid — with no
retraining and no copy of the vocabularies:

* ``prepare(record)`` runs once (the pipeline's first step);
* each TF-IDF branch finds the text's n-grams in the fitted vocabulary and applies sublinear tf,
  idf and L2 normalisation as ``TfidfVectorizer`` does. Word bigrams are found from the
  unigram ids in a sorted table; character n-grams are cached per word (a word always yields
  the same n-grams), and a batch of new words is split into n-grams and looked up in numpy,
  each n-gram packed into one integer. Every shortcut is checked to be exact for the fitted
  vectoriser at construction, and the vectoriser's own analyser is used otherwise;
* the metadata branch maps names through the ``DictVectorizer`` vocabulary and multiplies by
  the ``MaxAbsScaler``'s inverse scale;
* the calibrated probability is ``expit(-(a * (x @ coef + intercept) + b))``;
* one comment's text branches are counted in one sorted pass; ``spam_probabilities`` counts the
  n-grams of a whole batch in one sorted pass per branch.

The probability equals ``pipeline.predict_proba`` up to floating-point summation order (tested
to 1e-9). The sparse feature row is available too (``explain``), so reasons can be built from
the same computation.

A pipeline whose composition this module does not know is refused with ``UnsupportedPipeline``
rather than scored differently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler

from training.features import (
    CommentPreparer,
    PreparedComment,
    PreparedMeta,
    PreparedText,
    prepare,
)

# Distinct words whose character n-grams are kept; the cache is emptied when it grows past
# this (about 40 MB per process), which keeps memory bounded on adversarial input.
WORD_CACHE_SIZE = 100_000
# New words from which their n-grams are built in one numpy pass rather than word by word.
_BULK_FROM = 12

# Token patterns whose tokens never contain a space (sklearn's default and the words branch's),
# each with an equivalent pattern that finds the same tokens faster: a maximal run of word
# characters has a word boundary at both ends, so the ``\b`` tests only slow the scan down.
_SPACELESS_TOKENS = {
    r"(?u)\b\w\w+\b": re.compile(r"\w\w+").findall,
    r"(?u)\b\w+\b": re.compile(r"\w+").findall,
}

_EMPTY_IDS = np.zeros(0, dtype=np.intp)
_EMPTY_VALUES = np.zeros(0, dtype=np.float64)


class UnsupportedPipeline(ValueError):
    """The pipeline's composition is not one ``FastScorer`` can reproduce exactly."""


@dataclass(frozen=True, slots=True)
class FastResult:
    """A scored comment: the calibrated probability and log-odds, and the feature row.

    ``indices`` are column numbers of the pipeline's feature matrix (ascending) and ``values``
    the matching feature values, i.e. the non-zero entries of ``pipeline[:-1].transform``'s row.
    The share of feature ``j`` in the calibrated log-odds is ``slope * coef[j] * value``.
    """

    probability: float
    log_odds: float
    indices: np.ndarray
    values: np.ndarray


class _TextBranch:
    """One fitted ``TfidfVectorizer`` on the prepared text."""

    def __init__(self, vectorizer: TfidfVectorizer, offset: int, coef: np.ndarray) -> None:
        if not hasattr(vectorizer, "vocabulary_"):
            raise UnsupportedPipeline("a TfidfVectorizer is not fitted")
        if vectorizer.norm not in ("l2", "l1", None):
            raise UnsupportedPipeline(f"TfidfVectorizer norm={vectorizer.norm!r}")
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.offset = offset
        self.binary = bool(vectorizer.binary)
        self.sublinear = bool(vectorizer.sublinear_tf)
        self.norm = vectorizer.norm
        use_idf = bool(vectorizer.use_idf)
        self.idf = (
            np.asarray(vectorizer.idf_, dtype=np.float64)
            if use_idf
            else np.ones(len(self.vocabulary), dtype=np.float64)
        )
        self.use_idf = use_idf
        self.coef = coef
        self.analyzer: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.per_word = vectorizer.analyzer == "char_wb"
        # The word analyser with nothing but a tokenizer and n-grams: the same n-grams, built
        # with C-level joins instead of sklearn's Python loop.
        self.plain_words = (
            vectorizer.analyzer == "word"
            and vectorizer.input == "content"
            and vectorizer.preprocessor is None
            and vectorizer.tokenizer is None
            and vectorizer.stop_words is None
        )
        if self.plain_words:
            self.word_preprocess = vectorizer.build_preprocessor()
            self.tokenize = vectorizer.build_tokenizer()
            self.ngram_range = tuple(vectorizer.ngram_range)
            self.bigram_table = self._bigram_table(vectorizer)
        if self.per_word:
            # The char_wb analyser pads and slices each whitespace-separated word on its own, so
            # a word's n-grams never depend on its neighbours and can be cached.
            self.preprocess = vectorizer.build_preprocessor()
            self.decode = vectorizer.decode
            self.char_range = tuple(vectorizer.ngram_range)
            self.cache: dict[str, np.ndarray] = {}
            self.packed = _PackedGrams.of(self.vocabulary, self.char_range)

    def _bigram_table(self, vectorizer: TfidfVectorizer) -> tuple[np.ndarray, np.ndarray] | None:
        """(sorted ``first id * width + second id``, bigram id) for every vocabulary bigram, so a
        text's bigrams are found from its unigram ids with one ``searchsorted`` instead of a
        joined string and a dictionary look-up each; None when that is not exact.

        Exact when tokens cannot contain a space (the ``\\w`` token patterns) and both words of
        every vocabulary bigram are vocabulary unigrams, which ``min_df`` guarantees: a bigram
        seen in k documents has each word in at least k documents. ``max_features`` or
        ``max_df`` can break that, and then the string path is used.
        """
        if self.ngram_range != (1, 2) or vectorizer.token_pattern not in _SPACELESS_TOKENS:
            return None
        self.fast_tokenize = _SPACELESS_TOKENS[vectorizer.token_pattern]
        vocabulary = self.vocabulary
        width = len(vocabulary)
        keys: list[int] = []
        ids: list[int] = []
        for term, column in vocabulary.items():
            first, space, second = term.partition(" ")
            if not space:
                continue
            a, b = vocabulary.get(first), vocabulary.get(second)
            if a is None or b is None or " " in second:
                return None
            keys.append(a * width + b)
            ids.append(column)
        order = np.argsort(np.asarray(keys, dtype=np.int64))
        return (
            np.asarray(keys, dtype=np.int64)[order],
            np.asarray(ids, dtype=np.intp)[order],
        )

    def _word_columns(self, text: str) -> np.ndarray:
        """``_ids(_word_grams(text))`` up to order, from unigram ids and the bigram table."""
        tokens = self.fast_tokenize(self.word_preprocess(text))
        n = len(tokens)
        ids = np.fromiter(map(self.vocabulary.get, tokens, repeat(-1)), dtype=np.int64, count=n)
        known = ids >= 0
        unigrams = ids[known]
        if n < 2:
            return unigrams.astype(np.intp, copy=False)
        pairs = known[:-1] & known[1:]
        keys = ids[:-1][pairs] * len(self.vocabulary) + ids[1:][pairs]
        table_keys, table_ids = self.bigram_table  # type: ignore[misc]
        at = np.searchsorted(table_keys, keys)
        at[at == table_keys.size] = 0
        found = table_keys[at] == keys
        return np.concatenate((unigrams, table_ids[at[found]])).astype(np.intp, copy=False)

    def _ids(self, grams: list[str]) -> np.ndarray:
        ids = np.fromiter(
            map(self.vocabulary.get, grams, repeat(-1)), dtype=np.intp, count=len(grams)
        )
        return ids[ids >= 0]

    def padded_ngrams(self, word: str) -> list[str]:
        """``vectorizer._char_wb_ngrams(word)`` for one word without whitespace, with list
        comprehensions instead of sklearn's while loop (a word not in the cache pays this)."""
        low, high = self.char_range
        padded = f" {word} "
        size = len(padded)
        grams: list[str] = []
        for n in range(low, high + 1):
            if n >= size:  # sklearn counts a word shorter than n once, then stops
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
        return grams

    def _cache_words(self, words: Iterable[str]) -> None:
        """Put the n-gram ids of the words not yet cached into the cache, in one numpy pass
        when there are enough of them to pay for it."""
        cache = self.cache
        missing = [word for word in dict.fromkeys(words) if word not in cache]
        if not missing:
            return
        if len(cache) + len(missing) > WORD_CACHE_SIZE:
            cache.clear()
        if self.packed is None or len(missing) < _BULK_FROM:
            cache.update(zip(missing, self._python_word_ids(missing), strict=True))
        else:
            cache.update(zip(missing, self.packed.word_ids(missing), strict=True))

    def _python_word_ids(self, words: list[str]) -> list[np.ndarray]:
        """``_word_ids`` of a few words: one list of ids and one array, sliced per word."""
        get = self.vocabulary.get
        low, high = self.char_range
        flat: list[int] = []
        ends: list[int] = []
        for word in words:
            padded = f" {word} "
            size = len(padded)
            if size > high:  # every n-gram length fits: all substrings, as sklearn's loop
                flat += [
                    i
                    for n in range(low, high + 1)
                    for at in range(size - n + 1)
                    if (i := get(padded[at : at + n])) is not None
                ]
            else:
                flat += [i for gram in self.padded_ngrams(word) if (i := get(gram)) is not None]
            ends.append(len(flat))
        ids = np.array(flat, dtype=np.intp)
        return [ids[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]

    def _word_ids(self, word: str) -> np.ndarray:
        ids = self.cache.get(word)
        if ids is None:
            ids = self._python_word_ids([word])[0]
            if len(self.cache) >= WORD_CACHE_SIZE:
                self.cache.clear()
            self.cache[word] = ids
        return ids

    def _word_grams(self, text: str) -> list[str]:
        tokens = self.tokenize(self.word_preprocess(text))
        low, high = self.ngram_range
        grams: list[str] = tokens[:] if low == 1 else []
        join = " ".join
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            grams.extend(map(join, zip(*(tokens[i:] for i in range(n)), strict=False)))
        return grams

    def columns(self, text: str) -> np.ndarray:
        """Vocabulary ids of every in-vocabulary n-gram of ``text``, repeated per occurrence."""
        if not self.per_word:
            if self.plain_words and self.bigram_table is not None:
                return self._word_columns(text)
            grams = self._word_grams(text) if self.plain_words else self.analyzer(text)
            return self._ids(grams)
        doc = self.preprocess(self.decode(text))
        # sklearn first collapses whitespace runs (\s\s+ → " "), which split() makes redundant:
        # \s and str.isspace agree on every code point.
        words = doc.split()
        if not words:
            return _EMPTY_IDS
        if len(words) >= _BULK_FROM:
            self._cache_words(words)
        return self._joined_ids(words)

    def _joined_ids(self, words: list[str]) -> np.ndarray:
        cached = self.cache.get
        parts = [
            ids if (ids := cached(word)) is not None else self._word_ids(word) for word in words
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _weights(self, unique: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Un-normalised tf-idf of each distinct n-gram, as ``TfidfTransformer`` computes it."""
        if self.binary:
            values = np.ones(unique.size, dtype=np.float64)
        elif self.sublinear:
            values = np.log(counts)
            values += 1.0
        else:
            values = counts
        if self.use_idf:
            values *= self.idf[unique]
        return values

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(vocabulary ids, feature values, share of the raw decision value) for ``text``."""
        return self._row(self.columns(text))

    def _row(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        n = ids.size
        if n == 0:
            return _EMPTY_IDS, _EMPTY_VALUES, 0.0
        if n == 1:
            unique, counts = ids, np.ones(1, dtype=np.float64)
        else:
            unique, counts = _count(np.sort(ids))
        values = self._weights(unique, counts)
        if self.norm == "l2":
            norm = math.sqrt(float(values @ values))
            if norm > 0.0:
                values /= norm
        elif self.norm == "l1":
            norm = float(np.abs(values).sum())
            if norm > 0.0:
                values /= norm
        return unique, values, float(self.coef[unique] @ values)

    def share(self, text: str) -> float:
        """``row(text)[2]``: this branch's share of the raw decision value."""
        return self._row(self.columns(text))[2]

    def _batch_columns(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vocabulary ids, text number) of every n-gram of every text, built for the whole
        batch at once: one look-up pass and one concatenation instead of some per text."""
        if self.per_word:
            documents = [self.preprocess(self.decode(text)).split() for text in texts]
            words = [word for document in documents for word in document]
            found = list(map(self.cache.get, words))
            misses = [i for i, ids in enumerate(found) if ids is None]
            if misses:
                self._cache_words([words[i] for i in misses])
                for i in misses:
                    found[i] = self._word_ids(words[i])
            if not found:
                return _EMPTY_IDS, _EMPTY_IDS
            word_sizes = np.fromiter(map(len, found), dtype=np.intp, count=len(found))
            docs = np.repeat(_repeat_per_text(list(map(len, documents))), word_sizes)
            return np.concatenate(found), docs
        if self.plain_words and self.bigram_table is not None:
            token_lists = [self.fast_tokenize(self.word_preprocess(text)) for text in texts]
            tokens = [token for token_list in token_lists for token in token_list]
            n = len(tokens)
            ids = np.fromiter(map(self.vocabulary.get, tokens, repeat(-1)), dtype=np.int64, count=n)
            docs = _repeat_per_text(list(map(len, token_lists)))
            known = ids >= 0
            pairs = known[:-1] & known[1:] & (docs[:-1] == docs[1:])
            keys = ids[:-1][pairs] * len(self.vocabulary) + ids[1:][pairs]
            table_keys, table_ids = self.bigram_table
            at = np.searchsorted(table_keys, keys)
            at[at == table_keys.size] = 0
            hit = table_keys[at] == keys
            return (
                np.concatenate((ids[known], table_ids[at[hit]])).astype(np.intp, copy=False),
                np.concatenate((docs[known], docs[:-1][pairs][hit])),
            )
        parts = [self.columns(text) for text in texts]
        docs = _repeat_per_text(list(map(len, parts)))
        return (np.concatenate(parts) if parts else _EMPTY_IDS), docs

    def shares(self, texts: Sequence[str]) -> np.ndarray:
        """This branch's share of the raw decision value for each text, in one vectorised pass.

        All texts' n-gram ids are keyed by (text, id) and counted together, so the per-call
        overhead of the array operations is paid once per batch instead of once per text.
        """
        n_texts = len(texts)
        ids, docs = self._batch_columns(texts)
        if ids.size == 0:
            return np.zeros(n_texts)
        width = len(self.vocabulary)
        # (text, id) keys; 32-bit when they fit, which halves the cost of the sort.
        dtype = np.int32 if n_texts * width < 2**31 else np.int64
        keys = docs.astype(dtype)
        keys *= width
        keys += ids
        keys.sort()
        unique_keys, counts = _count(keys)
        docs, unique = np.divmod(unique_keys, width)
        values = self._weights(unique, counts)
        dot = np.bincount(docs, weights=self.coef[unique] * values, minlength=n_texts)
        if self.norm == "l2":
            norms = np.sqrt(np.bincount(docs, weights=values * values, minlength=n_texts))
        elif self.norm == "l1":
            norms = np.bincount(docs, weights=np.abs(values), minlength=n_texts)
        else:
            return dot
        return np.divide(dot, norms, out=np.zeros(n_texts), where=norms > 0.0)


def _repeat_per_text(sizes: list[int] | np.ndarray) -> np.ndarray:
    """Text number of each item, for texts of ``sizes`` items."""
    sizes = np.asarray(sizes, dtype=np.intp)
    return np.repeat(np.arange(sizes.size, dtype=np.intp), sizes)


class _PackedGrams:
    """A char_wb vocabulary with every n-gram packed into one integer, so the n-grams of many
    words are generated and looked up in numpy instead of one Python slice and dictionary
    look-up each (about 20 per word).

    Each character of the vocabulary gets a code 1..A (A+1 for any other character) of
    ``bits`` bits; an n-gram is the sum of ``code << bits * position``. Codes are never 0, so
    n-grams of different lengths never share a key, and 0 marks an empty slot of the hash
    table (open addressing, linear probing, at most a quarter full) the keys are looked up in.
    """

    def __init__(self, table: np.ndarray, bits: int, ngram_range: tuple[int, int]) -> None:
        self.table, self.bits, self.ngram_range = table, bits, ngram_range
        self.slot_keys = np.zeros(1, dtype=np.int64)
        self.slot_ids = np.zeros(1, dtype=np.intp)
        self.slot_bits = 0

    @classmethod
    def of(cls, vocabulary: Mapping[str, int], ngram_range: tuple[int, int]) -> _PackedGrams | None:
        """None when packing would not be exact: the n-grams of a padded word (at least three
        characters) are then not all its substrings, or the keys do not fit in 63 bits."""
        low, high = ngram_range
        if not 2 <= low <= 3 or high < low:
            return None
        alphabet = sorted(set("".join(vocabulary)) | {" "})
        unknown = len(alphabet) + 1
        bits = unknown.bit_length()
        if bits * high > 63 or any(not low <= len(gram) <= high for gram in vocabulary):
            return None
        points = np.fromiter(map(ord, alphabet), dtype=np.int64, count=len(alphabet))
        # Code of every code point up to the largest in the alphabet; the last entry stands for
        # all larger ones.
        table = np.full(int(points.max()) + 2, unknown, dtype=np.int64)
        table[points] = np.arange(1, len(alphabet) + 1)
        packed = cls(table, bits, (low, high))
        grams = list(vocabulary)
        ids = np.fromiter(map(vocabulary.__getitem__, grams), dtype=np.intp, count=len(grams))
        packed._fill(packed._keys(grams), ids)
        return packed

    def _codes(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self.table[np.minimum(points, self.table.size - 1)]

    def _keys(self, grams: list[str]) -> np.ndarray:
        """Packed key of each n-gram (for building the table), one numpy pass per length."""
        keys = np.zeros(len(grams), dtype=np.int64)
        lengths = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
        for n in np.unique(lengths).tolist():
            where = np.flatnonzero(lengths == n)
            codes = self._codes("".join([grams[i] for i in where.tolist()])).reshape(-1, n)
            shifts = np.arange(n, dtype=np.int64) * self.bits
            keys[where] = np.bitwise_or.reduce(codes << shifts, axis=1)
        return keys

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        """Home slot of each key (Fibonacci hashing)."""
        product = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # wraps modulo 2**64
        return (product >> np.uint64(64 - self.slot_bits)).astype(np.intp)

    def _fill(self, keys: np.ndarray, ids: np.ndarray) -> None:
        self.slot_bits = max(10, (4 * keys.size).bit_length())
        mask = (1 << self.slot_bits) - 1
        self.slot_keys = np.zeros(mask + 1, dtype=np.int64)
        self.slot_ids = np.zeros(mask + 1, dtype=np.intp)
        slots = self._slots(keys)
        pending = np.arange(keys.size)
        while pending.size:
            # Each free slot goes to the first key that wants it; the others probe the next.
            wanted = slots[pending]
            free = self.slot_keys[wanted] == 0
            _, first = np.unique(wanted, return_index=True)
            takes = np.zeros(pending.size, dtype=bool)
            takes[first] = True
            takes &= free
            placed = pending[takes]
            self.slot_keys[slots[placed]] = keys[placed]
            self.slot_ids[slots[placed]] = ids[placed]
            pending = pending[~takes]
            slots[pending] = (slots[pending] + 1) & mask

    def _lookup(self, keys: np.ndarray) -> np.ndarray:
        """Vocabulary id of each key, -1 for keys not in the vocabulary."""
        found = np.full(keys.size, -1, dtype=np.intp)
        slots = self._slots(keys)
        pending = np.arange(keys.size)
        mask = self.slot_keys.size - 1
        while pending.size:
            at = slots[pending]
            stored = self.slot_keys[at]
            hit = stored == keys[pending]
            found[pending[hit]] = self.slot_ids[at[hit]]
            pending = pending[(stored != 0) & ~hit]
            slots[pending] = (slots[pending] + 1) & mask
        return found

    def word_ids(self, words: list[str]) -> list[np.ndarray]:
        """For each word (non-empty, no whitespace), the vocabulary ids of its char_wb n-grams.

        The words are joined as " w1 w2 … " and every substring of each length that has no
        space inside it (a space may open or close it) is one n-gram of one padded word; a
        substring that starts at the space before a word belongs to that word.
        """
        codes = self._codes(" " + " ".join(words) + " ")
        size = codes.size
        is_space = codes == self.table[ord(" ")]
        spaces_before = np.concatenate(([0], np.cumsum(is_space)))
        # Word of each position: the padded word k starts at the (k+1)-th space.
        word_at = spaces_before[1:] - 1
        keys: list[np.ndarray] = []
        words_of: list[np.ndarray] = []
        key = np.zeros(size, dtype=np.int64)
        low, high = self.ngram_range
        for n in range(1, high + 1):
            key = key[: size - n + 1]
            key |= codes[n - 1 :] << (self.bits * (n - 1))
            if n < low:
                continue
            if n > 2:  # no space strictly inside: among positions p+1 … p+n-2
                valid = np.flatnonzero(
                    spaces_before[n - 1 : size] == spaces_before[1 : size - n + 2]
                )
                keys.append(key[valid])
                words_of.append(word_at[valid])
            else:
                keys.append(key.copy())  # key is updated in place for the next length
                words_of.append(word_at[: size - n + 1])
        ids = self._lookup(np.concatenate(keys))
        word = np.concatenate(words_of)
        known = ids >= 0
        ids, word = ids[known], word[known]
        order = np.argsort(word, kind="stable")
        ends = np.cumsum(np.bincount(word, minlength=len(words))).tolist()
        grouped = ids[order]
        return [grouped[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _count(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs (``np.unique``'s counts
    without its per-call overhead)."""
    n = ordered.size
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return ordered[starts], np.diff(np.append(starts, n)).astype(np.float64)


class _MetaBranch:
    """A fitted ``DictVectorizer``, optionally followed by a fitted ``MaxAbsScaler``."""

    def __init__(
        self,
        vectorizer: DictVectorizer,
        scaler: MaxAbsScaler | None,
        offset: int,
        coef: np.ndarray,
    ) -> None:
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.separator = vectorizer.separator
        self.offset = offset
        n = len(vectorizer.feature_names_)
        # MaxAbsScaler multiplies by the reciprocal of its scale; do the same.
        self.multiplier = (
            1.0 / np.asarray(scaler.scale_, dtype=np.float64)
            if scaler is not None
            else np.ones(n, dtype=np.float64)
        ).tolist()
        self.coef = coef.tolist()

    def _features(self, meta: Mapping[str, Any]) -> Iterator[tuple[int, float]]:
        """(column, scaled value) of every known feature, as DictVectorizer + MaxAbsScaler."""
        vocabulary = self.vocabulary
        for name, value in meta.items():
            if isinstance(value, str):
                key, number = f"{name}{self.separator}{value}", 1.0
            elif value is None or isinstance(value, int | float | np.number):
                key, number = name, float(value) if value is not None else math.nan
            else:
                raise UnsupportedPipeline(f"metadata value of type {type(value).__name__}")
            column = vocabulary.get(key)
            if column is not None:
                yield column, number * self.multiplier[column]

    def share(self, meta: Mapping[str, Any]) -> float:
        """This branch's share of the raw decision value."""
        coef = self.coef
        return sum(coef[column] * value for column, value in self._features(meta))

    def row(self, meta: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, float]:
        columns: list[int] = []
        values: list[float] = []
        total = 0.0
        for column, scaled in self._features(meta):
            columns.append(column)
            values.append(scaled)
            total += self.coef[column] * scaled
        if not columns:
            return _EMPTY_IDS, _EMPTY_VALUES, 0.0
        ids = np.asarray(columns, dtype=np.intp)
        vals = np.asarray(values, dtype=np.float64)
        order = np.argsort(ids, kind="stable")
        return ids[order], vals[order], total


def _branch_parts(name: str, branch: Any) -> tuple[str, list[Any]]:
    """(what the branch selects: "text" or "meta", its remaining fitted steps)."""
    if not isinstance(branch, Pipeline) or len(branch.steps) < 2:
        raise UnsupportedPipeline(f"feature branch {name!r} is not a Pipeline with a selector")
    selector = branch.steps[0][1]
    rest = [step for _, step in branch.steps[1:]]
    if isinstance(selector, PreparedText):
        return "text", rest
    if isinstance(selector, PreparedMeta):
        return "meta", rest
    raise UnsupportedPipeline(f"feature branch {name!r} starts with {type(selector).__name__}")


class FastScorer:
    """The fitted pipeline's probability for one comment in a fraction of ``predict_proba``'s time.

    Build it once per loaded model (``FastScorer(pipeline)``); it is read-only apart from a
    bounded per-word cache, and safe to share between threads.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        steps = [step for _, step in pipeline.steps]
        if len(steps) != 3:
            raise UnsupportedPipeline("expected prepare → features → classifier")
        preparer, union, classifier = steps
        if not isinstance(preparer, CommentPreparer):
            raise UnsupportedPipeline(f"first step is {type(preparer).__name__}")
        if not isinstance(union, FeatureUnion) or union.transformer_weights:
            raise UnsupportedPipeline("second step must be an unweighted FeatureUnion")
        if not isinstance(classifier, CalibratedClassifierCV):
            raise UnsupportedPipeline(f"last step is {type(classifier).__name__}")
        if classifier.method != "sigmoid" or len(classifier.calibrated_classifiers_) != 1:
            raise UnsupportedPipeline("expected one sigmoid-calibrated classifier")
        if len(classifier.classes_) != 2:
            raise UnsupportedPipeline("expected a binary classifier")
        calibrated = classifier.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        calibrator = calibrated.calibrators[0]
        self.coef = np.asarray(estimator.coef_, dtype=np.float64).ravel()
        self.intercept = float(np.asarray(estimator.intercept_).ravel()[0])
        self._a = float(np.asarray(calibrator.a_).ravel()[0])
        self._b = float(np.asarray(calibrator.b_).ravel()[0])
        # Calibrated log-odds = slope * (x @ coef + intercept) + offset (as service/scoring.py).
        self.slope = -self._a
        self.offset = -self._b

        self._text_branches: list[_TextBranch] = []
        self._meta_branches: list[_MetaBranch] = []
        names: list[str] = []
        offset = 0
        for name, branch in union.transformer_list:
            kind, rest = _branch_parts(name, branch)
            if kind == "text":
                if len(rest) != 1 or not isinstance(rest[0], TfidfVectorizer):
                    raise UnsupportedPipeline(f"text branch {name!r} must end in TfidfVectorizer")
                inner = list(rest[0].get_feature_names_out())
                coef = self.coef[offset : offset + len(inner)]
                self._text_branches.append(_TextBranch(rest[0], offset, coef))
            else:
                if not isinstance(rest[0], DictVectorizer) or len(rest) > 2:
                    raise UnsupportedPipeline(f"meta branch {name!r} must be a DictVectorizer")
                scaler = rest[1] if len(rest) == 2 else None
                if scaler is not None and not isinstance(scaler, MaxAbsScaler):
                    raise UnsupportedPipeline(f"meta branch {name!r}: {type(scaler).__name__}")
                inner = list(rest[0].feature_names_)
                coef = self.coef[offset : offset + len(inner)]
                self._meta_branches.append(_MetaBranch(rest[0], scaler, offset, coef))
            names.extend(f"{name}__{feature}" for feature in inner)
            offset += len(inner)
        if offset != self.coef.size:
            raise UnsupportedPipeline(
                f"the features add up to {offset} columns, the classifier has {self.coef.size}"
            )
        # One idf array over all columns for the joint text share, when every text branch
        # weighs and normalises alike (sublinear tf, idf, L2: the pipeline's configuration).
        self._text_idf: np.ndarray | None = None
        self._text_bounds = [branch.offset for branch in self._text_branches[1:]]
        if self._text_branches and all(
            branch.sublinear and not branch.binary and branch.use_idf and branch.norm == "l2"
            for branch in self._text_branches
        ):
            self._text_idf = np.zeros(self.coef.size)
            for branch in self._text_branches:
                self._text_idf[branch.offset : branch.offset + branch.idf.size] = branch.idf
        self._order = [
            (branch.offset, branch)
            for branch in sorted(
                [*self._text_branches, *self._meta_branches], key=lambda b: b.offset
            )
        ]
        self.feature_names = np.asarray(names, dtype=object)

    def _probability(self, decision: float) -> tuple[float, float]:
        z = self._a * decision + self._b  # probability = expit(-z)
        if z >= 0.0:
            e = math.exp(-z)
            probability = e / (1.0 + e)
        else:
            probability = 1.0 / (1.0 + math.exp(z))
        return probability, -z

    def _joint_text_share(self, text: str) -> float:
        """The text branches' shares with one sort and count over all their n-gram columns
        instead of one per branch (the numpy calls, not the arithmetic, cost most for one
        comment); each branch is still normalised on its own."""
        branches = self._text_branches
        parts = [branch.columns(text) for branch in branches]
        ids = np.concatenate(
            [
                part + branch.offset if branch.offset else part
                for part, branch in zip(parts, branches, strict=True)
            ]
        )
        if ids.size == 0:
            return 0.0
        ids.sort()
        unique, counts = _count(ids)
        values = np.log(counts)
        values += 1.0
        values *= self._text_idf[unique]
        weighted = values * self.coef[unique]
        values *= values
        total = 0.0
        low = 0
        for high in [*np.searchsorted(unique, self._text_bounds).tolist(), unique.size]:
            if high > low:
                norm = math.sqrt(float(values[low:high].sum()))
                if norm > 0.0:
                    total += float(weighted[low:high].sum()) / norm
            low = high
        return total

    def _decision(self, prepared: PreparedComment) -> float:
        total = self.intercept
        if self._text_idf is not None:
            total += self._joint_text_share(prepared.text)
        else:
            for branch in self._text_branches:
                total += branch.share(prepared.text)
        for meta in self._meta_branches:
            total += meta.share(prepared.meta)
        return total

    def spam_probability(self, record: Mapping[str, Any]) -> float:
        """``pipeline.predict_proba([record])[0, 1]``."""
        return self._probability(self._decision(prepare(record)))[0]

    def spam_probabilities(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``pipeline.predict_proba(records)[:, 1]``, the text branches vectorised per batch."""
        prepared = [prepare(record) for record in records]
        decision = np.full(len(prepared), self.intercept)
        if prepared:
            texts = [item.text for item in prepared]
            for branch in self._text_branches:
                decision += branch.shares(texts)
            for meta in self._meta_branches:
                decision += [meta.share(item.meta) for item in prepared]
        return np.asarray(expit(-(self._a * decision + self._b)), dtype=np.float64)

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Same shape and values as ``pipeline.predict_proba(records)``: (ham, spam) columns."""
        spam = self.spam_probabilities(records)
        return np.column_stack([1.0 - spam, spam])

    def explain(self, record: Mapping[str, Any]) -> FastResult:
        """Probability, calibrated log-odds and the comment's sparse feature row."""
        prepared = prepare(record)
        decision = self.intercept
        all_ids: list[np.ndarray] = []
        all_values: list[np.ndarray] = []
        for offset, branch in self._order:
            source = prepared.text if isinstance(branch, _TextBranch) else prepared.meta
            ids, values, share = branch.row(source)  # type: ignore[arg-type]
            decision += share
            all_ids.append(ids + offset)
            all_values.append(values)
        probability, log_odds = self._probability(decision)
        return FastResult(
            probability=probability,
            log_odds=log_odds,
            indices=np.concatenate(all_ids) if all_ids else _EMPTY_IDS,
            values=np.concatenate(all_values) if all_values else _EMPTY_VALUES,
        )

    def contributions(self, record: Mapping[str, Any]) -> list[tuple[int, float]]:
        """``(feature column, feature value)`` for every non-zero feature of ``record``.

        Column numbers index ``feature_names`` and ``coef``; the feature's share of the
        calibrated log-odds is ``slope * coef[column] * value``.
        """
        result = self.explain(record)
        return [
            (int(i), float(v))
            for i, v in zip(result.indices, result.values, strict=True)
            if v != 0.0
        ]

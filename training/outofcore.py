"""Training on exports too large for memory: streamed chunks, hashed features, incremental fits.

``python -m training train --out-of-core`` reads every source in chunks (pandas
``read_csv(chunksize=)``, JSON Lines in chunks, Parquet by record batches), so memory depends
on the chunk size and the number of hashed features, never on the number of comments:

* features come from the same ``CommentPreparer`` as the in-memory path; words and character
  n-grams go through ``HashingVectorizer`` (no vocabulary to hold) followed by ``HashedIdf``,
  an IDF learnt incrementally on the first ``idf_rows`` training rows; the metadata signals go
  through ``FeatureHasher``;
* a logistic-loss ``SGDClassifier`` (averaged) learns with ``partial_fit``, one chunk at a time,
  for one or more passes over the sources;
* sigmoid calibration is fitted on the decision values of a calibration part the classifier
  never trained on, and the saved model is one ``Pipeline`` shaped like the in-memory one
  (``prepare``, a ``features`` union of ``words``/``chars``/``meta``, and a
  ``CalibratedClassifierCV`` over the frozen classifier), so the service serves it unchanged.

Rows are split by a hash of their duplicate group exactly like the in-memory path
(``training.evaluate.is_held_out``): the held-out part is the same rows, so the two paths'
held-out metrics compare like for like. The training part gives another hashed tenth to
calibration and cut-off choice. What is kept in memory besides one shuffle window of chunks:
decision values and labels of the calibration and held-out rows (a few bytes per row; the
calibration rows also a 64-bit hash of their duplicate group, so that copies of one text count
once when the cut-offs are chosen, as in the in-memory path) and bounded samples (for the
cut-offs and the promotion gate).

The cost: hashed features have no names, so verdict reasons from such a model name the kind
of signal ("word n-grams", "metadata") rather than the word; and there is no cross-validation
for cut-offs. ``bench/scale.py`` measures the accuracy cost against the in-memory path.
"""

from __future__ import annotations

import argparse
import logging
import math
import resource
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize

from training import artifacts
from training.data import (
    _HAM_LABELS,
    _SPAM_LABELS,
    AUTHORED_CORPUS,
    PUBLIC_CORPORA,
    REPO_ROOT,
    DataError,
    available_public,
    datasets_dir,
    file_sha256,
    mapped_fields,
    parse_mapping,
    text_group,
)
from training.evaluate import CostPolicy, choose_cutoffs, evaluate_scores, is_held_out
from training.features import COMMENT_FIELDS, CommentPreparer, PreparedMeta, PreparedText
from training.gate import compare
from training.report import write_report
from training.train import SourceInfo, drop_metadata

log = logging.getLogger(__name__)

TEST_SHARE = 0.2  # as training.evaluate.grouped_split: the same held-out rows
_LABELS = {**dict.fromkeys(_SPAM_LABELS, 1), **dict.fromkeys(_HAM_LABELS, 0)}


@dataclass(frozen=True, slots=True)
class StreamSource:
    """One labelled file read in chunks, with the column mapping of ``load_labelled``."""

    name: str
    path: Path
    mapping: Mapping[str, str] = field(default_factory=dict)
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class OutOfCoreParams:
    """Hyper-parameters and memory knobs of the streamed path."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    word_features: int = 2**20
    char_features: int = 2**20
    meta_features: int = 2**18
    C: float = 8.0  # as the in-memory LogisticRegression; alpha = 1 / (C * training rows)
    epochs: int = 0  # 0: enough passes for about MIN_UPDATES examples, 1 when data is large
    chunksize: int = 5_000
    shuffle_rows: int = 50_000  # rows mixed across sources before chunks are fitted
    idf_rows: int = 200_000
    calibration_share: float = 0.1
    cutoff_rows: int = 20_000
    gate_rows: int = 10_000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


MIN_UPDATES = 500_000
MAX_EPOCHS = 10
PROGRESS_CHUNKS = 50


def _progress(what: str, started: float) -> None:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    log.info("%s (%.0f s, peak memory %.0f MiB)", what, time.perf_counter() - started, peak)


class HashedIdf(TransformerMixin, BaseEstimator):
    """Sublinear tf, inverse document frequency and L2 norm for hashed term counts.

    ``TfidfTransformer`` cannot learn incrementally; this one counts document frequencies with
    ``partial_fit`` (one array of ``n_features`` counts) and uses the same smoothed IDF,
    ``ln((1 + n) / (1 + df)) + 1``.
    """

    def __init__(self, sublinear_tf: bool = True) -> None:
        self.sublinear_tf = sublinear_tf

    def fit(self, counts: sp.spmatrix, y: Any = None) -> HashedIdf:
        for name in ("df_", "n_docs_", "idf_"):
            if hasattr(self, name):
                delattr(self, name)
        return self.partial_fit(counts)

    def partial_fit(self, counts: sp.spmatrix, y: Any = None) -> HashedIdf:
        counts = sp.csr_matrix(counts)
        if not hasattr(self, "df_"):
            self.n_features_in_ = counts.shape[1]
            self.df_ = np.zeros(counts.shape[1], dtype=np.int64)
            self.n_docs_ = 0
        self.df_ += np.bincount(counts.indices, minlength=counts.shape[1])
        self.n_docs_ += counts.shape[0]
        self.idf_ = np.log((1 + self.n_docs_) / (1 + self.df_)) + 1.0
        return self

    def transform(self, counts: sp.spmatrix) -> sp.csr_matrix:
        matrix = sp.csr_matrix(counts, dtype=np.float64, copy=True)
        if self.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1.0
        matrix.data *= self.idf_[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)


def build_features(params: OutOfCoreParams) -> Pipeline:
    """``prepare`` and the ``features`` union, named as in ``training.pipeline``."""
    p = params
    words = Pipeline(
        [
            ("select", PreparedText()),
            (
                "hash",
                HashingVectorizer(
                    lowercase=False,
                    ngram_range=p.word_ngrams,
                    token_pattern=r"(?u)\b\w+\b",  # nosec B106 # a regex, not a password
                    n_features=p.word_features,
                    alternate_sign=False,
                    norm=None,
                ),
            ),
            ("tfidf", HashedIdf()),
        ]
    )
    chars = Pipeline(
        [
            ("select", PreparedText()),
            (
                "hash",
                HashingVectorizer(
                    lowercase=False,
                    analyzer="char_wb",
                    ngram_range=p.char_ngrams,
                    n_features=p.char_features,
                    alternate_sign=False,
                    norm=None,
                ),
            ),
            ("tfidf", HashedIdf()),
        ]
    )
    # Metadata signals are already scaled to [0, 1] by ``prepare``.
    meta = Pipeline(
        [
            ("select", PreparedMeta()),
            (
                "vectorize",
                FeatureHasher(n_features=p.meta_features, input_type="dict", alternate_sign=False),
            ),
        ]
    )
    return Pipeline(
        [
            ("prepare", CommentPreparer()),
            ("features", FeatureUnion([("words", words), ("chars", chars), ("meta", meta)])),
        ]
    )


# --- streaming the sources -------------------------------------------------------------------


def _raw_chunks(path: Path, chunksize: int) -> Iterator[pd.DataFrame]:
    suffixes = "".join(path.suffixes[-2:]).lower()
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if suffixes.endswith((".jsonl", ".ndjson", ".json")):
        with pd.read_json(path, lines=True, dtype=False, chunksize=chunksize) as reader:
            yield from reader
    elif suffixes.endswith((".csv", ".tsv")):
        sep = "\t" if suffixes.endswith(".tsv") else ","
        with pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunksize
        ) as reader:
            yield from reader
    elif suffixes.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
    else:
        raise DataError(f"{path}: unsupported format {path.suffix!r}; use .csv, .jsonl or .parquet")


def _normalise_chunk(raw: pd.DataFrame, source: StreamSource, first_row: int) -> pd.DataFrame:
    """One raw chunk in the common columns (as ``training.data.load_labelled``, vectorised)."""
    mapping, path = source.mapping, source.path
    frame = mapped_fields(raw, mapping, path)
    label_column = mapping.get("label", "label")
    labels = raw[label_column].astype(str).str.strip().str.lower().map(_LABELS)
    if labels.isna().any():
        i = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise DataError(
            f"{path}: row {first_row + i}, column {label_column!r}: label "
            f"{raw[label_column].iloc[i]!r} is neither spam nor ham"
        )
    frame["label"] = labels.astype(np.int8)
    empty = ~frame["content"].str.strip().astype(bool)
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataError(
            f"{path}: row {first_row + i}, column {mapping.get('content', 'content')!r}: "
            "content is empty"
        )
    group_column = mapping.get("group", "group")
    if group_column in raw.columns:
        frame["group"] = source.name + ":" + raw[group_column].astype(str)
    else:
        frame["group"] = [f"{source.name}:{text_group(t)}" for t in frame["content"]]
    frame["source"] = source.name
    frame["weight"] = float(source.weight)
    return frame.reset_index(drop=True)


def source_chunks(source: StreamSource, chunksize: int) -> Iterator[pd.DataFrame]:
    """A source's rows in chunks of the common columns."""
    first_row = 2 if source.path.suffix.lower() in (".csv", ".tsv") else 1
    for raw in _raw_chunks(source.path, chunksize):
        yield _normalise_chunk(raw, source, first_row)
        first_row += len(raw)


def mixed_chunks(
    sources: Sequence[StreamSource], params: OutOfCoreParams, *, seed: int, split_seed: int
) -> Iterator[pd.DataFrame]:
    """Chunks drawn in turn from every source, shuffled within a window of ``shuffle_rows``.

    Each row carries ``part``: ``test`` (held out, as the in-memory path), ``calibration`` or
    ``train``. An SGD learner sees the data in order, so sources and files sorted by label
    must not arrive one after the other.
    """
    rng = np.random.default_rng(seed)
    iterators = [source_chunks(s, params.chunksize) for s in sources]
    window: list[pd.DataFrame] = []
    rows = 0

    def flush() -> Iterator[pd.DataFrame]:
        frame = pd.concat(window, ignore_index=True)
        frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        for start in range(0, len(frame), params.chunksize):
            yield frame.iloc[start : start + params.chunksize]

    while iterators:
        for iterator in list(iterators):
            chunk = next(iterator, None)
            if chunk is None:
                iterators.remove(iterator)
                continue
            chunk["part"] = [_part(g, params, split_seed) for g in chunk["group"]]
            window.append(chunk)
            rows += len(chunk)
        if rows >= params.shuffle_rows or (not iterators and window):
            yield from flush()
            window, rows = [], 0


def _part(group: str, params: OutOfCoreParams, seed: int) -> str:
    if is_held_out(group, test_share=TEST_SHARE, seed=seed):
        return "test"
    if is_held_out(group, test_share=params.calibration_share, seed=seed + 1):
        return "calibration"
    return "train"


# --- training --------------------------------------------------------------------------------


@dataclass(slots=True)
class OutOfCoreRun:
    """What to train on, streamed; ``train_out_of_core`` records all of it in the card."""

    sources: list[StreamSource]
    models_dir: Path
    params: OutOfCoreParams = field(default_factory=OutOfCoreParams)
    policy: CostPolicy = field(default_factory=CostPolicy)
    seed: int = 0
    champion: artifacts.LoadedModel | None = None
    metadata_dropout: float = 0.3


class _Reservoir:
    """A uniform sample of at most ``size`` rows from a stream of frames (algorithm R)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seen = 0
        self.rows: list[dict[str, Any]] = []
        self.rng = np.random.default_rng(seed)

    def add(self, frame: pd.DataFrame) -> None:
        # Algorithm R, drawn for the whole frame at once; only the rows kept become dicts.
        seen = np.arange(self.seen, self.seen + len(frame))  # rows before each one
        slots = np.where(seen < self.size, seen, self.rng.integers(0, seen + 1))
        kept = np.flatnonzero(slots < self.size)
        for slot, row in zip(slots[kept], frame.iloc[kept].to_dict("records"), strict=True):
            if slot < len(self.rows):
                self.rows[slot] = row
            else:
                self.rows.append(row)
        self.seen += len(frame)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = frame[list(COMMENT_FIELDS)].to_dict("records")
    return records


def _fit_idf(features: Pipeline, run: OutOfCoreRun) -> tuple[int, bool]:
    """Learn both IDFs on the first ``idf_rows`` training rows; (rows seen, whole data seen)."""
    union = features.named_steps["features"]
    branches = {name: t for name, t in union.transformer_list if name in ("words", "chars")}
    seen = 0
    for chunk in mixed_chunks(run.sources, run.params, seed=run.seed, split_seed=run.seed):
        part = chunk[chunk["part"] == "train"]
        if part.empty:
            continue
        prepared = features.named_steps["prepare"].transform(_records(part))
        for branch in branches.values():
            text = branch.named_steps["select"].transform(prepared)
            branch.named_steps["tfidf"].partial_fit(branch.named_steps["hash"].transform(text))
        seen += len(part)
        if seen >= run.params.idf_rows:
            return seen, False
    if seen == 0:
        raise DataError("no training rows (every row fell in the held-out or calibration part)")
    return seen, True


def _epochs(params: OutOfCoreParams, train_rows: int, whole: bool) -> int:
    if params.epochs:
        return params.epochs
    if not whole:
        return 1
    return max(1, min(MAX_EPOCHS, math.ceil(MIN_UPDATES / train_rows)))


def train_out_of_core(run: OutOfCoreRun) -> Path:
    """Stream, fit, calibrate, evaluate and save one model version; returns its directory."""
    started = time.perf_counter()
    params = run.params
    features = build_features(params)
    idf_rows, whole = _fit_idf(features, run)
    epochs = _epochs(params, idf_rows, whole)
    alpha = 1.0 / (params.C * max(idf_rows, 1))
    log.info("IDF from %d training rows; %d epoch(s), alpha %.3g", idf_rows, epochs, alpha)
    sgd = SGDClassifier(loss="log_loss", alpha=alpha, average=True, random_state=run.seed)
    classes = np.array([0, 1])
    counts: dict[str, dict[str, int]] = {}
    for epoch in range(epochs):
        fitted = 0
        for i, chunk in enumerate(
            mixed_chunks(run.sources, params, seed=run.seed + epoch, split_seed=run.seed)
        ):
            if epoch == 0:
                for (source, part), n in chunk.groupby(["source", "part"]).size().items():
                    counts.setdefault(source, {}).setdefault(part, 0)
                    counts[source][part] += int(n)
                for source, n in chunk.groupby("source")["label"].sum().items():
                    counts[source]["spam"] = counts[source].get("spam", 0) + int(n)
            part = chunk[chunk["part"] == "train"]
            if part.empty:
                continue
            part = drop_metadata(
                part.reset_index(drop=True), run.metadata_dropout, run.seed + 1000 * epoch + i
            )
            matrix = features.transform(_records(part))
            sgd.partial_fit(
                matrix,
                part["label"].to_numpy(),
                classes=classes,
                sample_weight=part["weight"].to_numpy(),
            )
            fitted += len(part)
            if (i + 1) % PROGRESS_CHUNKS == 0:
                _progress(f"epoch {epoch + 1}/{epochs}: fitted {fitted} rows", started)
        _progress(f"epoch {epoch + 1}/{epochs}: fitted {fitted} rows", started)

    # One more pass: decision values of the calibration and held-out rows.
    decisions: dict[str, list[np.ndarray]] = {"calibration": [], "test": []}
    labels: dict[str, list[np.ndarray]] = {"calibration": [], "test": []}
    weights: list[np.ndarray] = []
    # Duplicate groups as 64-bit hashes: 8 bytes per calibration row where the strings
    # would take some 70 (a tenth of the training part: about 700,000 rows at 10M).
    cal_groups: list[np.ndarray] = []
    test_sources: list[np.ndarray] = []  # as codes: a few bytes per held-out row, not a str
    codes = {source.name: i for i, source in enumerate(run.sources)}
    calibration_sample = _Reservoir(2_000, run.seed)
    gate_sample = _Reservoir(params.gate_rows, run.seed + 1)
    chunks = mixed_chunks(run.sources, params, seed=run.seed, split_seed=run.seed)
    for i, chunk in enumerate(chunks):
        if (i + 1) % PROGRESS_CHUNKS == 0:
            scored = sum(len(d) for d in decisions["calibration"] + decisions["test"])
            _progress(f"calibration and held-out pass: scored {scored} rows", started)
        for name in ("calibration", "test"):
            part = chunk[chunk["part"] == name]
            if part.empty:
                continue
            values = sgd.decision_function(features.transform(_records(part)))
            decisions[name].append(values.astype(np.float64))
            labels[name].append(part["label"].to_numpy(dtype=np.int8))
            if name == "calibration":
                weights.append(part["weight"].to_numpy(dtype=np.float64))
                cal_groups.append(pd.util.hash_array(part["group"].to_numpy(dtype=object)))
                calibration_sample.add(part)
            else:
                test_sources.append(part["source"].map(codes).to_numpy(dtype=np.int16))
                gate_sample.add(part)
    if not decisions["calibration"] or not decisions["test"]:
        raise DataError("too little data: the calibration or held-out part is empty")
    cal_values = np.concatenate(decisions["calibration"])
    cal_y = np.concatenate(labels["calibration"]).astype(int)
    if len(np.unique(cal_y)) < 2:
        raise DataError("the calibration part holds only one class; add more data")
    classifier = _calibrated(sgd, features, calibration_sample.frame())
    sigmoid = _SigmoidCalibration().fit(cal_values, cal_y, np.concatenate(weights))
    calibrator = classifier.calibrated_classifiers_[0].calibrators[0]
    calibrator.a_, calibrator.b_ = sigmoid.a_, sigmoid.b_
    model = Pipeline([*features.steps, ("classifier", classifier)])

    cal_scores = sigmoid.predict(cal_values)
    keep = np.random.default_rng(run.seed).permutation(len(cal_y))[: params.cutoff_rows]
    cutoffs = choose_cutoffs(
        cal_y[keep], cal_scores[keep], run.policy, groups=np.concatenate(cal_groups)[keep]
    )
    log.info("cut-offs: %s", cutoffs)
    held_scores = sigmoid.predict(np.concatenate(decisions["test"]))
    y_test = np.concatenate(labels["test"]).astype(int)
    sources_test = np.concatenate(test_sources)
    total = {k: sum(c.get(k, 0) for c in counts.values()) for k in ("train", "calibration")}
    evaluation: dict[str, Any] = {
        "protocol": (
            "out-of-core: streamed chunks, hashed features, SGD (log loss, averaged) in "
            f"{epochs} epoch(s); grouped split by a hash of each duplicate group (the same "
            f"held-out rows as the in-memory path), {total['train']} training / "
            f"{total['calibration']} calibration / {len(y_test)} held-out rows; sigmoid "
            "calibration and cut-offs (each duplicate group counted once) on the calibration "
            "part, which the classifier never trained on"
        ),
        "held_out": evaluate_scores(y_test, held_scores, cutoffs),
        "by_source": {
            name: evaluate_scores(y_test[mask], held_scores[mask], cutoffs)
            for name, code in sorted(codes.items())
            if (mask := sources_test == code).sum() > 0
        },
    }
    gate = compare(run.champion, model, cutoffs, gate_sample.frame(), run.policy)
    log.info("gate against %s: %s", gate.champion_version or "nothing", gate.reason)
    version = artifacts.new_version()
    suffix = 1
    while (run.models_dir / version).exists():
        version, suffix = f"{artifacts.new_version()}-{suffix}", suffix + 1
    sources = [_source_info(s, counts.get(s.name, {})) for s in run.sources]
    card: dict[str, Any] = {
        "trainer": "out-of-core",
        "gate": gate.as_dict(),
        "feature_baseline": {},  # hashed metadata has no names to measure against
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": run.seed,
        "data": {
            "sources": [asdict(s) for s in sources],
            "rows": sum(s.rows for s in sources),
            "spam": sum(s.spam for s in sources),
        },
        "params": {**params.as_dict(), "epochs": epochs, "alpha": alpha},
        "policy": asdict(run.policy),
        "metadata_dropout": run.metadata_dropout,
        "cutoffs": cutoffs.as_dict(),
        "evaluation": evaluation,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    directory = artifacts.save_model(model, card, run.models_dir, version)
    write_report(directory, artifacts.read_card(directory), y_test, held_scores, cutoffs)
    log.info("saved model %s in %.1f s", directory, time.perf_counter() - started)
    return directory


def _calibrated(
    sgd: SGDClassifier, features: Pipeline, sample: pd.DataFrame
) -> CalibratedClassifierCV:
    """A sigmoid ``CalibratedClassifierCV`` over the frozen classifier, fitted on a small
    sample so that it has the served shape; its sigmoid is then refitted on every
    calibration row's decision value (which needs no feature matrix)."""
    classifier = CalibratedClassifierCV(FrozenEstimator(sgd), method="sigmoid")
    classifier.fit(features.transform(_records(sample)), sample["label"].to_numpy(dtype=int))
    return classifier


def _source_info(source: StreamSource, counts: Mapping[str, int]) -> SourceInfo:
    path = source.path
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    rows = sum(counts.get(part, 0) for part in ("train", "calibration", "test"))
    return SourceInfo(
        name=source.name,
        path=str(shown),
        sha256=file_sha256(path),
        rows=rows,
        spam=counts.get("spam", 0),
        weight=source.weight,
    )


# --- command line ----------------------------------------------------------------------------

# As training.__main__.DEFAULT_WEIGHTS (not imported: ``python -m training`` runs that file as
# ``__main__``, and importing it again would run it twice).
DEFAULT_WEIGHTS = {"authored": 2.0, "youtube": 1.0, "sms": 0.5}


def run_from_args(
    args: argparse.Namespace, champion: artifacts.LoadedModel | None, models_dir: Path
) -> OutOfCoreRun:
    """The sources ``python -m training train`` would load, as streams instead of frames."""
    if args.limit or args.cross_source:
        raise DataError("--limit and --cross-source are not available with --out-of-core")
    sources: list[StreamSource] = []
    if not args.no_default_data:
        if AUTHORED_CORPUS.exists():
            weight = DEFAULT_WEIGHTS["authored"]
            sources.append(StreamSource("authored", AUTHORED_CORPUS, {}, weight))
        directory = Path(args.datasets_dir) if args.datasets_dir else datasets_dir()
        for name in available_public(directory):
            corpus = PUBLIC_CORPORA[name]
            sources.append(
                StreamSource(
                    name,
                    directory / corpus.relative_path,
                    {**corpus.columns, "group": "text_group"},
                    DEFAULT_WEIGHTS.get(name, 1.0),
                )
            )
    mapping = parse_mapping(args.map)
    for path in args.data or []:
        path = Path(path)
        sources.append(StreamSource(path.stem, path, mapping, args.weight))
    if not sources:
        raise DataError("no training data: pass --data FILE or drop --no-default-data")
    return OutOfCoreRun(
        sources=sources,
        models_dir=models_dir,
        champion=champion,
        policy=CostPolicy(spam_prior=args.spam_prior, false_positive=args.fp_cost),
        seed=args.seed,
    )

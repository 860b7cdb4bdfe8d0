"""The filters a user would otherwise pick, trained and scored on the same splits as ours.

* TubeSpam-style bag of words: ``CountVectorizer`` with default settings on the raw comment
  text, then multinomial and Bernoulli naive Bayes, logistic regression and a linear SVM (the
  classifier families of the TubeSpam paper), each with library defaults — no tuning.
* SpamBayes: the chi-squared-combining classifier and tokenizer from the ``sbclassifier``
  package (the ``spambayes`` package itself does not build on Python 3.11). It says spam at a
  probability of 0.90, its own default ``spam_cutoff``.
* Sluice: ``build_pipeline()`` with the default ``ModelParams`` — the same configuration for
  every corpus — with cut-offs chosen by ``choose_cutoffs`` on grouped out-of-fold scores of the
  training part only, as ``python -m training train`` does.

Every model gives a continuous score for the threshold-free metrics and a yes/no "blocked"
decision under its own rule.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import BernoulliNB, MultinomialNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

from training.data import to_records
from training.evaluate import CostPolicy, choose_cutoffs, grouped_folds
from training.pipeline import ModelParams, build_pipeline
from training.verdicts import Cutoffs

try:  # an optional benchmark dependency: pip install sbclassifier==0.1.1
    import sbclassifier
except ImportError:  # pragma: no cover - reported in the benchmark output
    sbclassifier = None

SPAMBAYES_PACKAGE = "sbclassifier==0.1.1"


class Model(Protocol):
    """Something that learns from a frame of labelled comments and scores another."""

    name: str

    def fit(self, frame: pd.DataFrame) -> None: ...

    def scores(self, frame: pd.DataFrame) -> np.ndarray: ...

    def decisions(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        """Row label → blocked (True = said spam) under each decision rule the model has."""
        ...


def _texts(frame: pd.DataFrame) -> list[str]:
    return frame["content"].astype(str).tolist()


@dataclass
class BagOfWords:
    """TubeSpam-style: word counts of the raw text into a stock scikit-learn classifier."""

    name: str
    classifier: Any
    pipeline: Pipeline | None = None

    def fit(self, frame: pd.DataFrame) -> None:
        self.pipeline = make_pipeline(CountVectorizer(), self.classifier)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.pipeline.fit(_texts(frame), frame["label"].to_numpy())

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        if self.pipeline is None:
            raise RuntimeError(f"{self.name}: fit() before scores()")
        if hasattr(self.pipeline, "predict_proba"):
            return np.asarray(self.pipeline.predict_proba(_texts(frame))[:, 1])
        return np.asarray(self.pipeline.decision_function(_texts(frame)))

    def threshold(self) -> float:
        return 0.5 if hasattr(self.pipeline, "predict_proba") else 0.0

    def decisions(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        # Equivalent to predict(): the larger class probability, or the sign of the margin.
        return {self.name: scores > self.threshold()}


def bag_of_words_baselines() -> list[BagOfWords]:
    return [
        BagOfWords("BoW + multinomial NB", MultinomialNB()),
        BagOfWords("BoW + Bernoulli NB", BernoulliNB()),
        BagOfWords("BoW + logistic regression", LogisticRegression(max_iter=2000)),
        BagOfWords("BoW + linear SVM", LinearSVC()),
    ]


@dataclass
class SpamBayes:
    """SpamBayes' classifier and tokenizer (``sbclassifier``), with its own 0.90 spam cut-off."""

    name: str = "SpamBayes"
    classifier: Any = None

    @staticmethod
    def available() -> bool:
        return sbclassifier is not None

    def fit(self, frame: pd.DataFrame) -> None:
        if sbclassifier is None:
            raise RuntimeError("SpamBayes needs the sbclassifier package (requirements-dev.lock)")
        self.classifier = sbclassifier.Classifier(sbclassifier.ClassifierDb())
        for text, label in zip(_texts(frame), frame["label"].tolist(), strict=True):
            self.classifier.learn(sbclassifier.tokenize_text(text), bool(label))

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        if self.classifier is None:
            raise RuntimeError(f"{self.name}: fit() before scores()")
        return np.array(
            [self.classifier.spamprob(sbclassifier.tokenize_text(t)) for t in _texts(frame)]
        )

    def decisions(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        return {self.name: scores >= self.classifier.spam_cutoff}


@dataclass
class Sluice:
    """Our pipeline, one configuration everywhere, with cut-offs from the training part."""

    params: ModelParams = field(default_factory=ModelParams)
    policy: CostPolicy = field(default_factory=CostPolicy)
    cutoff_folds: int = 4
    seed: int = 0
    name: str = "Sluice"
    pipeline: Any = None
    cutoffs: Cutoffs | None = None

    def _fitted(self, frame: pd.DataFrame) -> Any:
        pipeline = build_pipeline(self.params, seed=self.seed)
        return pipeline.fit(to_records(frame), frame["label"].to_numpy())

    def fit(self, frame: pd.DataFrame) -> None:
        frame = frame.reset_index(drop=True)
        oof = np.zeros(len(frame))
        for fit_rows, score_rows in grouped_folds(
            frame, n_splits=self.cutoff_folds, seed=self.seed
        ):
            model = self._fitted(frame.iloc[fit_rows])
            oof[score_rows] = model.predict_proba(to_records(frame.iloc[score_rows]))[:, 1]
        self.cutoffs = choose_cutoffs(
            frame["label"].to_numpy(), oof, self.policy, groups=frame["group"].to_numpy()
        )
        self.pipeline = self._fitted(frame)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(to_records(frame))[:, 1])

    def decisions(self, scores: np.ndarray) -> dict[str, np.ndarray]:
        if self.cutoffs is None:
            raise RuntimeError(f"{self.name}: fit() before decisions()")
        return {
            f"{self.name} (own cut-offs)": scores >= self.cutoffs.spam,
            f"{self.name} (0.5)": scores >= 0.5,
        }


def all_models() -> list[Model]:
    """Ours first, then the baselines (SpamBayes only when its package is installed)."""
    models: list[Model] = [Sluice(), *bag_of_words_baselines()]
    if SpamBayes.available():
        models.append(SpamBayes())
    return models

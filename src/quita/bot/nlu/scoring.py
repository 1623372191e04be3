"""The fitted intent model's arithmetic without scikit-learn's per-call machinery.

``Pipeline.predict_proba`` for one short message cost ~20 ms of CPU (66 ms at load 20), almost all of
it input validation, sparse-matrix assembly and estimator dispatch, for what is a dot product of a few
hundred TF-IDF weights with a 16-column weight matrix and a sigmoid per class. On a machine answering
50 conversations at once that was a fifth of each reply's CPU. :class:`LinearScorer` reads the fitted
vocabularies, IDF weights, SVM coefficients and sigmoid calibration once and repeats exactly the same
steps per message (counts → ``1 + log(tf)`` → × IDF → L2 per block → · coef + intercept →
``1 / (1 + exp(a·d + b))`` → divide by the sum); tests check it equals ``predict_proba`` on the whole
evaluation set. Any pipeline that is not the shape :func:`~quita.bot.nlu.classifier.build_pipeline`
makes is refused (:func:`scorer_for` returns None) and the caller keeps using scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


class LinearScorer:
    """Calibrated class probabilities of one normalised text, in the pipeline's ``classes_`` order."""

    def __init__(
        self,
        blocks: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]],
        weights: np.ndarray,
        intercept: np.ndarray,
        slope: np.ndarray,
        offset: np.ndarray,
    ) -> None:
        self._blocks = blocks  # (analyzer, vocabulary, idf, first column of the block)
        self._weights = weights  # (features, classes)
        self._intercept = intercept
        self._slope, self._offset = slope, offset
        self._uniform = np.full(len(intercept), 1.0 / len(intercept))

    def proba(self, text: str) -> np.ndarray:
        margins = self._intercept.copy()
        for analyze, vocabulary, idf, start in self._blocks:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                column = vocabulary.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            if not counts:
                continue
            columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            values = (np.log(tf) + 1.0) * idf[columns]
            values /= np.sqrt(values @ values)
            margins += values @ self._weights[columns + start]
        proba = 1.0 / (1.0 + np.exp(self._slope * margins + self._offset))
        total = proba.sum()
        return proba / total if total != 0 else self._uniform.copy()


def scorer_for(pipeline: Pipeline) -> LinearScorer | None:
    """A scorer equivalent to ``pipeline.predict_proba``, or None when the pipeline is not the expected shape."""
    try:
        features, model = pipeline.named_steps["features"], pipeline.named_steps["model"]
        if getattr(features, "transformer_weights", None) or len(model.calibrated_classifiers_) != 1:
            return None
        calibrated = model.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        if calibrated.method != "sigmoid" or len(model.classes_) < 3:
            return None
        classes = list(model.classes_)
        if list(estimator.classes_) != classes or len(calibrated.calibrators) != len(classes):
            return None
        blocks: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray, int]] = []
        start = 0
        for _, vectorizer in features.transformer_list:
            if not _plain_tfidf(vectorizer):
                return None
            blocks.append((vectorizer.build_analyzer(), dict(vectorizer.vocabulary_),
                           np.asarray(vectorizer.idf_, dtype=np.float64), start))  # fmt: skip
            start += len(vectorizer.vocabulary_)
        coef = np.asarray(estimator.coef_, dtype=np.float64)
        if coef.shape != (len(model.classes_), start):
            return None
        slope = np.array([float(c.a_) for c in calibrated.calibrators])
        offset = np.array([float(c.b_) for c in calibrated.calibrators])
        return LinearScorer(
            blocks, np.ascontiguousarray(coef.T), np.asarray(estimator.intercept_, dtype=np.float64).copy(),
            slope, offset,
        )  # fmt: skip
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _plain_tfidf(vectorizer: Any) -> bool:
    """The TF-IDF settings :class:`LinearScorer` reproduces (the ones ``build_pipeline`` uses)."""
    return (
        type(vectorizer).__name__ == "TfidfVectorizer"
        and vectorizer.norm == "l2"
        and vectorizer.use_idf
        and vectorizer.sublinear_tf
        and not vectorizer.binary
        and vectorizer.vocabulary is None
        and hasattr(vectorizer, "idf_")
    )

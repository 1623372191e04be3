"""The statistical half of the NLU: TF-IDF features into a calibrated linear SVM.

Character n-grams (within word boundaries) absorb typos and missing accents
("boletu", "falesceu"); word n-grams carry phrasing ("ja paguei", "semana que vem").
The model is trained from the bundled text files — never downloaded — in a few
seconds, then cached on disk keyed by the data's hash, the code version and the
scikit-learn version, so a stale cache is never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quita.bot.nlu.corpus import Example, fingerprint, load_split
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.normalize import normalize
from quita.bot.nlu.scoring import LinearScorer, scorer_for

if TYPE_CHECKING:  # scikit-learn costs seconds and ~100 MB to import: only when a model is needed
    from sklearn.pipeline import Pipeline

log = logging.getLogger(__name__)

#: Bump when features, hyper-parameters or normalisation change, to invalidate cached models.
MODEL_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: Intent
    confidence: float
    ranking: tuple[tuple[Intent, float], ...]  # best first


def build_pipeline() -> Pipeline:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)),
            (
                "words",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+"),
            ),
        ]
    )
    # A linear SVM fits in well under a second here (logistic regression took ~20 s on the
    # same features); sigmoid calibration fitted on 3-fold out-of-fold margins turns them into
    # probabilities, and ensemble=False keeps one model so a prediction costs a few ms.
    model = CalibratedClassifierCV(LinearSVC(C=0.5, random_state=0), method="sigmoid", cv=3, ensemble=False)
    return Pipeline([("features", features), ("model", model)])


class IntentClassifier:
    """A fitted pipeline plus the label order; texts given to it are normalised first.

    Predictions go through :class:`~quita.bot.nlu.scoring.LinearScorer` (the same numbers, ~100× less
    CPU per message); :meth:`predict_many_sklearn` keeps scikit-learn's own path for comparison.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._labels = [Intent(label) for label in pipeline.classes_]
        self._scorer: LinearScorer | None = scorer_for(pipeline)

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    @classmethod
    def train(cls, examples: list[Example]) -> IntentClassifier:
        if not examples:
            raise ValueError("cannot train the intent classifier on no examples")
        pipeline = build_pipeline()
        pipeline.fit([normalize(e.text) for e in examples], [e.intent.value for e in examples])
        return cls(pipeline)

    def predict_normalized(self, text: str) -> Prediction:
        return self.predict_many_normalized([text])[0]

    def predict_many_normalized(self, texts: list[str]) -> list[Prediction]:
        if self._scorer is None:
            return self.predict_many_sklearn(texts)
        return [self._prediction(self._scorer.proba(text)) for text in texts]

    def predict_many_sklearn(self, texts: list[str]) -> list[Prediction]:
        """scikit-learn's ``predict_proba`` (one vectorised pass): the reference the fast path must equal."""
        return [self._prediction(row) for row in self._pipeline.predict_proba(texts)]

    def _prediction(self, row: Any) -> Prediction:
        ranking = sorted(zip(self._labels, (float(p) for p in row), strict=True), key=lambda pair: -pair[1])
        return Prediction(ranking[0][0], ranking[0][1], tuple(ranking))

    def predict(self, text: str) -> Prediction:
        return self.predict_normalized(normalize(text))


def cache_dir() -> Path:
    """Where trained models are kept: ``QUITA_NLU_CACHE_DIR``, else under ``QUITA_DATA_DIR``, else the user cache."""
    if explicit := os.environ.get("QUITA_NLU_CACHE_DIR"):
        return Path(explicit)
    if data := os.environ.get("QUITA_DATA_DIR"):
        return Path(data) / "cache" / "nlu"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "quita" / "nlu"


def cache_key(data_root: Path | None = None) -> str:
    """Hash of everything the fitted model depends on: training data, feature code, normaliser, library version."""
    code = hashlib.sha256()
    for module in ("classifier.py", "normalize.py"):
        code.update((Path(__file__).parent / module).read_bytes())
    import sklearn

    material = f"{fingerprint(data_root)}:{MODEL_VERSION}:{code.hexdigest()}:{sklearn.__version__}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def load_or_train(data_root: Path | None = None, directory: Path | None = None) -> IntentClassifier:
    """The classifier for the current training data, from the disk cache when it matches, else freshly trained.

    The cache file is written by this function only (name = hash of data + code
    version), via an atomic rename; an unreadable cache entry is ignored and the model retrained.
    """
    directory = directory or cache_dir()
    path = directory / f"intent-{cache_key(data_root)}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as cached:
                # Safe only because this process family wrote the file; the folder must not be shared
                # with untrusted users (pickle runs code on load).
                pipeline = pickle.load(cached)
            return IntentClassifier(pipeline)
        except Exception:  # a truncated or foreign file: rebuild rather than fail the bot
            log.warning("ignoring unreadable NLU cache %s", path, exc_info=True)
    classifier = IntentClassifier.train(load_split("train", data_root))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, delete=False, suffix=".tmp") as scratch:
            pickle.dump(classifier.pipeline, scratch, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(scratch.name, path)
    except OSError:
        log.warning("could not cache the NLU model in %s; it stays in memory", directory, exc_info=True)
    return classifier

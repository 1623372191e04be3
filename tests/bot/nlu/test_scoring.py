"""The fast scorer gives scikit-learn's own probabilities, so switching to it changes no reading."""

from __future__ import annotations

from quita.bot.nlu.classifier import IntentClassifier
from quita.bot.nlu.corpus import load_split
from quita.bot.nlu.normalize import normalize
from quita.bot.nlu.scoring import scorer_for


def test_fast_path_equals_sklearn_on_the_evaluation_set(classifier: IntentClassifier) -> None:
    assert scorer_for(classifier.pipeline) is not None  # otherwise both sides below would be sklearn's
    texts = [normalize(e.text) for e in load_split("eval")]
    texts += ["", "zzqx wvk", "PARAR " * 400]  # nothing in the vocabulary; one very long message
    fast, reference = classifier.predict_many_normalized(texts), classifier.predict_many_sklearn(texts)
    assert len(fast) == len(reference) == len(texts) > 500
    for text, mine, theirs in zip(texts, fast, reference, strict=True):
        assert [label for label, _ in mine.ranking] == [label for label, _ in theirs.ranking], text
        gap = max(abs(p - q) for (_, p), (_, q) in zip(mine.ranking, theirs.ranking, strict=True))
        assert gap < 1e-9, text


def test_an_unexpected_pipeline_falls_back_to_sklearn(classifier: IntentClassifier) -> None:
    from sklearn.pipeline import Pipeline

    model_only = Pipeline([("model", classifier.pipeline.named_steps["model"])])
    assert scorer_for(model_only) is None

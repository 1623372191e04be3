"""One message in, one reading out: rules first where a miss is costly, the model otherwise, then entities.

This is what the dialog state machine calls for every inbound text. It is pure
(no I/O beyond loading the cached model once) and fast: a few milliseconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from quita.bot.nlu import rules
from quita.bot.nlu.classifier import IntentClassifier, Prediction, load_or_train
from quita.bot.nlu.entities import Entities, extract_entities
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.normalize import normalize
from quita.kit.heap import settle_heap

log = logging.getLogger("quita.bot.nlu")

#: WhatsApp allows 4096 characters; longer input is hostile or pasted junk and is cut.
MAX_CHARS = 4096
#: Confidence reported when a high-precision rule decides the intent.
RULE_CONFIDENCE = 0.99


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: Intent
    confidence: float
    entities: Entities
    rule: str | None  # the rule that decided the intent, None when the model did
    model_intent: Intent
    model_confidence: float
    signals: tuple[str, ...] = ()  # e.g. "over_indebted" (CDC-12); other guarded intents that also fired

    def as_json(self) -> dict[str, object]:
        return {
            "intent": self.intent.value,
            "confidence": round(self.confidence, 4),
            "entities": self.entities.as_json(),
            "rule": self.rule,
            "signals": list(self.signals),
        }


class Nlu:
    """Intent classifier plus rules plus entity extraction."""

    def __init__(self, classifier: IntentClassifier) -> None:
        self._classifier = classifier

    def understand(self, text: str, today: date) -> Understanding:
        return self.understand_many([text], today)[0]

    def understand_many(self, texts: list[str], today: date) -> list[Understanding]:
        """Read several messages at once; the model scores them in one vectorised pass."""
        raws = [text[:MAX_CHARS] for text in texts]
        normalized = [normalize(raw) for raw in raws]
        predictions = self._classifier.predict_many_normalized(normalized)
        return [
            self._combine(raw, norm, prediction, today)
            for raw, norm, prediction in zip(raws, normalized, predictions, strict=True)
        ]

    @staticmethod
    def _combine(raw: str, normalized: str, prediction: Prediction, today: date) -> Understanding:
        intent, confidence, rule = prediction.intent, prediction.confidence, None
        hits = rules.fire(raw, normalized)
        if hits:
            intent, rule = hits[0].intent, hits[0].rule
            confidence = max(RULE_CONFIDENCE, dict(prediction.ranking)[intent])
        elif not normalized:
            intent, confidence, rule = Intent.GREETING_OTHER, RULE_CONFIDENCE, "empty"
        signals = tuple(rules.signals(normalized)) + tuple(f"also:{hit.intent.value}" for hit in hits[1:])
        entities = extract_entities(normalized, today, past=intent is Intent.ALREADY_PAID)
        return Understanding(
            intent, confidence, entities, rule, prediction.intent, prediction.confidence, signals
        )


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> Nlu:
    return Nlu(load_or_train())


def default_nlu() -> Nlu:
    """The process-wide NLU, trained or loaded from the cache on first use.

    Loaded under a lock: the first replies arrive on several job threads at once, and each used to
    import scikit-learn and unpickle (or train) its own copy, doubling the start-up stall."""
    with _loading:
        return _load()


default_nlu.cache_clear = _load.cache_clear  # type: ignore[attr-defined]


def preload() -> threading.Thread:
    """Loads the process-wide NLU on a background thread. A process that answers debtors calls it at start:
    otherwise the first person to write after a restart waits for scikit-learn's import and the model's
    unpickling (seconds on a small machine), and the replies queued behind them wait too."""

    def load() -> None:
        try:
            default_nlu()
        except Exception:  # the first reply will try again and report it
            log.exception("could not preload the NLU model")
            return
        settle_heap()  # scikit-learn and the model stay for the process's life: out of the collector's walks

    thread = threading.Thread(target=load, name="quita-nlu-preload", daemon=True)
    thread.start()
    return thread


def understand(text: str, today: date) -> Understanding:
    return default_nlu().understand(text, today)

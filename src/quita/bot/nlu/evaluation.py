"""Measure the NLU on the held-out evaluation set: per-intent precision/recall/F1 and a confusion matrix.

The figures judge the whole reader (rules + model), since that is what the bot runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from quita.bot.nlu.corpus import Example
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.understanding import Nlu

TARGET_MACRO_F1 = 0.90
TARGET_OPT_OUT_RECALL = 0.98
#: Entities do not affect the intent; any fixed day will do.
_REFERENCE_DAY = date(2025, 1, 15)


@dataclass(frozen=True, slots=True)
class IntentScore:
    intent: Intent
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Miss:
    source: str
    text: str
    expected: Intent
    predicted: Intent
    rule: str | None


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    scores: tuple[IntentScore, ...]
    labels: tuple[Intent, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: expected, columns: predicted, in ``labels`` order
    accuracy: float
    misses: tuple[Miss, ...]

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.scores) / len(self.scores)

    @property
    def opt_out_recall(self) -> float:
        return next(s.recall for s in self.scores if s.intent is Intent.OPT_OUT)

    @property
    def targets_met(self) -> bool:
        return self.macro_f1 >= TARGET_MACRO_F1 and self.opt_out_recall >= TARGET_OPT_OUT_RECALL

    def as_json(self) -> dict[str, object]:
        return {
            "examples": sum(s.support for s in self.scores),
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "opt_out_recall": round(self.opt_out_recall, 4),
            "targets": {
                "macro_f1": TARGET_MACRO_F1,
                "opt_out_recall": TARGET_OPT_OUT_RECALL,
                "met": self.targets_met,
            },
            "per_intent": {
                s.intent.value: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for s in self.scores
            },
            "labels": [label.value for label in self.labels],
            "confusion": [list(row) for row in self.confusion],
            "misses": [
                {
                    "source": m.source,
                    "text": m.text,
                    "expected": m.expected.value,
                    "predicted": m.predicted.value,
                    "rule": m.rule,
                }
                for m in self.misses
            ],
        }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def evaluate(nlu: Nlu, examples: list[Example]) -> EvaluationReport:
    if not examples:
        raise ValueError("no evaluation examples")
    labels = tuple(Intent)
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    misses: list[Miss] = []
    readings = nlu.understand_many([example.text for example in examples], _REFERENCE_DAY)
    for example, reading in zip(examples, readings, strict=True):
        matrix[index[example.intent]][index[reading.intent]] += 1
        if reading.intent is not example.intent:
            misses.append(Miss(example.source, example.text, example.intent, reading.intent, reading.rule))
    scores = []
    for label, i in index.items():
        true_positive = matrix[i][i]
        predicted = sum(row[i] for row in matrix)
        support = sum(matrix[i])
        precision, recall = _ratio(true_positive, predicted), _ratio(true_positive, support)
        f1 = _ratio(int(2 * precision * recall * 1_000_000), int((precision + recall) * 1_000_000))
        scores.append(IntentScore(label, precision, recall, f1, support))
    correct = sum(matrix[i][i] for i in range(len(labels)))
    return EvaluationReport(
        tuple(scores), labels, tuple(tuple(row) for row in matrix), correct / len(examples), tuple(misses)
    )

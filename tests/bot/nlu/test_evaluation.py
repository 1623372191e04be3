from quita.bot.nlu.corpus import load_split
from quita.bot.nlu.evaluation import TARGET_MACRO_F1, TARGET_OPT_OUT_RECALL, evaluate
from quita.bot.nlu.intents import Intent
from quita.bot.nlu.understanding import Nlu


def test_targets_are_met_on_the_held_out_set(nlu: Nlu) -> None:
    report = evaluate(nlu, load_split("eval"))
    assert report.macro_f1 >= TARGET_MACRO_F1, report.as_json()["per_intent"]
    assert report.opt_out_recall >= TARGET_OPT_OUT_RECALL, [
        m for m in report.misses if m.expected is Intent.OPT_OUT
    ]
    assert report.targets_met


def test_report_is_consistent(nlu: Nlu) -> None:
    examples = load_split("eval")
    report = evaluate(nlu, examples)
    assert sum(map(sum, report.confusion)) == len(examples)
    assert len(report.misses) == len(examples) - sum(
        report.confusion[i][i] for i in range(len(report.labels))
    )
    assert {s.intent for s in report.scores} == set(Intent)
    payload = report.as_json()
    assert payload["examples"] == len(examples)
    per_intent = payload["per_intent"]
    assert isinstance(per_intent, dict)
    assert set(per_intent) == {i.value for i in Intent}

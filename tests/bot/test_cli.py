import json
from pathlib import Path

from typer.testing import CliRunner

from quita.bot.nlu.understanding import Nlu
from quita.cli import app

runner = CliRunner()


def test_classify_prints_the_json_contract(nlu: Nlu, nlu_cache: Path) -> None:
    result = runner.invoke(
        app, ["bot", "classify", "dá pra fazer em 12x? pago dia 10", "--today", "2025-06-18"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"intent", "confidence", "entities"} <= set(payload)
    assert payload["intent"] in {"negotiate", "promise_to_pay"}
    assert payload["entities"]["installments"] == 12
    assert payload["entities"]["date"]["value"] == "2025-07-10"


def test_classify_opt_out(nlu: Nlu) -> None:
    result = runner.invoke(
        app, ["bot", "classify", "ok, mas PARAR de mandar mensagem", "--today", "2025-06-18"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["intent"] == "opt_out"
    assert payload["rule"]


def test_classify_rejects_a_bad_reference_date(nlu: Nlu) -> None:
    result = runner.invoke(app, ["bot", "classify", "oi", "--today", "18/06/2025"])
    assert result.exit_code != 0
    assert "AAAA-MM-DD" in result.output


def test_evaluate_json(nlu: Nlu) -> None:
    result = runner.invoke(app, ["bot", "evaluate", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["targets"]["met"] is True
    assert len(payload["confusion"]) == 16


def test_evaluate_table(nlu: Nlu) -> None:
    result = runner.invoke(app, ["bot", "evaluate"])
    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.output
    assert "Metas atingidas" in result.output
    assert "opt_out" in result.output

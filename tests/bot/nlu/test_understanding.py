from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quita.bot.nlu.intents import Intent
from quita.bot.nlu.understanding import MAX_CHARS, Nlu

TODAY = date(2025, 6, 18)


def test_rules_override_the_model_and_say_which_rule(nlu: Nlu) -> None:
    reading = nlu.understand("oi boa tarde, ja paguei mas me tira dessa lista por favor", TODAY)
    assert reading.intent is Intent.OPT_OUT
    assert reading.rule is not None and reading.rule.startswith("opt_out.")
    assert reading.confidence >= 0.99


def test_model_decides_when_no_rule_fires(nlu: Nlu) -> None:
    reading = nlu.understand("dá pra fazer em 12x?", TODAY)
    assert reading.rule is None
    assert reading.intent is Intent.NEGOTIATE
    assert reading.entities.installments == 12


def test_promise_with_date(nlu: Nlu) -> None:
    reading = nlu.understand("pago dia 10 sem falta", TODAY)
    assert reading.intent is Intent.PROMISE_TO_PAY
    assert reading.entities.date is not None and reading.entities.date.value == date(2025, 7, 10)


def test_vague_promise_is_flagged(nlu: Nlu) -> None:
    reading = nlu.understand("quando cair o salario eu pago", TODAY)
    assert reading.intent is Intent.PROMISE_TO_PAY
    assert reading.entities.date is not None
    assert reading.entities.date.vague and reading.entities.date.value is None


def test_already_paid_resolves_dates_backwards(nlu: Nlu) -> None:
    reading = nlu.understand("ja paguei sexta na loterica", TODAY)
    assert reading.intent is Intent.ALREADY_PAID
    assert reading.entities.date is not None and reading.entities.date.value == date(2025, 6, 13)


def test_counter_proposal_amount(nlu: Nlu) -> None:
    reading = nlu.understand("consigo pagar 150 por mês", TODAY)
    assert reading.intent is Intent.NEGOTIATE
    assert reading.entities.amount is not None and reading.entities.amount.value == Decimal("150.00")


def test_other_guarded_intents_and_over_indebtedness_are_signalled(nlu: Nlu) -> None:
    reading = nlu.understand("meu pai faleceu, parem de mandar mensagem", TODAY)
    assert reading.intent is Intent.OPT_OUT
    assert "also:deceased" in reading.signals
    assert "over_indebted" in nlu.understand("to superendividado, nao consigo pagar ninguem", TODAY).signals


def test_emoji_only_message(nlu: Nlu) -> None:
    reading = nlu.understand("👍", TODAY)
    assert reading.intent is Intent.GREETING_OTHER


def test_json_contract(nlu: Nlu) -> None:
    payload = nlu.understand("posso dar 300 de entrada", TODAY).as_json()
    assert {"intent", "confidence", "entities"} <= set(payload)
    assert payload["intent"] in {i.value for i in Intent}
    assert isinstance(payload["confidence"], float)
    assert payload["entities"]["amount"] == {"value": "300.00", "text": "300", "role": "down_payment"}  # type: ignore[index]


def test_huge_input_is_cut(nlu: Nlu) -> None:
    reading = nlu.understand("ja paguei " * 5000, TODAY)
    assert reading.intent is Intent.ALREADY_PAID
    assert MAX_CHARS == 4096


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_gets_a_reading(nlu: Nlu, text: str) -> None:
    reading = nlu.understand(text, TODAY)
    assert reading.intent in Intent
    assert 0 <= reading.confidence <= 1

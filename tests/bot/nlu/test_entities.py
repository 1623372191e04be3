from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.bot.nlu.entities import AmountRole, extract_entities
from quita.bot.nlu.normalize import normalize

TODAY = date(2025, 6, 18)


def entities(text: str):  # type: ignore[no-untyped-def]
    return extract_entities(normalize(text), TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dá pra fazer em 12x?", 12),
        ("faz em 10 x", 10),
        ("parcela em 6 vezes", 6),
        ("quero em 24 parcelas", 24),
        ("doze vezes", 12),
        ("em vinte e quatro vezes", 24),
        ("parcelar em dez", 10),
        ("divide em 4", 4),
        ("pagar em 10 meses", 10),
        ("em 12", 12),
        ("3x de 200", 3),
        ("quanto fica a vista?", 1),
    ],
)
def test_installments(text: str, expected: int) -> None:
    assert entities(text).installments == expected


@pytest.mark.parametrize(
    "text",
    [
        "ja pedi 3 vezes pra sair",
        "em 10 dias eu pago",
        "opcao 2",
        "2",
        "1",
        "quantas parcelas faltam?",
        "em 500x",
    ],
)
def test_no_installments(text: str) -> None:
    assert entities(text).installments is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("R$ 1.200,50", "1200.50"),
        ("r$1.200,50", "1200.50"),
        ("1200", "1200.00"),
        ("1.200", "1200.00"),
        ("150,5", "150.50"),
        ("mil e quinhentos", "1500.00"),
        ("dois mil e trezentos", "2300.00"),
        ("cento e cinquenta reais", "150.00"),
        ("quinhentos reais", "500.00"),
        ("150 reais", "150.00"),
        ("uns 200 conto", "200.00"),
        ("200 pila", "200.00"),
        ("1,5 mil", "1500.00"),
        ("2 mil", "2000.00"),
        ("2k", "2000.00"),
        ("R$ 5", "5.00"),
    ],
)
def test_amounts_are_decimals(text: str, value: str) -> None:
    amount = entities(text).amount
    assert amount is not None
    assert isinstance(amount.value, Decimal)
    assert amount.value == Decimal(value)
    assert amount.value.as_tuple().exponent == -2


def test_amount_roles() -> None:
    per_month = entities("consigo pagar 150 por mês").amount
    assert per_month is not None and per_month.value == Decimal("150.00")
    assert per_month.role is AmountRole.INSTALLMENT
    down = entities("posso dar 300 de entrada").amount
    assert down is not None and down.role is AmountRole.DOWN_PAYMENT and down.value == Decimal("300")
    lump = entities("faço por 800 a vista").amount
    assert lump is not None and lump.role is AmountRole.TOTAL
    parcel = entities("3x de 200").amount
    assert parcel is not None and parcel.role is AmountRole.INSTALLMENT


def test_several_amounts_keep_their_order_and_roles() -> None:
    found = entities("entrada de 250 e 10 parcelas de 80")
    assert found.installments == 10
    assert [(a.value, a.role) for a in found.amounts] == [
        (Decimal("250.00"), AmountRole.DOWN_PAYMENT),
        (Decimal("80.00"), AmountRole.INSTALLMENT),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "pago dia 10",  # a day, not money
        "15/12",
        "50% de desconto",
        "80 por cento de desconto",
        "meu cpf é 123.456.789-00",
        "meu cpf 12345678900",
        "paguei em 2022",
        "tenho 3 filhos",
        "opcao 2",
        "1",
        "em 10 dias",
        "faz 2 meses que to desempregado",
        "um boleto",
    ],
)
def test_no_amount(text: str) -> None:
    assert entities(text).amounts == ()


def test_amount_and_date_in_one_message() -> None:
    found = entities("dia 10 eu pago os 200 reais")
    assert found.date is not None and found.date.value == date(2025, 7, 10)
    assert found.amount is not None and found.amount.value == Decimal("200.00")


def test_json_shape() -> None:
    payload = entities("consigo 150 por mes em 12x a partir de sexta").as_json()
    assert set(payload) == {"installments", "date", "amount", "amounts"}
    assert payload["installments"] == 12
    assert payload["amount"] == {"value": "150.00", "text": "150", "role": "installment"}
    assert payload["date"] == {"text": "sexta", "value": "2025-06-20", "until": None, "vague": False}


@given(st.text(max_size=120))
def test_never_crashes_and_amounts_are_positive_cents(text: str) -> None:
    found = extract_entities(normalize(text), TODAY)
    for amount in found.amounts:
        assert amount.value >= 0
        assert amount.value.as_tuple().exponent == -2
    if found.installments is not None:
        assert 1 <= found.installments <= 120


@given(
    st.integers(min_value=1, max_value=31), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
)
def test_day_of_month_resolves_forward_within_two_months(day: int, today: date) -> None:
    found = extract_entities(f"pago dia {day}", today)
    assert found.date is not None and found.date.value is not None
    assert today <= found.date.value
    assert (found.date.value - today).days <= 62

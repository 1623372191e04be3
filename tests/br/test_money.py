from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.br.money import InvalidAmount, format_brl, from_cents, parse_brl, to_cents


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("R$ 1.234,56", "1234.56"),
        ("r$1.234,56", "1234.56"),
        ("R$1.234", "1234.00"),
        ("1234.56", "1234.56"),
        ("1234.5", "1234.50"),
        ("1.234", "1234.00"),  # dot + exactly 3 digits, no comma: thousands
        ("1.234.567", "1234567.00"),
        ("1,234.56", "1234.56"),  # US style
        ("1,234,567.89", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("10,5", "10.50"),
        ("10,500", "10.50"),  # extra zeros are fine
        ("0,01", "0.01"),
        (",5", "0.50"),
        ("  R$\u00a01.234,56 ", "1234.56"),
        ("-10,00", "-10.00"),
        ("(10,00)", "-10.00"),
        ("-R$ 10,00", "-10.00"),
        ("R$ -10,00", "-10.00"),
        ("+10", "10.00"),
        ("-0,00", "0.00"),
        ("50", "50.00"),
        (1234, "1234.00"),
        (Decimal("12.3"), "12.30"),
        (Decimal("1E+3"), "1000.00"),
    ],
)
def test_parse(raw: str | int | Decimal, expected: str) -> None:
    value = parse_brl(raw)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2
    assert str(value) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "vazio"),
        ("   ", "vazio"),
        ("R$", "sem número"),
        ("abc", "inválido"),
        ("1e5", "inválido"),
        ("1E5", "inválido"),
        ("NaN", "inválido"),
        ("Infinity", "inválido"),
        ("10,555", "mais de duas casas"),
        ("1.2345", "mais de duas casas"),
        ("1.23.4", "milhar"),
        ("0.500", "milhar"),
        ("1,2,3", "milhar"),
        ("1.234.56", "milhar"),
        ("1.234,56,7", "milhar|repetido"),
        ("10,", "inválido"),
        ("--10", "sinal repetido"),
        ("(-10)", "sinal e parênteses"),
        ("1 234,56", "inválido"),
        ("R$ 12 reais", "inválido"),
        ("١٢", "inválido"),  # Arabic-Indic digits
        (Decimal("NaN"), "finito"),
        (Decimal("Infinity"), "finito"),
        (Decimal("1.005"), "mais de duas casas"),
    ],
)
def test_parse_rejects(raw: str | Decimal, reason: str) -> None:
    with pytest.raises(InvalidAmount, match=reason):
        parse_brl(raw)


@pytest.mark.parametrize("raw", [1.5, True, None, [1]])
def test_parse_rejects_wrong_types(raw: object) -> None:
    with pytest.raises(TypeError):
        parse_brl(raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("1234.56", "R$ 1.234,56"),
        ("0", "R$ 0,00"),
        ("0.5", "R$ 0,50"),
        ("-1234.5", "-R$ 1.234,50"),
        ("1234567.89", "R$ 1.234.567,89"),
        ("999.999", "R$ 1.000,00"),  # display rounding, half-up
        ("0.005", "R$ 0,01"),
    ],
)
def test_format(amount: str, text: str) -> None:
    assert format_brl(Decimal(amount)) == text


def test_cents() -> None:
    assert to_cents(Decimal("12.34")) == 1234
    assert to_cents(Decimal("-0.05")) == -5
    assert to_cents(Decimal("7")) == 700
    assert from_cents(1234) == Decimal("12.34")
    assert str(from_cents(-5)) == "-0.05"
    with pytest.raises(InvalidAmount, match="fração de centavo"):
        to_cents(Decimal("0.001"))
    with pytest.raises(InvalidAmount):
        to_cents(Decimal("NaN"))
    with pytest.raises(TypeError):
        from_cents(1.5)  # type: ignore[arg-type]


amounts = st.decimals(
    min_value=Decimal("-1000000000.00"), max_value=Decimal("1000000000.00"), places=2, allow_nan=False
)


@given(amounts)
def test_format_parse_round_trip(amount: Decimal) -> None:
    assert parse_brl(format_brl(amount)) == amount


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_cents_round_trip(cents: int) -> None:
    assert to_cents(from_cents(cents)) == cents
    assert parse_brl(format_brl(from_cents(cents))) == from_cents(cents)

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.br.dates import InvalidDate, format_br_date, parse_br_date

D = datetime.date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31/12/2026", D(2026, 12, 31)),
        ("31-12-2026", D(2026, 12, 31)),
        ("31.12.2026", D(2026, 12, 31)),
        (" 2026-12-31 ", D(2026, 12, 31)),
        ("31/12/26", D(2026, 12, 31)),
        ("01/01/69", D(2069, 1, 1)),
        ("01/01/70", D(1970, 1, 1)),
        ("15/06/99", D(1999, 6, 15)),
        ("1/2/2026", D(2026, 2, 1)),
        ("29/02/2024", D(2024, 2, 29)),
        ("2026-12-31T10:00:00", D(2026, 12, 31)),
        ("2026-12-31T23:59:59.123-03:00", D(2026, 12, 31)),
        ("2026-12-31 08:00", D(2026, 12, 31)),
        ("2026-12-31T10:00:00Z", D(2026, 12, 31)),
        (datetime.datetime(2026, 3, 4, 5, 6), D(2026, 3, 4)),
        (D(2026, 3, 4), D(2026, 3, 4)),
    ],
)
def test_parse(raw: str | datetime.date, expected: datetime.date) -> None:
    assert parse_br_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("31/02/2026", "data inexistente: 31/02/2026"),
        ("29/02/2025", "data inexistente"),
        ("00/01/2026", "data inexistente"),
        ("01/13/2026", "mês inválido"),
        ("12/31/2026", "mês inválido"),  # US order is never assumed
        ("2026-13-01", "mês inválido"),
        ("", "vazia"),
        ("  ", "vazia"),
        ("ontem", "formato não reconhecido"),
        ("31/12-2026", "formato não reconhecido"),
        ("2026/12/31", "formato não reconhecido"),
        ("31/12/2026 lixo", "formato não reconhecido"),
        ("31122026", "formato não reconhecido"),
        ("31/12/202", "formato não reconhecido"),
    ],
)
def test_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidDate, match=reason):
        parse_br_date(raw)


def test_wrong_type() -> None:
    with pytest.raises(TypeError):
        parse_br_date(20261231)  # type: ignore[arg-type]


def test_format() -> None:
    assert format_br_date(D(2026, 2, 1)) == "01/02/2026"
    assert format_br_date(D(999, 2, 1)) == "01/02/0999"


@given(st.dates(min_value=D(1000, 1, 1), max_value=D(9999, 12, 31)))
def test_round_trip(day: datetime.date) -> None:
    text = format_br_date(day)
    assert parse_br_date(text) == day
    assert parse_br_date(day.isoformat()) == day
    assert parse_br_date(text.replace("/", "-")) == day

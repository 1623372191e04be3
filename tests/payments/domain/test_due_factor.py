from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.payments.domain.due_factor import DueFactorError, decode_due_factor, due_factor


@pytest.mark.parametrize(
    ("due", "factor"),
    [
        (date(2000, 7, 3), 1000),
        (date(2002, 5, 1), 1667),
        (date(2010, 11, 17), 4789),
        (date(2025, 2, 21), 9999),
        (date(2025, 2, 22), 1000),
        (date(2025, 2, 23), 1001),
        (date(2025, 2, 24), 1002),
        (date(2025, 12, 1), 1282),
        (date(2049, 10, 13), 9999),
        (date(1997, 10, 8), 1),
    ],
)
def test_known_factors(due: date, factor: int) -> None:
    assert due_factor(due) == factor


def test_same_factor_two_dates_resolved_by_today() -> None:
    assert decode_due_factor(1001, date(2000, 7, 1)) == date(2000, 7, 4)
    assert decode_due_factor(1001, date(2025, 2, 1)) == date(2025, 2, 23)


def test_reference_example_window() -> None:
    assert decode_due_factor(3769, date(2026, 11, 23)) == date(2032, 9, 22)


def test_factor_zero_means_no_due_date() -> None:
    assert decode_due_factor(0, date(2026, 1, 1)) is None


def test_outside_window_rejected() -> None:
    today = date(2026, 11, 23)
    gap_factor = 1000 + (due_factor(today) - 1000 + 5750) % 9000
    with pytest.raises(DueFactorError):
        decode_due_factor(gap_factor, today)


def test_before_base_date_rejected() -> None:
    with pytest.raises(DueFactorError):
        due_factor(date(1997, 10, 7))


@given(
    today=st.dates(min_value=date(2009, 1, 1), max_value=date(2090, 1, 1)),
    offset=st.integers(min_value=-3000, max_value=5500),
)
def test_round_trip_inside_window(today: date, offset: int) -> None:
    due = today + timedelta(days=offset)
    assert decode_due_factor(due_factor(due), today) == due

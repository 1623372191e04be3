from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.payments.domain.amounts import (
    RATE_CONTRACTUAL,
    RATE_LEGAL,
    AmountError,
    Installment,
    LatePaymentTerms,
    settle_plan,
    updated_amount,
)

DUE = date(2026, 1, 10)


def test_late_with_contractual_rate() -> None:
    terms = LatePaymentTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
    result = updated_amount(Decimal("1000.00"), DUE, DUE + timedelta(days=45), terms)
    assert result.fine == Decimal("20.00")
    assert result.interest == Decimal("15.00")  # 1000 × 1% × 45/30
    assert result.total == Decimal("1035.00")
    assert result.days_late == 45
    assert result.rate_source == RATE_CONTRACTUAL


def test_contractual_rate_above_cap_is_capped() -> None:
    terms = LatePaymentTerms(monthly_interest_rate=Decimal("0.05"))
    result = updated_amount(Decimal("300.00"), DUE, DUE + timedelta(days=30), terms)
    assert result.rate_capped
    assert result.monthly_rate == Decimal("0.01")
    assert result.interest == Decimal("3.00")


def test_legal_rate_when_contract_silent() -> None:
    terms = LatePaymentTerms(legal_monthly_rate=Decimal("0.0063"))
    result = updated_amount(Decimal("100.00"), DUE, DUE + timedelta(days=10), terms)
    assert result.rate_source == RATE_LEGAL
    assert result.interest == Decimal("0.21")  # 100 × 0.0063 × 10/30 = 0.21


def test_rounding_half_even() -> None:
    terms = LatePaymentTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0"))
    # 2% of 0.25 = 0.005 → half-even rounds to 0.00; of 0.75 = 0.015 → 0.02
    assert updated_amount(Decimal("0.25"), DUE, DUE + timedelta(days=1), terms).fine == Decimal("0.00")
    assert updated_amount(Decimal("0.75"), DUE, DUE + timedelta(days=1), terms).fine == Decimal("0.02")


def test_on_due_date_and_early_without_financing() -> None:
    on_time = updated_amount(Decimal("50.00"), DUE, DUE)
    assert on_time.total == Decimal("50.00") and on_time.days_late == 0
    early = updated_amount(Decimal("50.00"), DUE, DUE - timedelta(days=5))
    assert early.total == Decimal("50.00") and early.days_early == 5


def test_early_payment_discount() -> None:
    result = updated_amount(
        Decimal("1000.00"), DUE, DUE - timedelta(days=30), financing_monthly_rate=Decimal("0.02")
    )
    assert result.discount == Decimal("19.61")  # 1000 − 1000/1.02
    assert result.total == Decimal("980.39")


def test_fine_above_legal_cap_rejected() -> None:
    with pytest.raises(AmountError):
        LatePaymentTerms(fine_rate=Decimal("0.1"))
    with pytest.raises(AmountError):
        updated_amount(Decimal("-1"), DUE, DUE)


def test_settle_plan_mixes_overdue_and_future() -> None:
    plan = [
        Installment(date(2026, 1, 10), Decimal("100.00")),
        Installment(date(2026, 3, 10), Decimal("100.00")),
    ]
    terms = LatePaymentTerms(monthly_interest_rate=Decimal("0.01"))
    result = settle_plan(plan, date(2026, 2, 9), Decimal("0.03"), terms)
    assert result.items[0].days_late == 30 and result.items[0].total == Decimal("103.00")
    assert result.items[1].days_early == 29 and result.items[1].discount > 0
    assert result.total == sum(i.total for i in result.items)


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)


@given(
    amounts,
    st.integers(min_value=-400, max_value=2000),
    st.decimals(min_value=0, max_value=Decimal("0.05"), places=4),
)
def test_items_add_up_and_limits_hold(principal: Decimal, offset: int, rate: Decimal) -> None:
    terms = LatePaymentTerms(monthly_interest_rate=rate)
    result = updated_amount(principal, DUE, DUE + timedelta(days=offset), terms, financing_monthly_rate=rate)
    assert result.total == result.principal + result.fine + result.interest - result.discount
    assert result.fine <= (principal * Decimal("0.02")).quantize(Decimal("0.01")) + Decimal("0.01")
    assert result.interest <= principal * Decimal("0.01") * max(offset, 0) / 30 + Decimal("0.01")
    assert result.discount >= 0 and result.total >= 0
    for value in (result.fine, result.interest, result.discount, result.total):
        assert value == value.quantize(Decimal("0.01"))


@given(amounts, st.integers(min_value=1, max_value=1000))
def test_interest_monotonic_in_days(principal: Decimal, days: int) -> None:
    terms = LatePaymentTerms(monthly_interest_rate=Decimal("0.01"))
    a = updated_amount(principal, DUE, DUE + timedelta(days=days), terms)
    b = updated_amount(principal, DUE, DUE + timedelta(days=days + 1), terms)
    assert b.total >= a.total

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.bot.dialog import policy as pol

POLICY = pol.NegotiationPolicy()


def test_price_installment_matches_the_price_table() -> None:
    # 1000 at 2% a.m. in 6: 1000 * 0.02 * 1.02^6 / (1.02^6 - 1) = 178.5258… → rounded up to 178.53
    assert pol.price_installment(Decimal("1000"), 6, Decimal("0.02")) == Decimal("178.53")
    assert pol.price_installment(Decimal("1000"), 3, Decimal("0")) == Decimal("333.34")


def test_cet_is_the_effective_annual_rate() -> None:
    assert pol.annual_rate(Decimal("0.02")) == Decimal("0.2682")


def test_discount_grows_with_days_overdue() -> None:
    assert POLICY.discount_for(0) == 0
    assert POLICY.discount_for(45) == Decimal("0.05")
    assert POLICY.discount_for(400) == Decimal("0.20")
    plan = pol.full_payment_plan(POLICY, Decimal("1000.00"), 100)
    assert (plan.total, plan.discount, plan.in_full) == (Decimal("900.00"), Decimal("100.00"), True)


def test_standard_plans_are_at_most_three_and_respect_the_minimum() -> None:
    plans = pol.standard_plans(POLICY, Decimal("1200.00"), 40)
    assert [p.installments for p in plans] == [1, 6, 12]
    assert all(p.installment_value >= POLICY.min_installment for p in plans)
    small = pol.standard_plans(POLICY, Decimal("120.00"), 40)
    assert [p.installments for p in small] == [1, 2]  # 3 × 40 would be below the R$ 50 minimum


def test_counter_proposals() -> None:
    total = Decimal("1200.00")
    exact = pol.counter_by_installments(POLICY, total, 40, 6)
    assert exact.exact and exact.plan is not None and exact.plan.installments == 6
    too_many = pol.counter_by_installments(POLICY, total, 40, 24)
    assert not too_many.exact and too_many.reason == "too_many_installments"
    assert too_many.plan is not None and too_many.plan.installments == 12
    by_value = pol.counter_by_installment_value(POLICY, total, 40, Decimal("150"))
    assert by_value.plan is not None and by_value.plan.installment_value <= 150 and by_value.exact
    shorter = pol.installment_plan(POLICY, total, by_value.plan.installments - 1)
    assert shorter.installment_value > 150  # the shortest plan that fits
    too_low = pol.counter_by_installment_value(POLICY, total, 40, Decimal("20"))
    assert not too_low.exact and too_low.reason == "installment_too_low"
    below = pol.counter_by_total(POLICY, total, 40, Decimal("500"))
    assert below.reason == "below_cash_price"


def test_down_payment_and_schedule() -> None:
    policy = pol.NegotiationPolicy(down_payment=Decimal("0.10"))
    plan = pol.installment_plan(policy, Decimal("1000.00"), 3)
    assert plan.down_payment == Decimal("100.00")
    items = pol.schedule(plan, date(2026, 1, 31))
    assert [i.number for i in items] == [0, 1, 2, 3]
    assert [i.due_date for i in items] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert sum(i.amount for i in items) == plan.total


def test_policy_validation_names_the_field() -> None:
    with pytest.raises(pol.PolicyError, match="offer_validity_days"):
        pol.NegotiationPolicy(offer_validity_days=1)
    with pytest.raises(pol.PolicyError, match="campo desconhecido"):
        pol.NegotiationPolicy.from_json({"max_parcelas": 3})
    round_trip = pol.NegotiationPolicy.from_json(POLICY.to_json())
    assert round_trip == POLICY


@given(
    total=st.decimals(min_value=Decimal("10"), max_value=Decimal("100000"), places=2),
    n=st.integers(min_value=2, max_value=60),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.1"), places=4),
)
def test_installments_always_cover_the_principal(total: Decimal, n: int, rate: Decimal) -> None:
    value = pol.price_installment(total, n, rate)
    assert value * n >= total
    assert value == value.quantize(Decimal("0.01"))

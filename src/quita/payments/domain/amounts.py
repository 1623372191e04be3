"""Updated amount of a debt on a date: principal + late fine + moratory interest, or an early-payment discount.

The rules are legal limits, not business preferences, so they are enforced here, once:
- fine (multa moratória) at most 2% of the amount due (CDC art. 52 §1º);
- moratory interest pro rata die, SIMPLE interest, on the principal only: ``principal × monthly rate × days / 30``
  (commercial month). The contractual monthly rate is used when present, else the configurable legal rate
  (Taxa Legal of Lei 14.905/2024 = Selic − IPCA, floored at 0, published monthly by BCB; the operator keeps it
  current — the default below is only a placeholder). Either rate is capped (default cap 1% a.m.);
- early payment before the due date reduces embedded financing interest proportionally (CDC art. 52 §2º):
  the instalment is discounted to present value at the contract's monthly rate, compounded per day/30.
Rounding: every component is rounded to cents with ROUND_HALF_EVEN (banker's rounding: unbiased over many
debts), and the total is the sum of the rounded components, so printed items always add up to the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
ROUNDING = ROUND_HALF_EVEN
MAX_FINE_RATE = Decimal("0.02")
DEFAULT_INTEREST_CAP_MONTHLY = Decimal("0.01")
# Placeholder for the Taxa Legal (monthly, as a fraction). Configure from BCB's published series.
DEFAULT_LEGAL_MONTHLY_RATE = Decimal("0.005")
DAYS_PER_MONTH = 30

RATE_CONTRACTUAL = "contratual"
RATE_LEGAL = "legal"


class AmountError(ValueError):
    """Invalid amount input (negative principal, fine above the legal cap, …)."""


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUNDING)


@dataclass(frozen=True, slots=True)
class LatePaymentTerms:
    """How lateness is charged for one debt; rates are fractions (0.02 = 2%)."""

    fine_rate: Decimal = MAX_FINE_RATE
    monthly_interest_rate: Decimal | None = None  # contractual; None → legal rate
    legal_monthly_rate: Decimal = DEFAULT_LEGAL_MONTHLY_RATE
    interest_cap_monthly: Decimal = DEFAULT_INTEREST_CAP_MONTHLY

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.fine_rate <= MAX_FINE_RATE:
            raise AmountError(f"multa de {self.fine_rate * 100}% fora do limite de 2% (CDC art. 52 §1º)")
        for name in ("monthly_interest_rate", "legal_monthly_rate", "interest_cap_monthly"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise AmountError(f"{name} negativo")

    def applied_rate(self) -> tuple[Decimal, str, bool]:
        """(monthly rate used, source, whether the cap cut it)."""
        if self.monthly_interest_rate is not None:
            rate, source = self.monthly_interest_rate, RATE_CONTRACTUAL
        else:
            rate, source = self.legal_monthly_rate, RATE_LEGAL
        if rate > self.interest_cap_monthly:
            return self.interest_cap_monthly, source, True
        return rate, source, False


@dataclass(frozen=True, slots=True)
class AmountBreakdown:
    """Itemised amount due on ``on``; ``discount`` is positive for early payment."""

    principal: Decimal
    fine: Decimal
    interest: Decimal
    discount: Decimal
    total: Decimal
    days_late: int
    days_early: int
    monthly_rate: Decimal
    rate_source: str
    rate_capped: bool
    due_date: date
    on: date


def updated_amount(
    principal: Decimal,
    due_date: date,
    on: date,
    terms: LatePaymentTerms | None = None,
    *,
    financing_monthly_rate: Decimal | None = None,
) -> AmountBreakdown:
    """Amount due on ``on`` for ``principal`` due on ``due_date``.

    ``financing_monthly_rate`` is the rate embedded in an instalment (from the plan); when given and the
    payment is early, the instalment is discounted to present value at that rate.
    """
    terms = terms or LatePaymentTerms()
    if principal < 0:
        raise AmountError("valor principal negativo")
    principal = to_cents(principal)
    rate, source, capped = terms.applied_rate()
    days = (on - due_date).days
    fine = interest = discount = Decimal("0.00")
    if days > 0:
        fine = to_cents(principal * terms.fine_rate)
        interest = to_cents(principal * rate * days / DAYS_PER_MONTH)
    elif days < 0 and financing_monthly_rate:
        if financing_monthly_rate < 0:
            raise AmountError("taxa de financiamento negativa")
        present = principal / (1 + financing_monthly_rate) ** (Decimal(-days) / DAYS_PER_MONTH)
        discount = principal - to_cents(present)
    return AmountBreakdown(
        principal=principal,
        fine=fine,
        interest=interest,
        discount=discount,
        total=principal + fine + interest - discount,
        days_late=max(days, 0),
        days_early=max(-days, 0),
        monthly_rate=rate,
        rate_source=source,
        rate_capped=capped,
        due_date=due_date,
        on=on,
    )


@dataclass(frozen=True, slots=True)
class Installment:
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlanSettlement:
    items: tuple[AmountBreakdown, ...]
    total: Decimal
    total_discount: Decimal
    total_charges: Decimal  # fines + interest on overdue instalments


def settle_plan(
    installments: list[Installment],
    on: date,
    financing_monthly_rate: Decimal,
    terms: LatePaymentTerms | None = None,
) -> PlanSettlement:
    """Pay off an instalment plan on ``on``: overdue ones with charges, future ones discounted."""
    items = tuple(
        updated_amount(i.amount, i.due_date, on, terms, financing_monthly_rate=financing_monthly_rate)
        for i in installments
    )
    return PlanSettlement(
        items=items,
        total=sum((i.total for i in items), Decimal("0.00")),
        total_discount=sum((i.discount for i in items), Decimal("0.00")),
        total_charges=sum((i.fine + i.interest for i in items), Decimal("0.00")),
    )

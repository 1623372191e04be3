"""A creditor's negotiation policy and the plans it allows.

The bot may only offer what the creditor authorised, so every plan comes out of this module: a discount for
paying in full that grows with days overdue, instalment plans priced with the Price table (fixed
instalments, compound monthly rate), a minimum instalment, an optional down payment, and an offer validity of
at least two days (CDC art. 54-B §1). The CET is the effective annual cost of the plan; Quita adds no fees or
IOF to agreements, so it derives from the monthly rate alone, and the module says so instead of inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
MIN_OFFER_VALIDITY_DAYS = 2  # CDC art. 54-B §1


class PolicyError(ValueError):
    """A policy that cannot be applied (names the field)."""


def _cents(value: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return value.quantize(CENT, rounding=rounding)


@dataclass(frozen=True, slots=True)
class DiscountTier:
    """From ``min_days_overdue`` on, paying in full earns up to ``max_discount`` (a fraction of the total)."""

    min_days_overdue: int
    max_discount: Decimal


@dataclass(frozen=True, slots=True)
class NegotiationPolicy:
    max_installments: int = 12
    min_installment: Decimal = Decimal("50.00")
    monthly_interest: Decimal = Decimal("0.0199")
    discount_tiers: tuple[DiscountTier, ...] = (
        DiscountTier(0, Decimal("0")),
        DiscountTier(30, Decimal("0.05")),
        DiscountTier(90, Decimal("0.10")),
        DiscountTier(180, Decimal("0.20")),
    )
    down_payment: Decimal | None = None  # fraction of the total paid first, e.g. 0.10
    offer_validity_days: int = 3
    first_due_in_days: int = 3
    max_promise_days: int = 30
    break_after_days: int = 5  # an instalment unpaid this many days after its due date breaks the agreement
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not 1 <= self.max_installments <= 120:
            raise PolicyError("max_installments: deve estar entre 1 e 120")
        if self.min_installment < 0:
            raise PolicyError("min_installment: não pode ser negativo")
        if not Decimal(0) <= self.monthly_interest < 1:
            raise PolicyError("monthly_interest: fração mensal entre 0 e 1")
        if self.offer_validity_days < MIN_OFFER_VALIDITY_DAYS:
            raise PolicyError("offer_validity_days: mínimo de 2 dias (CDC art. 54-B §1º)")
        if not 1 <= self.break_after_days <= 90:
            raise PolicyError("break_after_days: entre 1 e 90 dias")
        if self.down_payment is not None and not Decimal(0) < self.down_payment < 1:
            raise PolicyError("down_payment: fração entre 0 e 1")
        for tier in self.discount_tiers:
            if not Decimal(0) <= tier.max_discount < 1 or tier.min_days_overdue < 0:
                raise PolicyError("discount_tiers: desconto entre 0 e 1, dias ≥ 0")

    def discount_for(self, days_overdue: int) -> Decimal:
        best = Decimal(0)
        for tier in sorted(self.discount_tiers, key=lambda t: t.min_days_overdue):
            if days_overdue >= tier.min_days_overdue:
                best = tier.max_discount
        return best

    def to_json(self) -> dict[str, Any]:
        return {
            "max_installments": self.max_installments,
            "min_installment": str(self.min_installment),
            "monthly_interest": str(self.monthly_interest),
            "discount_tiers": [
                {"min_days_overdue": t.min_days_overdue, "max_discount": str(t.max_discount)}
                for t in self.discount_tiers
            ],
            "down_payment": None if self.down_payment is None else str(self.down_payment),
            "offer_validity_days": self.offer_validity_days,
            "first_due_in_days": self.first_due_in_days,
            "max_promise_days": self.max_promise_days,
            "break_after_days": self.break_after_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> NegotiationPolicy:
        """Validated from hostile JSON; unknown keys are refused so typos do not pass silently."""
        if not data:
            return cls()
        known = {
            "max_installments", "min_installment", "monthly_interest", "discount_tiers", "down_payment",
            "offer_validity_days", "first_due_in_days", "max_promise_days", "break_after_days",
        }  # fmt: skip
        unknown = set(data) - known
        if unknown:
            raise PolicyError(f"campo desconhecido na política: {sorted(unknown)[0]}")
        kwargs: dict[str, Any] = {}
        try:
            for name in (
                "max_installments", "offer_validity_days", "first_due_in_days", "max_promise_days", "break_after_days",
            ):  # fmt: skip
                if name in data:
                    kwargs[name] = int(data[name])
            for name in ("min_installment", "monthly_interest"):
                if name in data:
                    kwargs[name] = Decimal(str(data[name]))
            if data.get("down_payment") is not None:
                kwargs["down_payment"] = Decimal(str(data["down_payment"]))
            if "discount_tiers" in data:
                kwargs["discount_tiers"] = tuple(
                    DiscountTier(int(t["min_days_overdue"]), Decimal(str(t["max_discount"])))
                    for t in data["discount_tiers"]
                )
        except (ArithmeticError, ValueError, TypeError, KeyError) as exc:
            raise PolicyError(f"política inválida: {exc}") from None
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Plan:
    """One offer: ``installments`` × ``installment_value`` after an optional ``down_payment``.

    ``installments == 1`` with no rate is payment in full (à vista), possibly with a discount.
    """

    key: str
    installments: int
    installment_value: Decimal
    down_payment: Decimal
    total: Decimal
    original_total: Decimal  # the updated debt, before discount or financing
    discount: Decimal
    monthly_rate: Decimal
    cet_annual: Decimal

    @property
    def in_full(self) -> bool:
        return self.installments == 1 and self.down_payment == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "installments": self.installments,
            "installment_value": str(self.installment_value),
            "down_payment": str(self.down_payment),
            "total": str(self.total),
            "original_total": str(self.original_total),
            "discount": str(self.discount),
            "monthly_rate": str(self.monthly_rate),
            "cet_annual": str(self.cet_annual),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            key=str(data["key"]),
            installments=int(data["installments"]),
            installment_value=Decimal(data["installment_value"]),
            down_payment=Decimal(data["down_payment"]),
            total=Decimal(data["total"]),
            original_total=Decimal(data["original_total"]),
            discount=Decimal(data["discount"]),
            monthly_rate=Decimal(data["monthly_rate"]),
            cet_annual=Decimal(data["cet_annual"]),
        )


def annual_rate(monthly: Decimal) -> Decimal:
    """Effective annual rate of a monthly compound rate, as a fraction rounded to 4 places (0.2682)."""
    return ((1 + monthly) ** 12 - 1).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def price_installment(principal: Decimal, n: int, monthly: Decimal) -> Decimal:
    """Fixed instalment of the Price table, rounded UP to the cent so the creditor is never short."""
    if n <= 0:
        raise PolicyError("número de parcelas deve ser positivo")
    if monthly == 0:
        return _cents(principal / n, ROUND_UP)
    factor = (1 + monthly) ** n
    return _cents(principal * monthly * factor / (factor - 1), ROUND_UP)


def full_payment_plan(policy: NegotiationPolicy, total: Decimal, days_overdue: int) -> Plan:
    discount = _cents(total * policy.discount_for(days_overdue))
    return Plan(
        key="1",
        installments=1,
        installment_value=total - discount,
        down_payment=Decimal("0.00"),
        total=total - discount,
        original_total=total,
        discount=discount,
        monthly_rate=Decimal(0),
        cet_annual=Decimal(0),
    )


def installment_plan(policy: NegotiationPolicy, total: Decimal, n: int) -> Plan:
    """``n`` instalments (after the policy's down payment, if any) of the updated total, with interest."""
    down = _cents(total * policy.down_payment) if policy.down_payment else Decimal("0.00")
    value = price_installment(total - down, n, policy.monthly_interest)
    return Plan(
        key=str(n),
        installments=n,
        installment_value=value,
        down_payment=down,
        total=down + value * n,
        original_total=total,
        discount=Decimal("0.00"),
        monthly_rate=policy.monthly_interest,
        cet_annual=annual_rate(policy.monthly_interest),
    )


def allowed(policy: NegotiationPolicy, plan: Plan) -> bool:
    if plan.in_full:
        return True
    return plan.installments <= policy.max_installments and plan.installment_value >= policy.min_installment


def max_installments_allowed(policy: NegotiationPolicy, total: Decimal) -> int:
    """The longest plan whose instalment still reaches the minimum (0 when even 2 do not)."""
    best = 0
    for n in range(2, policy.max_installments + 1):
        if allowed(policy, installment_plan(policy, total, n)):
            best = n
    return best


def standard_plans(policy: NegotiationPolicy, total: Decimal, days_overdue: int) -> tuple[Plan, ...]:
    """At most three plans: in full (with the discount) and up to two instalment plans, the longest included."""
    plans = [full_payment_plan(policy, total, days_overdue)]
    longest = max_installments_allowed(policy, total)
    if longest >= 2:
        counts = sorted({n for n in (longest // 2, longest) if n >= 2})
        plans.extend(installment_plan(policy, total, n) for n in counts)
    return tuple(plans[:3])


@dataclass(frozen=True, slots=True)
class Counter:
    """The answer to a counter-proposal: the plan to show and whether it is exactly what was asked."""

    plan: Plan | None
    exact: bool
    reason: str  # "ok" | "too_many_installments" | "installment_too_low" | "below_cash_price" | "no_plan"


def counter_by_installments(policy: NegotiationPolicy, total: Decimal, days_overdue: int, n: int) -> Counter:
    if n <= 1:
        return Counter(full_payment_plan(policy, total, days_overdue), True, "ok")
    longest = max_installments_allowed(policy, total)
    if longest < 2:
        return Counter(full_payment_plan(policy, total, days_overdue), False, "no_plan")
    if n <= longest:
        return Counter(installment_plan(policy, total, n), True, "ok")
    reason = "too_many_installments" if n > policy.max_installments else "installment_too_low"
    return Counter(installment_plan(policy, total, longest), False, reason)


def counter_by_installment_value(
    policy: NegotiationPolicy, total: Decimal, days_overdue: int, value: Decimal
) -> Counter:
    """The shortest plan whose instalment fits ``value``; the longest allowed plan when none fits."""
    full = full_payment_plan(policy, total, days_overdue)
    if value >= full.total:
        return Counter(full, True, "ok")
    longest = max_installments_allowed(policy, total)
    for n in range(2, longest + 1):
        plan = installment_plan(policy, total, n)
        if plan.installment_value <= value:
            return Counter(plan, True, "ok")
    if longest < 2:
        return Counter(full, False, "no_plan")
    return Counter(installment_plan(policy, total, longest), False, "installment_too_low")


def counter_by_total(policy: NegotiationPolicy, total: Decimal, days_overdue: int, value: Decimal) -> Counter:
    full = full_payment_plan(policy, total, days_overdue)
    if value >= full.total:
        return Counter(full, True, "ok")
    return Counter(full, False, "below_cash_price")


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    number: int  # 0 is the down payment
    due_date: date
    amount: Decimal


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def schedule(plan: Plan, first_due: date) -> tuple[ScheduledInstallment, ...]:
    """Due dates and amounts: the down payment (if any) on ``first_due``, then one instalment a month."""
    items: list[ScheduledInstallment] = []
    start = 0
    if plan.down_payment > 0:
        items.append(ScheduledInstallment(0, first_due, plan.down_payment))
        start = 1
    for i in range(plan.installments):
        items.append(ScheduledInstallment(i + 1, add_months(first_due, i + start), plan.installment_value))
    return tuple(items)


def valid_until(today: date, policy: NegotiationPolicy) -> date:
    return today + timedelta(days=max(policy.offer_validity_days, MIN_OFFER_VALIDITY_DAYS))

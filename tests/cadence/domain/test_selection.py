from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from quita.cadence.defaults import default_cadence, default_mapping
from quita.cadence.domain.definition import StopCondition, parse_cadence
from quita.cadence.domain.selection import DebtView, PersonView, active_step, first_match, stop_reasons

DUE = dt.date(2026, 3, 10)


def _debt(**kw: object) -> DebtView:
    base: dict[str, object] = dict(
        status="open",
        amount=Decimal("100.00"),
        due_date=DUE,
        tags=frozenset(),
        uf="SP",
        creditor_cnpj="11222333000181",
    )
    base.update(kw)
    return DebtView(**base)  # type: ignore[arg-type]


def test_active_step_with_grace_and_replacement() -> None:
    c = default_cadence()

    def at(days: int) -> str | None:
        step = active_step(c, DUE, DUE + dt.timedelta(days=days))
        return step.key if step else None

    assert [at(d) for d in (-6, -5, -4, -3, -2, -1, 0, 2, 3, 6, 9, 10, 30, 32, 33)] == [
        None,
        "D-5",
        "D-5",
        "D-5",
        None,
        None,
        "D0",
        "D0",
        "D+3",
        None,
        None,
        "D+10",
        "D+30",
        "D+30",
        None,
    ]


@given(st.integers(min_value=-100, max_value=400))
def test_active_step_is_never_in_the_future(days: int) -> None:
    step = active_step(default_cadence(), DUE, DUE + dt.timedelta(days=days))
    assert step is None or step.offset <= days <= step.offset + default_cadence().grace_days



@given(st.integers(min_value=0, max_value=5), st.lists(st.integers(-20, 60), min_size=1, max_size=6, unique=True))
def test_active_days_are_exactly_the_days_some_step_is_active(grace: int, offsets: list[int]) -> None:
    steps = [{"at": f"D{o:+d}" if o else "D0", "template": "t"} for o in sorted(offsets)]
    c = parse_cadence(default_mapping() | {"grace_days": grace, "steps": steps})
    expected = {d for d in range(-100, 200) if active_step(c, DUE, DUE + dt.timedelta(days=d)) is not None}
    assert c.active_days() == expected

def test_first_match_wins_in_priority_order() -> None:
    big = default_mapping() | {"name": "grandes", "priority": 10, "match": {"amount": {"min": "1000.00"}}}
    sp = default_mapping() | {"name": "sp", "priority": 20, "match": {"uf": ["SP"], "tags_any": ["cartao"]}}
    cadences = sorted([parse_cadence(big), parse_cadence(sp), default_cadence()], key=lambda c: c.priority)
    today = DUE
    assert first_match(cadences, _debt(amount=Decimal("5000.00")), today).name == "grandes"  # type: ignore[union-attr]
    assert first_match(cadences, _debt(tags=frozenset({"cartao"})), today).name == "sp"  # type: ignore[union-attr]
    assert first_match(cadences, _debt(uf="RJ", tags=frozenset({"cartao"})), today).name == "padrao"  # type: ignore[union-attr]
    assert first_match(cadences, _debt(status="paid"), today) is None


def test_conditions_on_days_overdue_and_creditor() -> None:
    late = parse_cadence(
        default_mapping() | {"match": {"days_overdue": {"min": 15}, "creditor_cnpj": ["11.222.333/0001-81"]}}
    )
    assert first_match([late], _debt(), DUE + dt.timedelta(days=15)) is late
    assert first_match([late], _debt(), DUE + dt.timedelta(days=14)) is None
    assert first_match([late], _debt(creditor_cnpj="00000000000191"), DUE + dt.timedelta(days=20)) is None


def test_stop_conditions() -> None:
    c = default_cadence()
    person = PersonView(deceased=True, in_dispute=False, contact_opted_out=True, contact_wrong_number=False)
    assert stop_reasons(c, _debt(status="in_agreement"), person) == [
        StopCondition.IN_AGREEMENT,
        StopCondition.DECEASED,
        StopCondition.OPTED_OUT,
    ]
    only_paid = parse_cadence(default_mapping() | {"stop_on": ["paid"]})
    assert stop_reasons(only_paid, _debt(), person) == []

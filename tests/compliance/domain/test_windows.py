"""Contact windows, holidays and time zones, through the engine (TIME-01/SP/RJ/AM, TIME-02, TIME-03/04)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from quita.compliance.domain import Decision, Outcome, RuleSet, TenantCalendar, evaluate

from .conftest import at, build


def decide(rules: RuleSet, now: datetime, **kw: object) -> Decision:
    return evaluate(build(now, **kw), rules)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# ------------------------------------------------------------------------------------------ windows


def test_sp_weekday_1959_allowed_and_2000_deferred_to_saturday_0800(rules: RuleSet) -> None:
    ok = decide(rules, at(2026, 3, 13, 19, 59))  # Friday
    assert ok.outcome is Outcome.ALLOWED
    assert ok.rule_ids == ("TIME-SP",)
    late = decide(rules, at(2026, 3, 13, 20, 0))
    assert late.outcome is Outcome.DEFERRED
    assert late.earliest_at == at(2026, 3, 14, 8, 0).astimezone(UTC)
    assert "TIME-SP" in late.rule_ids


def test_saturday_after_1400_and_sunday_defer_to_monday(rules: RuleSet) -> None:
    sat = decide(rules, at(2026, 3, 14, 14, 0))
    assert sat.earliest_at == at(2026, 3, 16, 8, 0)
    sun = decide(rules, at(2026, 3, 15, 11, 0))
    assert sun.outcome is Outcome.DEFERRED
    assert sun.earliest_at == at(2026, 3, 16, 8, 0)


def test_before_opening_defers_to_same_day(rules: RuleSet) -> None:
    early = decide(rules, at(2026, 3, 16, 7, 59))
    assert early.earliest_at == at(2026, 3, 16, 8, 0)


def test_rj_business_days_nine_to_nineteen(rules: RuleSet) -> None:
    rj = {"debtor": {"uf": "RJ", "identity_confirmed": True}}
    assert decide(rules, at(2026, 3, 16, 8, 30), **rj).earliest_at == at(2026, 3, 16, 9, 0)
    assert decide(rules, at(2026, 3, 16, 18, 59), **rj).outcome is Outcome.ALLOWED
    late = decide(rules, at(2026, 3, 16, 19, 0), **rj)
    assert late.earliest_at == at(2026, 3, 17, 9, 0)
    assert late.rule_ids[0] == "TIME-RJ"
    saturday = decide(rules, at(2026, 3, 14, 10, 0), **rj)
    assert saturday.earliest_at == at(2026, 3, 16, 9, 0)


def test_mg_and_es_and_pr_windows(rules: RuleSet) -> None:
    assert decide(
        rules, at(2026, 3, 14, 9, 30), debtor={"uf": "MG", "identity_confirmed": True}
    ).earliest_at == at(2026, 3, 14, 10, 0)
    assert decide(
        rules, at(2026, 3, 14, 13, 0), debtor={"uf": "MG", "identity_confirmed": True}
    ).earliest_at == at(2026, 3, 16, 9, 0)
    assert decide(rules, at(2026, 3, 16, 19, 0), debtor={"uf": "ES", "identity_confirmed": True}).outcome is (
        Outcome.DEFERRED
    )
    assert decide(
        rules, at(2026, 3, 14, 12, 59), debtor={"uf": "PR", "identity_confirmed": True}
    ).outcome is (Outcome.ALLOWED)
    assert decide(rules, at(2026, 3, 14, 13, 0), debtor={"uf": "PR", "identity_confirmed": True}).outcome is (
        Outcome.DEFERRED
    )


def test_state_without_law_uses_default_window(rules: RuleSet) -> None:
    ba = decide(rules, at(2026, 3, 16, 19, 30), debtor={"uf": "BA", "identity_confirmed": True})
    assert ba.outcome is Outcome.ALLOWED
    assert ba.rule_ids == ("TIME-01",)


def test_state_border_phone_from_other_state_applies_both_windows(rules: RuleSet) -> None:
    # Lives in SP (Saturday allowed there) with an RJ phone (DDD 21): RJ forbids Saturdays -> strictest wins.
    both = decide(rules, at(2026, 3, 14, 10, 0), debtor={"uf": "SP", "ddd": 21, "identity_confirmed": True})
    assert both.outcome is Outcome.DEFERRED
    assert both.earliest_at == at(2026, 3, 16, 9, 0)
    assert "TIME-RJ" in both.rule_ids
    # Same person, SP phone: Saturday morning is fine.
    assert decide(
        rules, at(2026, 3, 14, 10, 0), debtor={"uf": "SP", "ddd": 11, "identity_confirmed": True}
    ).outcome is (Outcome.ALLOWED)


# ----------------------------------------------------------------------------------------- holidays


def test_sp_state_holiday_9_july_and_the_day_after(rules: RuleSet) -> None:
    holiday = decide(rules, at(2026, 7, 9, 10, 0))  # Thursday, Revolução Constitucionalista (SP only)
    assert holiday.outcome is Outcome.DEFERRED
    assert holiday.earliest_at == at(2026, 7, 10, 8, 0)
    assert "TIME-02" in holiday.rule_ids
    assert any("Revolução Constitucionalista" in r.message_pt for r in holiday.reasons)
    assert decide(rules, at(2026, 7, 10, 8, 0)).outcome is Outcome.ALLOWED
    # Not a holiday in MG or BA.
    assert decide(rules, at(2026, 7, 9, 10, 0), debtor={"uf": "BA", "identity_confirmed": True}).outcome is (
        Outcome.ALLOWED
    )


def test_20_november_state_holiday_before_2024_national_after(rules: RuleSet) -> None:
    # 2023-11-20 (Monday): state law in AL and RJ, municipal in São Paulo capital; not in SP state at large.
    monday = at(2023, 11, 20, 10, 0)
    assert decide(rules, monday, debtor={"uf": "AL", "identity_confirmed": True}).outcome is Outcome.DEFERRED
    assert decide(rules, monday, debtor={"uf": "RJ", "identity_confirmed": True}).outcome is Outcome.DEFERRED
    assert decide(rules, monday, debtor={"uf": "SP", "identity_confirmed": True}).outcome is Outcome.ALLOWED
    capital = decide(rules, monday, debtor={"uf": "SP", "ibge_code": 3550308, "identity_confirmed": True})
    assert capital.outcome is Outcome.DEFERRED
    assert capital.earliest_at == at(2023, 11, 21, 8, 0)
    # National since Lei 14.759/2023: 2026-11-20 (Friday) closed everywhere.
    assert decide(
        rules, at(2026, 11, 20, 10, 0), debtor={"uf": "BA", "identity_confirmed": True}
    ).earliest_at == at(2026, 11, 21, 8, 0)


def test_national_holiday_on_friday_defers_to_saturday_morning(rules: RuleSet) -> None:
    good_friday = decide(rules, at(2026, 4, 3, 9, 0))
    assert good_friday.earliest_at == at(2026, 4, 4, 8, 0)


def test_carnival_blocked_and_ash_wednesday_opens_at_14h(rules: RuleSet) -> None:
    monday = decide(rules, at(2026, 2, 16, 10, 0))
    assert monday.outcome is Outcome.DEFERRED
    assert monday.earliest_at == at(2026, 2, 18, 14, 0)
    assert "TIME-02" in monday.rule_ids
    assert decide(rules, at(2026, 2, 18, 13, 59)).earliest_at == at(2026, 2, 18, 14, 0)
    assert decide(rules, at(2026, 2, 18, 14, 0)).outcome is Outcome.ALLOWED
    # 2027: Carnival 8-9 Feb, Ash Wednesday 10 Feb.
    assert decide(rules, at(2027, 2, 9, 10, 0)).earliest_at == at(2027, 2, 10, 14, 0)


def test_christmas_eve_closes_at_14h(rules: RuleSet) -> None:
    assert decide(rules, at(2026, 12, 24, 13, 59)).outcome is Outcome.ALLOWED
    eve = decide(rules, at(2026, 12, 24, 14, 0))
    assert eve.earliest_at == at(2026, 12, 26, 8, 0)  # 25th is Christmas, 26th a Saturday


def test_rj_carnival_tuesday_and_saint_george(rules: RuleSet) -> None:
    rj = {"debtor": {"uf": "RJ", "identity_confirmed": True}}
    assert decide(rules, at(2026, 4, 23, 10, 0), **rj).earliest_at == at(2026, 4, 24, 9, 0)


def test_tenant_optional_days_can_be_reopened(rules: RuleSet) -> None:
    from quita.compliance.rulesets import load_ruleset

    relaxed = load_ruleset({"version": "t1", "calendar": {"block_optional": []}})
    assert decide(relaxed, at(2026, 2, 16, 10, 0)).outcome is Outcome.ALLOWED
    assert relaxed.version == f"{rules.version}+t1"
    assert relaxed.content_hash != rules.content_hash


def test_municipal_and_tenant_closed_dates(rules: RuleSet) -> None:
    campinas = 3509502
    cal = TenantCalendar(municipal_holidays={campinas: frozenset({date(2026, 7, 14)})})
    debtor = {"uf": "SP", "ibge_code": campinas, "identity_confirmed": True}
    municipal = decide(rules, at(2026, 7, 14, 10, 0), debtor=debtor, calendar=cal)
    assert municipal.earliest_at == at(2026, 7, 15, 8, 0)
    assert any("municipal" in r.message_pt for r in municipal.reasons)
    # Another municipality is not affected.
    assert decide(rules, at(2026, 7, 14, 10, 0), calendar=cal).outcome is Outcome.ALLOWED
    closed = TenantCalendar(closed_dates=frozenset({date(2026, 7, 14)}))
    assert decide(rules, at(2026, 7, 14, 10, 0), calendar=closed).outcome is Outcome.DEFERRED


# --------------------------------------------------------------------------------------- time zones


def test_acre_is_utc_minus_5(rules: RuleSet) -> None:
    ac = {"debtor": {"uf": "AC", "identity_confirmed": True}}
    early = decide(rules, utc(2026, 3, 16, 12, 30), **ac)  # 07:30 in Rio Branco, 09:30 in Brasília
    assert early.outcome is Outcome.DEFERRED
    assert early.earliest_at == utc(2026, 3, 16, 13, 0)
    assert decide(rules, utc(2026, 3, 17, 0, 30), **ac).outcome is Outcome.ALLOWED  # 19:30 local


def test_amazonas_west_east_and_ambiguous(rules: RuleSet) -> None:
    west = {"debtor": {"uf": "AM", "ibge_code": 1301407, "identity_confirmed": True}}  # Eirunepé, UTC-5
    east = {"debtor": {"uf": "AM", "ibge_code": 1302603, "identity_confirmed": True}}  # Manaus, UTC-4
    unknown = {"debtor": {"uf": "AM", "identity_confirmed": True}}
    moment = utc(2026, 3, 16, 12, 30)  # 08:30 Manaus, 07:30 Eirunepé
    assert decide(rules, moment, **east).outcome is Outcome.ALLOWED
    assert decide(rules, moment, **west).earliest_at == utc(2026, 3, 16, 13, 0)
    assert decide(rules, moment, **unknown).earliest_at == utc(2026, 3, 16, 13, 0)
    # Evening: 17:30 Eirunepé is fine there, but 18:30 in Manaus is closed -> ambiguous location waits.
    evening = utc(2026, 3, 16, 22, 30)
    assert decide(rules, evening, **west).outcome is Outcome.ALLOWED
    assert decide(rules, evening, **east).outcome is Outcome.DEFERRED
    assert decide(rules, evening, **unknown).earliest_at == utc(2026, 3, 17, 13, 0)
    assert decide(rules, utc(2026, 3, 16, 21, 59), **unknown).outcome is Outcome.ALLOWED


def test_ddd_alone_decides_zone(rules: RuleSet) -> None:
    moment = utc(2026, 3, 16, 12, 30)
    assert decide(rules, moment, debtor={"uf": None, "ddd": 92, "identity_confirmed": True}).outcome is (
        Outcome.ALLOWED
    )
    assert decide(rules, moment, debtor={"uf": None, "ddd": 97, "identity_confirmed": True}).outcome is (
        Outcome.DEFERRED
    )
    assert decide(rules, moment, debtor={"uf": None, "ddd": 68, "identity_confirmed": True}).outcome is (
        Outcome.DEFERRED
    )


def test_fernando_de_noronha_is_utc_minus_2(rules: RuleSet) -> None:
    noronha = {"debtor": {"uf": "PE", "ibge_code": 2605459, "identity_confirmed": True}}
    recife = {"debtor": {"uf": "PE", "ibge_code": 2611606, "identity_confirmed": True}}
    pe = {"debtor": {"uf": "PE", "identity_confirmed": True}}
    moment = utc(2026, 3, 16, 10, 30)  # 08:30 Noronha, 07:30 Recife
    assert decide(rules, moment, **noronha).outcome is Outcome.ALLOWED
    assert decide(rules, moment, **recife).earliest_at == utc(2026, 3, 16, 11, 0)
    night = utc(2026, 3, 16, 22, 30)  # 20:30 Noronha, 19:30 Recife
    assert decide(rules, night, **recife).outcome is Outcome.ALLOWED
    assert decide(rules, night, **noronha).outcome is Outcome.DEFERRED
    assert decide(rules, night, **pe).outcome is Outcome.DEFERRED  # PE without municipality: intersection


def test_unknown_location_uses_strictest_intersection(rules: RuleSet) -> None:
    nowhere = {"debtor": {"uf": None, "identity_confirmed": True}}
    decision = decide(rules, at(2026, 3, 14, 10, 0), **nowhere)  # Saturday: RJ/ES/AM forbid it
    assert decision.outcome is Outcome.DEFERRED
    assert any(a.rule_id == "TIME-03" for a in decision.advisories)


def test_invalid_location_is_blocked_with_reason(rules: RuleSet) -> None:
    decision = decide(rules, at(2026, 3, 16, 10, 0), debtor={"uf": "XX", "identity_confirmed": True})
    assert decision.outcome is Outcome.BLOCKED
    assert decision.rule_ids == ("TIME-03",)


# --------------------------------------------------------------------------------------- properties

_UFS = st.sampled_from(["SP", "RJ", "AM", "AC", "MG", "PE", "BA", "ES", "PR", "AL", "RS", "MT"])


@settings(max_examples=150, deadline=None)
@given(
    uf=_UFS,
    minutes=st.integers(min_value=0, max_value=60 * 24 * 400),
)
def test_deferral_is_the_earliest_allowed_moment(rules: RuleSet, uf: str, minutes: int) -> None:
    now = utc(2026, 1, 1) + timedelta(minutes=minutes)
    debtor = {"uf": uf, "identity_confirmed": True}
    decision = decide(rules, now, debtor=debtor)
    assert decision.outcome in (Outcome.ALLOWED, Outcome.DEFERRED)
    if decision.outcome is Outcome.DEFERRED:
        assert decision.earliest_at is not None and decision.earliest_at > now
        assert decide(rules, decision.earliest_at, debtor=debtor).outcome is Outcome.ALLOWED
        just_before = decision.earliest_at - timedelta(minutes=1)
        if just_before >= now:
            assert decide(rules, just_before, debtor=debtor).outcome is Outcome.DEFERRED

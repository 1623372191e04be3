"""Frequency caps per person across debts and creditors (FREQ-01..03) and the replies exemption (TIME-05)."""

from __future__ import annotations

from datetime import timedelta

from quita.compliance.domain import Attempt, History, Outcome, RuleSet, evaluate
from quita.compliance.domain.frequency import unanswered_streak
from quita.compliance.rulesets import load_ruleset

from .conftest import at, build


def history(*attempts: Attempt) -> History:
    return History(attempts=attempts)


def test_48h_gap_counts_attempts_of_another_creditor(rules: RuleSet) -> None:
    # Creditor A wrote yesterday 10:00; creditor B proposes today 10:00: same person, so B must wait.
    past = history(Attempt(at(2026, 3, 16, 10, 0), creditor="credor-a"))
    decision = evaluate(build(at(2026, 3, 17, 10, 0), history=past), rules)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_at == at(2026, 3, 18, 10, 0)
    assert decision.rule_ids == ("FREQ-01",)
    assert evaluate(build(at(2026, 3, 18, 10, 0), history=past), rules).outcome is Outcome.ALLOWED


def test_gap_ending_outside_window_moves_to_next_opening(rules: RuleSet) -> None:
    past = history(Attempt(at(2026, 3, 12, 19, 30)))  # Thursday evening
    decision = evaluate(build(at(2026, 3, 13, 10, 0), history=past), rules)
    # 48 h later is Saturday 19:30, after Saturday's 14:00 close; Sunday closed -> Monday 08:00.
    assert decision.earliest_at == at(2026, 3, 16, 8, 0)
    assert set(decision.rule_ids) == {"FREQ-01", "TIME-SP"}


def test_daily_cap_without_gap(rules: RuleSet) -> None:
    relaxed = load_ruleset({"version": "nogap", "frequency": {"min_gap_hours": 0, "max_per_day": 1}})
    past = history(Attempt(at(2026, 3, 16, 8, 30), creditor="a"))
    decision = evaluate(build(at(2026, 3, 16, 15, 0), history=past), relaxed)
    assert decision.earliest_at == at(2026, 3, 17, 8, 0)
    assert "FREQ-01" in decision.rule_ids
    two_a_day = load_ruleset({"version": "two", "frequency": {"min_gap_hours": 0, "max_per_day": 2}})
    assert evaluate(build(at(2026, 3, 16, 15, 0), history=past), two_a_day).outcome is Outcome.ALLOWED


def test_daily_cap_uses_debtor_local_day(rules: RuleSet) -> None:
    relaxed = load_ruleset({"version": "nogap", "frequency": {"min_gap_hours": 0}})
    # 19:30 in Rio Branco (AC) is 00:30 UTC the next day: still the same local day for the debtor.
    ac = {"uf": "AC", "identity_confirmed": True}
    past = history(Attempt(at(2026, 3, 16, 9, 0, zone="America/Rio_Branco")))
    decision = evaluate(
        build(at(2026, 3, 16, 19, 30, zone="America/Rio_Branco"), debtor=ac, history=past), relaxed
    )
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_at == at(2026, 3, 17, 8, 0, zone="America/Rio_Branco")


def test_weekly_cap_three_in_rolling_seven_days_across_creditors(rules: RuleSet) -> None:
    past = history(
        Attempt(at(2026, 3, 9, 9, 0), creditor="a"),
        Attempt(at(2026, 3, 11, 10, 0), creditor="b"),
        Attempt(at(2026, 3, 13, 11, 0), creditor="a"),
    )
    decision = evaluate(build(at(2026, 3, 16, 8, 30), history=past), rules)
    # Gap is satisfied (Sunday 11:00) but Monday 9 March 09:00 only leaves the 7-day window at 16 March 09:00.
    assert decision.earliest_at == at(2026, 3, 16, 9, 0)
    assert "FREQ-01" in decision.rule_ids
    assert any("7 dias" in r.message_pt for r in decision.reasons)


def test_stop_after_six_unanswered_in_thirty_days(rules: RuleSet) -> None:
    now = at(2026, 3, 30, 10, 0)
    attempts = tuple(Attempt(now - timedelta(days=3 + 4 * i)) for i in range(6))
    decision = evaluate(build(now, history=History(attempts)), rules)
    assert decision.outcome is Outcome.BLOCKED
    assert decision.rule_ids == ("FREQ-03",)
    # Five unanswered is still fine.
    assert evaluate(build(now, history=History(attempts[:5])), rules).outcome is Outcome.ALLOWED


def test_answer_or_inbound_message_resets_the_unanswered_streak(rules: RuleSet) -> None:
    now = at(2026, 3, 30, 10, 0)
    attempts = [Attempt(now - timedelta(days=3 + 4 * i)) for i in range(6)]
    answered = (*attempts[:2], Attempt(attempts[2].at, answered=True), *attempts[3:])
    assert unanswered_streak(now, answered, None, rules.frequency) == 2
    assert unanswered_streak(now, attempts, now - timedelta(days=10), rules.frequency) == 2
    old = [Attempt(now - timedelta(days=31 + i)) for i in range(6)]
    assert unanswered_streak(now, old, None, rules.frequency) == 0


def test_paid_claim_pauses_three_business_days(rules: RuleSet) -> None:
    claim = at(2026, 3, 16, 10, 0)  # Monday
    debtor = {"uf": "SP", "identity_confirmed": True, "already_paid_claim_at": claim}
    decision = evaluate(build(at(2026, 3, 18, 10, 0), debtor=debtor), rules)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_at == at(2026, 3, 20, 8, 0)  # Tue, Wed, Thu pass -> Friday
    assert set(decision.rule_ids) == {"FREQ-02", "TIME-SP"}  # pause ends at midnight, the window at 08:00
    assert evaluate(build(at(2026, 3, 20, 8, 0), debtor=debtor), rules).outcome is Outcome.ALLOWED


def test_paid_claim_pause_skips_holidays(rules: RuleSet) -> None:
    claim = at(2026, 7, 7, 10, 0)  # Tuesday; 9 July is an SP holiday
    debtor = {"uf": "SP", "identity_confirmed": True, "already_paid_claim_at": claim}
    decision = evaluate(build(at(2026, 7, 8, 10, 0), debtor=debtor), rules)
    # Business days: Wed 8, (Thu 9 holiday), Fri 10, (weekend), Mon 13 -> allowed from Tuesday 14.
    assert decision.earliest_at == at(2026, 7, 14, 8, 0)


def test_reply_to_debtor_ignores_windows_and_caps(rules: RuleSet) -> None:
    sunday_night = at(2026, 3, 15, 23, 0)
    reply = {"kind": "reply", "is_reply_to_debtor_message": True}
    past = history(Attempt(at(2026, 3, 15, 9, 0)))
    decision = evaluate(
        build(
            sunday_night,
            contact=reply,
            facts={"last_inbound_at": sunday_night - timedelta(hours=1)},
            history=past,
        ),
        rules,
    )
    assert decision.outcome is Outcome.ALLOWED
    assert decision.rule_ids == ("TIME-05",)


def test_stale_reply_is_treated_as_proactive(rules: RuleSet) -> None:
    sunday_night = at(2026, 3, 15, 23, 0)
    reply = {"kind": "reply", "is_reply_to_debtor_message": True}
    decision = evaluate(
        build(sunday_night, contact=reply, facts={"last_inbound_at": sunday_night - timedelta(hours=30)}),
        rules,
    )
    assert decision.outcome is Outcome.DEFERRED
    assert any(a.rule_id == "TIME-05" for a in decision.advisories)

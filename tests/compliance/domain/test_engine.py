"""Status, provenance, identity, prescription and WhatsApp rules; precedence blocked > deferred > allowed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from quita.compliance.domain import (
    AccountFacts,
    Channel,
    ContactKind,
    Outcome,
    RuleSet,
    TemplateCategory,
    TemplateInfo,
    TemplateStatus,
    evaluate,
)
from quita.compliance.rulesets import load_ruleset

from .conftest import at, build

MONDAY = at(2026, 3, 16, 10, 0)
SUNDAY = at(2026, 3, 15, 10, 0)
UTILITY = TemplateInfo("lembrete_vencimento", TemplateCategory.UTILITY, TemplateStatus.APPROVED)


def blocked_by(rules: RuleSet, now: datetime = MONDAY, **kw: object) -> tuple[str, ...]:
    decision = evaluate(build(now, **kw), rules)
    assert decision.outcome is Outcome.BLOCKED, decision
    assert decision.earliest_at is None
    return decision.rule_ids


def test_baseline_is_allowed(rules: RuleSet) -> None:
    decision = evaluate(build(MONDAY), rules)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.ruleset_version == rules.version
    assert decision.ruleset_hash == rules.content_hash


@pytest.mark.parametrize(
    ("kw", "rule_id"),
    [
        ({"debtor": {"uf": "SP", "identity_confirmed": True, "deceased": True}}, "CDC-16"),
        ({"facts": {"status": "wrong_number"}}, "ID-05"),
        ({"facts": {"status": "opted_out"}}, "CHAN-01"),
        (
            {
                "debtor": {
                    "uf": "SP",
                    "identity_confirmed": True,
                    "opted_out_channels": frozenset({Channel.SMS}),
                }
            },
            "CHAN-01",
        ),
        ({"facts": {"status": "unreachable"}}, "CONTACT-01"),
        ({"debtor": {"uf": "SP", "identity_confirmed": True, "in_dispute": True}}, "CDC-04"),
        (
            {
                "debt": {
                    "due_date": date(2026, 1, 10),
                    "status": "paid",
                    "creditor_identification_present": True,
                }
            },
            "DEBT-01",
        ),
        (
            {
                "debt": {
                    "due_date": date(2026, 1, 10),
                    "status": "agreement",
                    "creditor_identification_present": True,
                }
            },
            "FREQ-04",
        ),
        ({"contact": {"kind": ContactKind.AGREEMENT_REMINDER}}, "FREQ-04"),
        ({"facts": {"provenance": "third_party"}}, "ID-04"),
        ({"facts": {"provenance": "enriched"}}, "ID-03"),
        ({"debtor": {"uf": "SP", "identity_confirmed": False}}, "ID-01"),
        (
            {"contact": {"discloses_amount": True}, "debt": {"creditor_identification_present": False}},
            "CDC-03",
        ),
    ],
)
def test_each_hard_block(rules: RuleSet, kw: dict[str, object], rule_id: str) -> None:
    assert rule_id in blocked_by(rules, **kw)


def test_opt_out_of_another_channel_does_not_block(rules: RuleSet) -> None:
    debtor = {"uf": "SP", "identity_confirmed": True, "opted_out_channels": frozenset({Channel.WHATSAPP})}
    assert evaluate(build(MONDAY, debtor=debtor), rules).outcome is Outcome.ALLOWED


def test_blocked_beats_deferred_and_lists_every_blocking_rule(rules: RuleSet) -> None:
    # Sunday (would defer) and deceased + wrong number (block): blocked, both block reasons, no time reasons.
    ids = blocked_by(
        rules,
        SUNDAY,
        debtor={"uf": "SP", "identity_confirmed": True, "deceased": True},
        facts={"status": "wrong_number"},
    )
    assert set(ids) == {"CDC-16", "ID-05"}


def test_agreement_reminder_allowed_on_active_agreement(rules: RuleSet) -> None:
    debt = {"due_date": date(2026, 1, 10), "status": "agreement", "creditor_identification_present": True}
    contact = {"kind": ContactKind.AGREEMENT_REMINDER}
    assert evaluate(build(MONDAY, debt=debt, contact=contact), rules).outcome is Outcome.ALLOWED


def test_identity_check_allowed_before_confirmation_and_on_enriched_numbers(rules: RuleSet) -> None:
    contact = {"kind": ContactKind.IDENTITY_CHECK}
    debtor = {"uf": "SP", "identity_confirmed": False}
    assert evaluate(build(MONDAY, contact=contact, debtor=debtor), rules).outcome is Outcome.ALLOWED
    enriched = evaluate(
        build(MONDAY, contact=contact, debtor=debtor, facts={"provenance": "enriched"}), rules
    )
    assert enriched.outcome is Outcome.ALLOWED
    # An identity check that discloses the amount is still disclosure.
    leaky = {"kind": ContactKind.IDENTITY_CHECK, "discloses_amount": True}
    assert {"ID-01", "ID-03"} <= set(
        blocked_by(rules, contact=leaky, debtor=debtor, facts={"provenance": "enriched"})
    )


def test_disputed_debt_reply_is_allowed_with_handoff_advisory(rules: RuleSet) -> None:
    now = at(2026, 3, 15, 22, 0)
    decision = evaluate(
        build(
            now,
            contact={"kind": ContactKind.REPLY, "is_reply_to_debtor_message": True},
            debtor={"uf": "SP", "identity_confirmed": True, "in_dispute": True, "vulnerable": True},
            facts={"last_inbound_at": now - timedelta(minutes=5)},
        ),
        rules,
    )
    assert decision.outcome is Outcome.ALLOWED
    assert {a.rule_id for a in decision.advisories} == {"CDC-04", "CDC-10"}


# ------------------------------------------------------------------------------------------- prescription


def test_prescribed_debt_blocks_active_collection_but_not_replies(rules: RuleSet) -> None:
    old = {"due_date": date(2021, 3, 16), "creditor_identification_present": True}
    assert blocked_by(rules, debt=old) == ("PRESC-02",)
    # The day before the fifth anniversary it is still collectable.
    assert evaluate(build(at(2026, 3, 13, 10, 0), debt=old), rules).outcome is Outcome.ALLOWED
    reply = evaluate(
        build(
            MONDAY,
            debt=old,
            contact={"kind": ContactKind.REPLY, "is_reply_to_debtor_message": True},
            facts={"last_inbound_at": MONDAY - timedelta(hours=2)},
        ),
        rules,
    )
    assert reply.outcome is Outcome.ALLOWED


def test_acknowledgment_restarts_and_portfolio_override_changes_period(rules: RuleSet) -> None:
    acknowledged = {
        "due_date": date(2020, 1, 10),
        "acknowledged_on": date(2023, 5, 2),
        "creditor_identification_present": True,
    }
    assert evaluate(build(MONDAY, debt=acknowledged), rules).outcome is Outcome.ALLOWED
    three_years = {
        "due_date": date(2023, 1, 10),
        "prescription_years": 3,
        "creditor_identification_present": True,
    }
    assert blocked_by(rules, debt=three_years) == ("PRESC-02",)
    ten_years = {
        "due_date": date(2019, 1, 10),
        "prescription_years": 10,
        "creditor_identification_present": True,
    }
    assert evaluate(build(MONDAY, debt=ten_years), rules).outcome is Outcome.ALLOWED


def test_bank_creditor_1825_days(rules: RuleSet) -> None:
    debt = {"due_date": date(2021, 3, 10), "prescription_years": 10, "creditor_identification_present": True}
    assert blocked_by(rules, debt={**debt, "creditor_kind": "bank"}) == ("PRESC-03",)
    assert evaluate(build(MONDAY, debt={**debt, "creditor_kind": "other"}), rules).outcome is Outcome.ALLOWED
    recent = {**debt, "creditor_kind": "bank", "due_date": MONDAY.date() - timedelta(days=1825)}
    assert evaluate(build(MONDAY, debt=recent), rules).outcome is Outcome.ALLOWED


# ---------------------------------------------------------------------------------------------- WhatsApp

WA = {"channel": Channel.WHATSAPP, "template": UTILITY}
OPTED_IN = {"whatsapp_opt_in": True}


def test_whatsapp_template_outside_window_allowed(rules: RuleSet) -> None:
    assert evaluate(build(MONDAY, contact=WA, facts=OPTED_IN), rules).outcome is Outcome.ALLOWED


def test_whatsapp_free_text_needs_open_service_window(rules: RuleSet) -> None:
    free = {"channel": Channel.WHATSAPP, "free_text": "Bom dia, podemos conversar sobre sua conta?"}
    assert "WA-01" in blocked_by(rules, contact=free, facts=OPTED_IN)
    inside = {**OPTED_IN, "last_inbound_at": MONDAY - timedelta(hours=23)}
    assert evaluate(build(MONDAY, contact=free, facts=inside), rules).outcome is Outcome.ALLOWED
    expired = {**OPTED_IN, "last_inbound_at": MONDAY - timedelta(hours=24)}
    assert "WA-01" in blocked_by(rules, contact=free, facts=expired)


@pytest.mark.parametrize(
    "template",
    [
        TemplateInfo("promo", TemplateCategory.MARKETING, TemplateStatus.APPROVED),
        TemplateInfo("novo", TemplateCategory.UTILITY, TemplateStatus.PENDING),
        TemplateInfo("pausado", TemplateCategory.UTILITY, TemplateStatus.PAUSED),
    ],
)
def test_whatsapp_template_must_be_approved_utility(rules: RuleSet, template: TemplateInfo) -> None:
    assert blocked_by(rules, contact={"channel": Channel.WHATSAPP, "template": template}, facts=OPTED_IN) == (
        "WA-02",
    )


def test_whatsapp_requires_opt_in_for_proactive(rules: RuleSet) -> None:
    assert blocked_by(rules, contact=WA) == ("CHAN-01",)
    no_opt_in = load_ruleset({"version": "x", "whatsapp": {"require_opt_in": False}})
    assert evaluate(build(MONDAY, contact=WA), no_opt_in).outcome is Outcome.ALLOWED


def test_whatsapp_tier_full_defers_to_next_slot(rules: RuleSet) -> None:
    full = AccountFacts(tier_limit=250, unique_recipients_24h=250, next_slot_at=MONDAY + timedelta(hours=2))
    decision = evaluate(build(MONDAY, contact=WA, facts=OPTED_IN, account=full), rules)
    assert decision.outcome is Outcome.DEFERRED
    assert decision.earliest_at == MONDAY + timedelta(hours=2)
    assert decision.rule_ids == ("WA-03",)
    counted = AccountFacts(tier_limit=250, unique_recipients_24h=250, recipient_already_counted=True)
    assert (
        evaluate(build(MONDAY, contact=WA, facts=OPTED_IN, account=counted), rules).outcome is Outcome.ALLOWED
    )
    unlimited = AccountFacts(tier_limit=None, unique_recipients_24h=10**6)
    assert (
        evaluate(build(MONDAY, contact=WA, facts=OPTED_IN, account=unlimited), rules).outcome
        is Outcome.ALLOWED
    )


def test_whatsapp_tier_without_known_slot_waits_24h_then_window(rules: RuleSet) -> None:
    full = AccountFacts(tier_limit=2000, unique_recipients_24h=2000)
    decision = evaluate(build(at(2026, 3, 13, 19, 0), contact=WA, facts=OPTED_IN, account=full), rules)
    # Friday 19:00 + 24 h = Saturday 19:00, after Saturday's window -> Monday 08:00.
    assert decision.earliest_at == at(2026, 3, 16, 8, 0)
    assert set(decision.rule_ids) == {"WA-03", "TIME-SP"}


def test_in_service_window_does_not_consume_tier(rules: RuleSet) -> None:
    full = AccountFacts(tier_limit=250, unique_recipients_24h=250)
    facts = {**OPTED_IN, "last_inbound_at": MONDAY - timedelta(hours=1)}
    assert evaluate(build(MONDAY, contact=WA, facts=facts, account=full), rules).outcome is Outcome.ALLOWED


# -------------------------------------------------------------------------------------------- content


def test_abusive_free_text_is_blocked_with_linter_rule_ids(rules: RuleSet) -> None:
    text = "ÚLTIMO AVISO!!! Seu nome será protestado hoje e vamos acionar seu empregador, caloteiro."
    ids = set(blocked_by(rules, contact={"free_text": text}))
    assert {"CDC-01", "CDC-02", "ID-04", "AGT-02"} <= ids


def test_template_body_is_linted_too(rules: RuleSet) -> None:
    bad = TemplateInfo(
        "x", TemplateCategory.UTILITY, TemplateStatus.APPROVED, body="Oi, vc tem uma conta aberta 😡😡😡"
    )
    ids = set(blocked_by(rules, contact={"channel": Channel.WHATSAPP, "template": bad}, facts=OPTED_IN))
    assert {"AGT-02", "CDC-01"} <= ids


def test_warn_only_categories_become_advisories(rules: RuleSet) -> None:
    lenient = load_ruleset({"version": "w", "linter": {"blocking_categories": ["threat"]}})
    decision = evaluate(build(MONDAY, contact={"free_text": "Oi, vc pode pagar hj?"}), lenient)
    assert decision.outcome is Outcome.ALLOWED
    assert {a.rule_id for a in decision.advisories} == {"AGT-02"}


def test_naive_now_is_a_programming_error(rules: RuleSet) -> None:
    with pytest.raises(ValueError, match="fuso"):
        evaluate(build(datetime(2026, 3, 16, 10, 0)), rules)


def test_marketing_stop_in_whatsapp_blocks_marketing_templates_only() -> None:
    marketing_allowed = load_ruleset(
        {"version": "x", "whatsapp": {"allowed_template_categories": ["UTILITY", "MARKETING"]}}
    )
    promo = {
        "channel": Channel.WHATSAPP,
        "template": TemplateInfo("promo", TemplateCategory.MARKETING, TemplateStatus.APPROVED),
    }
    stopped = {**OPTED_IN, "marketing_opted_out": True}
    assert blocked_by(marketing_allowed, contact=promo, facts=stopped) == ("WA-04",)
    assert evaluate(build(MONDAY, contact=promo, facts=OPTED_IN), marketing_allowed).outcome is Outcome.ALLOWED
    assert evaluate(build(MONDAY, contact=WA, facts=stopped), marketing_allowed).outcome is Outcome.ALLOWED

"""Pure timer decisions: which reminder belongs to which day, when the next charge is due, when an
agreement breaks, promises and receipt pauses."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from quita.bot.dialog import timers as t

DUE = date(2026, 4, 10)


def _plan(*paid: bool, charged: tuple[bool, ...] | None = None) -> tuple[t.InstallmentView, ...]:
    charged = charged or tuple(i == 0 for i in range(len(paid)))
    return tuple(
        t.InstallmentView(uuid.UUID(int=i + 1), i + 1, DUE + timedelta(days=30 * i), p, c)
        for i, (p, c) in enumerate(zip(paid, charged, strict=True))
    )


def test_reminders_on_the_day_before_the_due_date_and_the_day_after_only() -> None:
    plan = _plan(False, False)
    first = plan[0].id
    seen = {offset: t.agreement_actions(plan, DUE + timedelta(days=offset), 5) for offset in range(-3, 4)}
    assert seen[-1] == [t.Remind(first, t.Moment.BEFORE)]
    assert seen[0] == [t.Remind(first, t.Moment.DUE)]
    assert seen[1] == [t.Remind(first, t.Moment.AFTER)]
    assert seen[-3] == seen[-2] == seen[2] == seen[3] == []


def test_next_instalment_is_charged_once_the_previous_is_paid() -> None:
    plan = _plan(True, False, False)
    assert t.agreement_actions(plan, DUE + timedelta(days=2), 5) == [t.Charge(plan[1].id)]
    # already charged: nothing until its reminders
    charged = _plan(True, False, False, charged=(True, True, False))
    assert t.agreement_actions(charged, DUE + timedelta(days=2), 5) == []


def test_an_unpaid_instalment_is_charged_with_its_first_reminder() -> None:
    plan = _plan(False, charged=(False,))
    actions = t.agreement_actions(plan, DUE - timedelta(days=1), 5)
    assert actions == [t.Charge(plan[0].id), t.Remind(plan[0].id, t.Moment.BEFORE)]


def test_break_after_n_days_and_keep_when_all_paid() -> None:
    plan = _plan(True, False)
    second_due = plan[1].due_date
    assert t.Break(plan[1].id) not in t.agreement_actions(plan, second_due + timedelta(days=4), 5)
    assert t.agreement_actions(plan, second_due + timedelta(days=5), 5) == [t.Break(plan[1].id)]
    assert t.agreement_actions(plan, second_due + timedelta(days=2), 2) == [t.Break(plan[1].id)]
    assert t.agreement_actions(_plan(True, True), DUE, 5) == [t.Keep()]
    assert t.agreement_actions((), DUE, 5) == []


def test_the_down_payment_comes_first() -> None:
    down = t.InstallmentView(uuid.uuid4(), 0, DUE, False, True)
    later = t.InstallmentView(uuid.uuid4(), 1, DUE + timedelta(days=30), False, False)
    assert t.current((later, down)) == down


def test_promise_reminded_the_day_before_broken_after_the_date() -> None:
    assert t.promise_action(DUE, DUE - timedelta(days=2)) is None
    assert t.promise_action(DUE, DUE - timedelta(days=1)) is t.PromiseAction.REMIND
    assert t.promise_action(DUE, DUE) is None
    assert t.promise_action(DUE, DUE + timedelta(days=1)) is t.PromiseAction.BROKEN
    assert t.promise_action(DUE, DUE + timedelta(days=9)) is t.PromiseAction.BROKEN


def test_receipt_pause_ends_on_its_date() -> None:
    assert not t.pause_expired(DUE, DUE - timedelta(days=1))
    assert t.pause_expired(DUE, DUE)
    assert not t.pause_expired(None, DUE)


def test_reminder_templates_and_timer_texts_pass_the_wording_linter() -> None:
    """The starter templates the tick uses are UTILITY, and neither they nor the texts carry threat wording."""
    from quita.bot import timers as tick
    from quita.compliance.domain import lint_text
    from quita.compliance.rulesets import default_ruleset
    from quita.whatsapp.templates import starter_definitions

    linter = default_ruleset().linter
    ours = {d["name"]: d for d in starter_definitions()}
    for name in (tick.INSTALLMENT_TEMPLATE, tick.PROMISE_TEMPLATE):
        definition = ours[name]
        assert definition["category"] == "UTILITY"
        component = next(c for c in definition["components"] if c["type"] == "BODY")
        body = component["text"]  # as the debtor reads it: the example's values in place of {{n}}
        for n, value in enumerate(component["example"]["body_text"][0], start=1):
            body = body.replace(f"{{{{{n}}}}}", value)
        assert "{{" not in body and not lint_text(body, linter), (name, lint_text(body, linter))
    for phrase in tick._WHEN.values():
        assert not lint_text(phrase, linter)
    assert not lint_text("Recebemos o pagamento da parcela anterior, obrigado.", linter)


def test_reminder_quick_replies_reach_the_menu_choices() -> None:
    from quita.bot.dialog import machine

    assert machine._TEMPLATE_PAYLOADS["Receber boleto ou Pix"] == "menu:boleto"
    assert machine._TEMPLATE_PAYLOADS["Já paguei"] == "menu:paid"

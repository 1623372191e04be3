"""The conversation state machine: (state, event, facts) -> (new state, replies, commands). No I/O.

Order of precedence, so that costly misses cannot happen: a person owns the conversation → silence; the
wrong person → silence; opt-out anywhere, even inside another sentence → confirm once; dispute, hardship,
complaint, deceased, "talk to a person" → care and handoff; then what the current step expects. A tapped
button is bound to the offer of the message it belonged to (the ``context`` wamid), never to whatever offer
happens to be the newest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from quita.bot.dialog import commands as cmd
from quita.bot.dialog import policy as pol
from quita.bot.dialog import texts
from quita.bot.dialog.facts import ChoiceIn, DebtFacts, Event, MediaIn, TextIn, TimerIn
from quita.bot.dialog.state import ConversationState, Offer, Step
from quita.bot.nlu import AmountRole, Intent, Understanding
from quita.br.money import format_brl
from quita.br.text import fold
from quita.whatsapp.domain.messages import (
    ListMessage,
    ListRow,
    ListSection,
    Message,
    ReplyButton,
    ReplyButtonsMessage,
    TextMessage,
)

MAX_IDENTITY_ATTEMPTS = 3
#: Below this confidence a model-only reading counts as not understood.
MIN_CONFIDENCE = 0.45

MENU_ROWS = (
    ("menu:full", "Pagar à vista", "Com o desconto disponível"),
    ("menu:plans", "Parcelar", "Ver opções de parcelamento"),
    ("menu:boleto", "2ª via do boleto", None),
    ("menu:pix", "Pix copia e cola", None),
    ("menu:promise", "Pagar em outra data", None),
    ("menu:paid", "Já paguei", "Enviar comprovante"),
    ("menu:human", "Falar com atendente", None),
    ("menu:dispute", "Não reconheço a dívida", None),
)
_YES_TITLES = {"sou eu", "sim, sou eu", "sim"}
_NO_TITLES = {"nao sou eu", "nao conheco esta pessoa", "nao conheco"}
#: Quick-reply payloads a sender may set on the identity template's buttons (without one, Meta sends the
#: button's text, matched by the titles above).
_TEMPLATE_PAYLOADS = {
    "IDENTIDADE_CONFIRMADA": "id_yes",
    "IDENTIDADE_NEGADA": "id_no",
    # quick replies of the reminder templates (the payload is the button text)
    "Receber boleto ou Pix": "menu:boleto",
    "Já paguei": "menu:paid",
}
_ACCEPT = re.compile(r"\b(confirmo|aceito|de acordo|fechado|pode fechar|fechar o acordo)\b")


@dataclass(frozen=True, slots=True)
class Reply:
    message: Message
    offer_id: str | None = None  # the offer this message shows, bound to its wamid once sent


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ConversationState
    replies: tuple[Reply, ...] = ()
    commands: tuple[cmd.Command, ...] = ()


def decide(state: ConversationState, event: Event, facts: DebtFacts) -> Outcome:
    if isinstance(event, TimerIn):
        return _timer(state, event, facts)
    understanding = event.understanding if isinstance(event, TextIn) else None
    if understanding is not None and _says(understanding, Intent.OPT_OUT):
        if state.opted_out:
            return Outcome(state)
        return Outcome(replace(state, opted_out=True), (_text(texts.OPT_OUT),), (cmd.OptOut(),))
    if state.step in (Step.HUMAN, Step.WRONG_PERSON):
        return Outcome(state)
    if isinstance(event, ChoiceIn):
        return _choice(state, event, facts)
    if isinstance(event, MediaIn):
        if not state.identity_verified:
            return _misunderstood(state, facts)
        review = cmd.OpenReview(event.media_id)
        return Outcome(_understood(state, Step.MENU), (_text(texts.RECEIPT_THANKS),), (review,))
    assert understanding is not None
    return _text_in(state, event, understanding, facts)


# --------------------------------------------------------------------------- text


def _says(understanding: Understanding, intent: Intent) -> bool:
    return understanding.intent is intent or f"also:{intent.value}" in understanding.signals


def _text_in(state: ConversationState, event: TextIn, u: Understanding, facts: DebtFacts) -> Outcome:
    care = _care(state, u)
    if care is not None:
        return care
    if state.step is Step.IDENTITY_LOCKED:
        return Outcome(state)
    if state.step in (Step.AWAITING_IDENTITY, Step.AWAITING_IDENTITY_ANSWER):
        return _identity_text(state, event, u, facts)
    folded = fold(event.text)
    if state.step is Step.CONFIRMING_PLAN and state.pending_plan and _ACCEPT.search(folded):
        offer_id, key = state.pending_plan
        return _accept(state, state.offer(offer_id), key, facts)
    if u.intent is Intent.PROMISE_TO_PAY or (
        state.step is Step.AWAITING_PROMISE_DATE and u.entities.date is not None
    ):
        return _promise(state, u, facts)
    intent = u.intent
    if intent is Intent.ALREADY_PAID:
        return _already_paid(state)
    if intent in (Intent.NEGOTIATE, Intent.ASK_DISCOUNT) or (
        state.step in (Step.CHOOSING_PLAN, Step.CONFIRMING_PLAN)
        and (u.entities.installments is not None or u.entities.amounts)
    ):
        return _negotiate(state, u, facts)
    if intent is Intent.ASK_DETAILS:
        return _disclose(state, facts)
    if intent in (Intent.REQUEST_BOLETO, Intent.REQUEST_PIX):
        return _charge(state, "boleto" if intent is Intent.REQUEST_BOLETO else "pix", facts)
    return _misunderstood(state, facts)


def _care(state: ConversationState, u: Understanding) -> Outcome | None:
    """Dispute, hardship, complaint, deceased, a person: pause, tag and hand off, whatever the step."""
    if _says(u, Intent.DECEASED):
        return _handoff(state, texts.CARE_DECEASED, "care", "deceased", pause="deceased", tag="falecido")
    if _says(u, Intent.COMPLAINT_LEGAL):
        return _handoff(
            state, texts.CARE_COMPLAINT, "legal", "complaint", pause="complaint", tag="reclamacao"
        )
    if "over_indebted" in u.signals:
        return _handoff(
            state,
            texts.CARE_HARDSHIP,
            "care",
            "over_indebted",
            pause="over_indebted",
            tag="superendividamento",
        )
    if u.intent is Intent.DISPUTE:
        return _handoff(state, texts.CARE_DISPUTE, "care", "dispute", pause="dispute", tag="contestacao")
    if u.intent is Intent.CANNOT_PAY:
        return _handoff(state, texts.CARE_HARDSHIP, "care", "hardship", pause="hardship", tag="dificuldade")
    if u.intent is Intent.TALK_TO_HUMAN:
        return _handoff(state, texts.HANDOFF, "general", "requested")
    return None


def _handoff(
    state: ConversationState,
    text: str,
    queue: str,
    reason: str,
    *,
    pause: str | None = None,
    tag: str | None = None,
) -> Outcome:
    commands: list[cmd.Command] = []
    if pause is not None:
        commands.append(cmd.PauseDebt(pause))
    if tag is not None:
        commands.append(cmd.TagDebt(tag))
    commands.append(cmd.Handoff(queue, reason))
    new = replace(state, step=Step.HUMAN, misunderstandings=0, pending_plan=None)
    return Outcome(new, (_text(text),), tuple(commands))


# --------------------------------------------------------------------------- identity


_DIGITS = re.compile(r"\d")
_BIRTH = re.compile(r"\b(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\b|\b(\d{2})(\d{2})(\d{4})\b")


def _identity_answer(text: str, facts: DebtFacts) -> bool | None:
    """True/False when the text holds an answer, None when it holds none (so it is not a failed attempt)."""
    if facts.identity_method == "birth_date":
        match = _BIRTH.search(text)
        if not match:
            return None
        d, m, y = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.group(4, 5, 6)
        year = int(y)
        if year < 100:
            year += 1900 if year > facts.today.year % 100 else 2000
        try:
            given = date(year, int(m), int(d))
        except ValueError:
            return False
        return given.isoformat() == facts.identity_secret
    digits = "".join(_DIGITS.findall(text))
    if not digits:
        return None
    return digits[:3] == facts.identity_secret and len(digits) in (3, 11)


def _identity_text(state: ConversationState, event: TextIn, u: Understanding, facts: DebtFacts) -> Outcome:
    if u.intent is Intent.DENY_IDENTITY and not _DIGITS.search(event.text):
        return _wrong_person(state)
    answer = _identity_answer(event.text, facts)
    if answer is None:
        if state.step is Step.AWAITING_IDENTITY and u.intent is Intent.CONFIRM_IDENTITY:
            return _ask_identity(state, facts)
        return _misunderstood(state, facts)
    return _check_identity(state, answer, facts)


def _ask_identity(state: ConversationState, facts: DebtFacts) -> Outcome:
    new = replace(state, step=Step.AWAITING_IDENTITY_ANSWER, misunderstandings=0)
    return Outcome(new, (_text(texts.identity_question(facts)),))


def _check_identity(state: ConversationState, ok: bool, facts: DebtFacts) -> Outcome:
    if ok:
        verified = replace(state, identity_verified=True, identity_failures=0)
        outcome = _disclose(verified, facts)
        return replace(outcome, commands=(cmd.ConfirmIdentity(facts.identity_method), *outcome.commands))
    failures = state.identity_failures + 1
    if failures >= MAX_IDENTITY_ATTEMPTS:
        new = replace(state, step=Step.IDENTITY_LOCKED, identity_failures=failures)
        person = ReplyButtonsMessage(texts.IDENTITY_LOCKED, (ReplyButton("human", "Falar com atendente"),))
        return Outcome(new, (Reply(person),), (cmd.FlagIdentityFailed(failures),))
    new = replace(state, step=Step.AWAITING_IDENTITY_ANSWER, identity_failures=failures)
    return Outcome(new, (_text(texts.IDENTITY_RETRY),))


def _wrong_person(state: ConversationState) -> Outcome:
    new = replace(state, step=Step.WRONG_PERSON, pending_plan=None)
    return Outcome(new, (_text(texts.WRONG_PERSON),), (cmd.FlagWrongNumber(),))


# --------------------------------------------------------------------------- choices


def _choice(state: ConversationState, event: ChoiceIn, facts: DebtFacts) -> Outcome:
    rid = _TEMPLATE_PAYLOADS.get(event.reply_id, event.reply_id)
    title = fold(event.title or "").strip(" .!")
    if rid == "human" or rid == "menu:human":
        return _handoff(state, texts.HANDOFF, "general", "requested")
    if state.step is Step.IDENTITY_LOCKED:
        return Outcome(state)
    if rid == "id_no" or (rid not in ("id_yes",) and title in _NO_TITLES):
        if state.identity_verified:
            return _disclose(state, facts)
        return _wrong_person(state)
    if not state.identity_verified:
        if rid == "id_yes" or title in _YES_TITLES:
            return _ask_identity(state, facts)
        return _misunderstood(state, facts)
    if rid in ("menu", "back", "id_yes"):
        return _disclose(state, facts)
    if rid == "menu:dispute":
        return _handoff(state, texts.CARE_DISPUTE, "care", "dispute", pause="dispute", tag="contestacao")
    if rid == "menu:paid":
        return _already_paid(state)
    if rid == "menu:promise":
        new = replace(_understood(state, Step.AWAITING_PROMISE_DATE))
        return Outcome(new, (_text(texts.ASK_PROMISE_DATE),))
    if rid in ("menu:boleto", "menu:pix"):
        return _charge(state, rid.split(":")[1], facts)
    if rid == "menu:plans":
        return _show_plans(state, facts, pol.standard_plans(facts.policy, facts.total, facts.days_overdue))
    if rid == "menu:full":
        plan = pol.full_payment_plan(facts.policy, facts.total, facts.days_overdue)
        state, offer = _new_offer(state, facts, (plan,))
        return _confirm(state, offer, plan, facts)
    if rid.startswith(("plan:", "accept:")):
        bound = state.offer_for_wamid(event.context_wamid)
        if bound is None and event.context_wamid is None:
            bound = state.current_offer
        key = rid.split(":", 1)[1]
        if rid.startswith("accept:"):
            return _accept(state, bound, key, facts)
        return _pick(state, bound, key, facts)
    return _misunderstood(state, facts)


def _offer_usable(offer: Offer | None, facts: DebtFacts) -> bool:
    return offer is not None and facts.today <= offer.valid_until


def _pick(state: ConversationState, offer: Offer | None, key: str, facts: DebtFacts) -> Outcome:
    if state.step is Step.IN_AGREEMENT:
        return Outcome(state, (_text(texts.ALREADY_IN_AGREEMENT),))
    plan = offer.plan(key) if offer else None
    if offer is None or plan is None or not _offer_usable(offer, facts):
        note = texts.offer_expired(offer.valid_until) if offer is not None else None
        plans = pol.standard_plans(facts.policy, facts.total, facts.days_overdue)
        return _show_plans(state, facts, plans, note)
    return _confirm(state, offer, plan, facts)


def _first_due(facts: DebtFacts) -> date:
    return facts.today + timedelta(days=facts.policy.first_due_in_days)


def _confirm(state: ConversationState, offer: Offer, plan: pol.Plan, facts: DebtFacts) -> Outcome:
    body = texts.confirm_plan(facts, plan, offer.valid_until, _first_due(facts))
    buttons = (ReplyButton(f"accept:{plan.key}", "Confirmo"), ReplyButton("menu:plans", "Ver outras opções"))
    new = replace(_understood(state, Step.CONFIRMING_PLAN), pending_plan=(offer.id, plan.key))
    return Outcome(new, (Reply(ReplyButtonsMessage(body, buttons), offer.id),))


def _accept(state: ConversationState, offer: Offer | None, key: str, facts: DebtFacts) -> Outcome:
    if state.step is Step.IN_AGREEMENT or state.agreement_offer is not None:
        return Outcome(state, (_text(texts.ALREADY_IN_AGREEMENT),))
    return _pick_or_close(state, offer, key, facts)


def _pick_or_close(state: ConversationState, offer: Offer | None, key: str, facts: DebtFacts) -> Outcome:
    plan = offer.plan(key) if offer else None
    if offer is None or plan is None or not _offer_usable(offer, facts):
        return _pick(state, offer, key, facts)
    first_due = _first_due(facts)
    new = replace(_understood(state, Step.IN_AGREEMENT), pending_plan=None, agreement_offer=offer.id)
    reply = _text(texts.agreement_done(facts, plan, first_due))
    return Outcome(new, (reply,), (cmd.CreateAgreement(plan, offer.id, first_due),))


# --------------------------------------------------------------------------- flows


def _disclose(state: ConversationState, facts: DebtFacts) -> Outcome:
    rows = tuple(ListRow(rid, title, desc) for rid, title, desc in MENU_ROWS)
    message = ListMessage(texts.disclosure(facts), "Ver opções", (ListSection(None, rows),))
    return Outcome(_understood(state, Step.MENU), (Reply(message),))


def _new_offer(
    state: ConversationState, facts: DebtFacts, plans: tuple[pol.Plan, ...]
) -> tuple[ConversationState, Offer]:
    seq = state.offer_seq + 1
    offer = Offer(f"o{seq}", pol.valid_until(facts.today, facts.policy), plans)
    offers = (*state.offers, offer)[-10:]
    return replace(state, offer_seq=seq, offers=offers), offer


def _show_plans(
    state: ConversationState, facts: DebtFacts, plans: tuple[pol.Plan, ...], note: str | None = None
) -> Outcome:
    if state.step is Step.IN_AGREEMENT:
        return Outcome(state, (_text(texts.ALREADY_IN_AGREEMENT),))
    state, offer = _new_offer(state, facts, plans)
    body = texts.plans_intro(facts, offer.valid_until, note)
    rows = tuple(ListRow(f"plan:{p.key}", texts.plan_title(p), texts.plan_description(p)) for p in plans)
    rows += (ListRow("menu:human", "Falar com atendente", None),)
    message = ListMessage(body, "Ver condições", (ListSection(None, rows),))
    return Outcome(_understood(state, Step.CHOOSING_PLAN), (Reply(message, offer.id),))


def _negotiate(state: ConversationState, u: Understanding, facts: DebtFacts) -> Outcome:
    p, total, days = facts.policy, facts.total, facts.days_overdue
    entities = u.entities
    counter: pol.Counter | None = None
    asked = ""
    by_role = {a.role: a for a in entities.amounts}
    if entities.installments is not None:
        counter = pol.counter_by_installments(p, total, days, entities.installments)
        asked = f"{entities.installments} vezes"
    elif AmountRole.TOTAL in by_role:
        value = by_role[AmountRole.TOTAL].value
        counter, asked = pol.counter_by_total(p, total, days, value), format_brl(value)
    elif entities.amounts:
        value = (by_role.get(AmountRole.INSTALLMENT) or entities.amounts[0]).value
        counter, asked = pol.counter_by_installment_value(p, total, days, value), format_brl(value)
    if counter is None or counter.plan is None:
        return _show_plans(state, facts, pol.standard_plans(p, total, days))
    note = texts.counter_note(counter.reason, asked)
    if counter.exact:
        state, offer = _new_offer(state, facts, (counter.plan,))
        return _confirm(state, offer, counter.plan, facts)
    return _show_plans(state, facts, (counter.plan,), note)


def _promise(state: ConversationState, u: Understanding, facts: DebtFacts) -> Outcome:
    mention = u.entities.date
    if mention is None or mention.vague or mention.value is None:
        return Outcome(_understood(state, Step.AWAITING_PROMISE_DATE), (_text(texts.ASK_PROMISE_DATE),))
    when = mention.value
    if not facts.today < when <= facts.today + timedelta(days=facts.policy.max_promise_days):
        reply = _text(texts.promise_out_of_range(facts.policy.max_promise_days))
        return Outcome(_understood(state, Step.AWAITING_PROMISE_DATE), (reply,))
    outcome_state = replace(_understood(state, Step.MENU), extra={**state.extra, "promise": when.isoformat()})
    return Outcome(
        outcome_state, (_text(texts.promise_recorded(when)),), (cmd.RecordPromise(when, mention.text),)
    )


def _already_paid(state: ConversationState) -> Outcome:
    commands = (cmd.PauseDebt("already_paid", business_days=3),)
    return Outcome(_understood(state, Step.AWAITING_RECEIPT), (_text(texts.ASK_RECEIPT),), commands)


def _charge(state: ConversationState, kind: str, facts: DebtFacts) -> Outcome:
    if state.step is Step.IN_AGREEMENT:
        return Outcome(state, (_text(texts.charge_coming(facts, kind, None)),), (cmd.IssueCharge(kind, ""),))
    # A second copy is the updated amount as it stands; the discount belongs to an accepted full-payment offer.
    reply = _text(texts.charge_coming(facts, kind, facts.total))
    return Outcome(_understood(state, Step.MENU), (reply,), (cmd.IssueCharge(kind, str(facts.total)),))


def _misunderstood(state: ConversationState, facts: DebtFacts) -> Outcome:
    count = state.misunderstandings + 1
    new = replace(state, misunderstandings=count)
    if count == 1:
        return Outcome(new, (_text(texts.NOT_UNDERSTOOD),))
    if count == 2:
        if state.identity_verified:
            shown = _disclose(new, facts)
            return replace(shown, state=replace(shown.state, misunderstandings=count))
        buttons = (ReplyButton("id_yes", "Sou eu"), ReplyButton("id_no", "Não sou eu"))
        return Outcome(new, (Reply(ReplyButtonsMessage(texts.IDENTITY_FIRST, buttons)),))
    if count == 3:
        buttons = (ReplyButton("human", "Falar com atendente"), ReplyButton("menu", "Ver opções"))
        return Outcome(new, (Reply(ReplyButtonsMessage(texts.OFFER_PERSON, buttons)),))
    return _handoff(state, texts.NOT_UNDERSTOOD_HANDOFF, "general", "not_understood")


def _understood(state: ConversationState, step: Step) -> ConversationState:
    return replace(state, step=step, misunderstandings=0)


def _timer(state: ConversationState, event: TimerIn, facts: DebtFacts) -> Outcome:
    promised = state.extra.get("promise")
    if event.kind == "promise_reminder" and promised and not state.opted_out and state.step is not Step.HUMAN:
        return Outcome(state, (_text(texts.promise_reminder(date.fromisoformat(promised))),))
    return Outcome(state)


def _text(body: str) -> Reply:
    return Reply(TextMessage(body))

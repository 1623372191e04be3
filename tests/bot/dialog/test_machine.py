from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from quita.bot.dialog import commands as cmd
from quita.bot.dialog.facts import ChoiceIn, DebtFacts, MediaIn, TextIn, TimerIn
from quita.bot.dialog.machine import Outcome, decide
from quita.bot.dialog.policy import NegotiationPolicy
from quita.bot.dialog.state import ConversationState, Step
from quita.bot.nlu.understanding import Nlu
from quita.compliance.domain import lint_text
from quita.compliance.rulesets import default_ruleset
from quita.whatsapp.domain.messages import ListMessage, ReplyButtonsMessage, TextMessage

TODAY = date(2026, 3, 2)
FACTS = DebtFacts(
    agency_name="Cobra Bem Assessoria",
    creditor_name="Loja Exemplo Ltda",
    creditor_cnpj="12.345.678/0001-95",
    creditor_address="Rua das Flores, 100, São Paulo/SP",
    due_date=date(2025, 12, 1),
    principal=Decimal("1100.00"),
    fine=Decimal("22.00"),
    interest=Decimal("33.00"),
    total=Decimal("1155.00"),
    days_overdue=91,
    identity_method="cpf3",
    identity_secret="529",
    today=TODAY,
    policy=NegotiationPolicy(),
)
SECRET_CPF = "52998224725"


class Chat:
    """Drives the machine like the service does, checking every reply against Meta's limits and the linter."""

    def __init__(self, nlu: Nlu, facts: DebtFacts = FACTS, state: ConversationState | None = None) -> None:
        self.nlu, self.facts = nlu, facts
        self.state = state or ConversationState()
        self.wamids = 0
        self.last: Outcome | None = None
        self.sent: list[str] = []  # wamids of replies, in order

    def _apply(self, outcome: Outcome) -> Outcome:
        state = outcome.state
        for reply in outcome.replies:
            body = _body(reply.message)
            findings = lint_text(body, default_ruleset().linter)
            assert not findings, (body, findings)
            assert SECRET_CPF not in body and "529" not in body
            self.wamids += 1
            wamid = f"wamid.{self.wamids}"
            self.sent.append(wamid)
            if reply.offer_id is not None:
                state = state.with_sent(wamid, reply.offer_id)
        self.state = ConversationState.from_json(state.to_json())  # every step survives persistence
        self.last = outcome
        return outcome

    def say(self, text: str) -> Outcome:
        return self._apply(decide(self.state, TextIn(text, self.nlu.understand(text, TODAY)), self.facts))

    def tap(self, reply_id: str, context: str | None = None, title: str | None = None) -> Outcome:
        return self._apply(decide(self.state, ChoiceIn(reply_id, context, title), self.facts))

    def verified(self) -> Chat:
        self.tap("id_yes")
        self.say("529")
        assert self.state.identity_verified
        return self


def _body(message: object) -> str:
    if isinstance(message, TextMessage):
        return message.body
    assert isinstance(message, ListMessage | ReplyButtonsMessage)
    return message.body


def _commands(outcome: Outcome, kind: type) -> list[object]:
    return [c for c in outcome.commands if isinstance(c, kind)]


@pytest.fixture
def chat(nlu: Nlu) -> Chat:
    return Chat(nlu)


def test_identity_then_itemised_disclosure_with_the_options_list(chat: Chat) -> None:
    out = chat.tap("id_yes")
    assert chat.state.step is Step.AWAITING_IDENTITY_ANSWER
    assert "três primeiros dígitos" in _body(out.replies[0].message)
    out = chat.say("529")
    assert _commands(out, cmd.ConfirmIdentity) == [cmd.ConfirmIdentity("cpf3")]
    message = out.replies[0].message
    assert isinstance(message, ListMessage)
    for piece in (
        "R$ 1.100,00",
        "R$ 22,00",
        "R$ 33,00",
        "R$ 1.155,00",
        "12.345.678/0001-95",
        "Rua das Flores",
        "01/12/2025",
    ):
        assert piece in message.body
    assert len(message.sections[0].rows) <= 10
    assert chat.state.step is Step.MENU


def test_full_cpf_is_accepted_but_never_echoed(chat: Chat) -> None:
    chat.tap("id_yes")
    chat.say(f"meu cpf é {SECRET_CPF}")
    assert chat.state.identity_verified


def test_birth_date_identity(nlu: Nlu) -> None:
    facts = replace(FACTS, identity_method="birth_date", identity_secret="1980-03-25")
    chat = Chat(nlu, facts)
    out = chat.tap("id_yes")
    assert "data de nascimento" in _body(out.replies[0].message)
    chat.say("25/03/1980")
    assert chat.state.identity_verified


def test_three_failures_stop_flag_and_offer_a_person(chat: Chat) -> None:
    chat.tap("id_yes")
    chat.say("111")
    chat.say("222")
    assert chat.state.identity_failures == 2
    out = chat.say("333")
    assert chat.state.step is Step.IDENTITY_LOCKED
    assert _commands(out, cmd.FlagIdentityFailed) == [cmd.FlagIdentityFailed(3)]
    assert isinstance(out.replies[0].message, ReplyButtonsMessage)
    assert chat.say("529").replies == ()  # no fourth attempt, nothing disclosed
    assert not chat.state.identity_verified
    out = chat.tap("human")
    assert _commands(out, cmd.Handoff) == [cmd.Handoff("general", "requested")]


def test_wrong_person_reveals_nothing_and_goes_silent(chat: Chat) -> None:
    out = chat.tap("id_no")
    assert _commands(out, cmd.FlagWrongNumber) == [cmd.FlagWrongNumber()]
    assert "R$" not in _body(out.replies[0].message)
    assert chat.state.step is Step.WRONG_PERSON
    assert chat.say("quanto é a dívida?").replies == ()


def test_wrong_person_by_text_and_by_template_title(chat: Chat, nlu: Nlu) -> None:
    chat.say("não conheço essa pessoa, número errado")
    assert chat.state.step is Step.WRONG_PERSON
    other = Chat(nlu)
    other.tap("Não sou eu", title="Não sou eu")
    assert other.state.step is Step.WRONG_PERSON
    template = Chat(nlu)
    template.tap("IDENTIDADE_NEGADA", title="Não sou eu")
    assert template.state.step is Step.WRONG_PERSON


def test_opt_out_inside_a_sentence_is_confirmed_once(chat: Chat) -> None:
    chat.verified()
    out = chat.say("olha, não quero mais receber essas mensagens, para de me mandar")
    assert _commands(out, cmd.OptOut) == [cmd.OptOut()]
    assert chat.state.opted_out
    assert chat.say("PARAR").replies == ()


def test_opt_out_before_identity_and_while_a_person_owns_it(chat: Chat, nlu: Nlu) -> None:
    assert _commands(chat.say("SAIR"), cmd.OptOut)
    human = Chat(nlu).verified()
    human.say("quero falar com um atendente")
    assert human.state.step is Step.HUMAN
    assert human.say("quanto devo?").replies == ()  # silent while an agent owns it
    assert _commands(human.say("stop"), cmd.OptOut)


def test_negotiate_six_installments_accept_and_agreement(chat: Chat) -> None:
    chat.verified()
    out = chat.tap("menu:plans")
    message = out.replies[0].message
    assert isinstance(message, ListMessage)
    titles = [r.title for r in message.sections[0].rows]
    assert titles[0].startswith("À vista") and any(t.startswith("6x") for t in titles)
    assert "válidas até 05/03/2026" in message.body
    assert "CET" in (message.sections[0].rows[1].description or "")
    plans_wamid = chat.sent[-1]
    out = chat.tap("plan:6", plans_wamid)
    assert chat.state.step is Step.CONFIRMING_PLAN
    confirm = out.replies[0].message
    assert isinstance(confirm, ReplyButtonsMessage) and len(confirm.buttons) <= 3
    assert "6 parcelas mensais" in confirm.body and "CET" in confirm.body
    out = chat.tap("accept:6", chat.sent[-1])
    agreements = _commands(out, cmd.CreateAgreement)
    assert len(agreements) == 1
    agreement = agreements[0]
    assert isinstance(agreement, cmd.CreateAgreement)
    assert agreement.plan.installments == 6 and agreement.first_due == date(2026, 3, 5)
    assert chat.state.step is Step.IN_AGREEMENT
    again = chat.tap("accept:6", chat.sent[-2])  # the same confirm tapped twice
    assert not _commands(again, cmd.CreateAgreement)


def test_counter_proposal_in_free_text(chat: Chat) -> None:
    chat.verified()
    out = chat.say("dá pra fazer em 6x?")
    assert chat.state.step is Step.CONFIRMING_PLAN and "6 parcelas" in _body(out.replies[0].message)
    out = chat.say("consigo pagar 150 por mês")
    assert chat.state.step is Step.CONFIRMING_PLAN
    body = _body(out.replies[0].message)
    assert "parcelas mensais de R$" in body
    out = chat.say("e em 36 vezes?")
    body = _body(out.replies[0].message)
    assert "Não é possível parcelar em 36 vezes" in body
    assert chat.state.step is Step.CHOOSING_PLAN


def test_text_confirmation_accepts_the_pending_plan(chat: Chat) -> None:
    chat.verified()
    chat.say("quero parcelar em 6x")
    out = chat.say("confirmo")
    assert _commands(out, cmd.CreateAgreement)


def test_old_button_is_bound_to_the_offer_it_belonged_to(chat: Chat) -> None:
    chat.verified()
    chat.say("quero parcelar em 6x")
    old_confirm = chat.sent[-1]
    old_offer = chat.state.pending_plan
    chat.say("e em 12x?")
    assert chat.state.pending_plan != old_offer
    out = chat.tap("accept:6", old_confirm)  # the first confirmation, tapped late
    agreement = _commands(out, cmd.CreateAgreement)[0]
    assert isinstance(agreement, cmd.CreateAgreement)
    assert old_offer is not None and agreement.offer_id == old_offer[0] and agreement.plan.installments == 6


def test_expired_offer_is_not_accepted(chat: Chat) -> None:
    chat.verified()
    chat.say("quero parcelar em 6x")
    confirm_wamid = chat.sent[-1]
    chat.facts = replace(FACTS, today=date(2026, 3, 20))
    out = chat.tap("accept:6", confirm_wamid)
    assert not _commands(out, cmd.CreateAgreement)
    assert "era válida até 05/03/2026" in _body(out.replies[0].message)


@pytest.mark.parametrize(
    ("text", "queue", "reason", "pause"),
    [
        ("eu não devo isso, nunca comprei nessa loja", "care", "dispute", "dispute"),
        ("vou entrar na justiça e no procon contra vocês", "legal", "complaint", "complaint"),
        ("ele faleceu mês passado", "care", "deceased", "deceased"),
        ("estou desempregado, não consigo pagar nada", "care", "hardship", "hardship"),
    ],
)
def test_care_paths_pause_tag_and_hand_off(
    chat: Chat, text: str, queue: str, reason: str, pause: str
) -> None:
    chat.verified()
    out = chat.say(text)
    assert cmd.Handoff(queue, reason) in out.commands
    assert cmd.PauseDebt(pause) in out.commands
    assert _commands(out, cmd.TagDebt)
    assert chat.state.step is Step.HUMAN


def test_promise_to_pay_with_and_without_a_date(chat: Chat) -> None:
    chat.verified()
    out = chat.say("quando cair o salário eu pago")
    assert chat.state.step is Step.AWAITING_PROMISE_DATE and not out.commands
    out = chat.say("dia 10")
    assert _commands(out, cmd.RecordPromise)[0] == cmd.RecordPromise(date(2026, 3, 10), "dia 10")
    reminder = decide(chat.state, TimerIn("promise_reminder"), FACTS)
    assert "10/03/2026" in _body(reminder.replies[0].message)


def test_already_paid_asks_for_the_receipt_and_opens_a_review(chat: Chat) -> None:
    chat.verified()
    out = chat.say("eu já paguei esse boleto semana passada")
    assert cmd.PauseDebt("already_paid", business_days=3) in out.commands
    assert chat.state.step is Step.AWAITING_RECEIPT
    out = chat._apply(decide(chat.state, MediaIn("image", "media-1"), FACTS))
    assert out.commands == (cmd.OpenReview("media-1"),)


def test_boleto_and_pix_requests_issue_a_charge(chat: Chat) -> None:
    chat.verified()
    out = chat.say("me manda o pix")
    assert out.commands == (cmd.IssueCharge("pix", "1155.00"),)
    out = chat.tap("menu:boleto")
    assert out.commands == (cmd.IssueCharge("boleto", "1155.00"),)


def test_misunderstandings_never_loop(chat: Chat) -> None:
    chat.verified()
    first = chat.say("kkkkk")
    assert "não entendi" in _body(first.replies[0].message)
    second = chat.say("hmm blz")
    assert isinstance(second.replies[0].message, ListMessage)  # the menu again
    third = chat.say("aff")
    assert isinstance(third.replies[0].message, ReplyButtonsMessage)  # offer a person
    fourth = chat.say("zzz")
    assert cmd.Handoff("general", "not_understood") in fourth.commands
    assert chat.say("???").replies == ()


def test_no_disclosure_before_identity(chat: Chat) -> None:
    out = chat.say("quanto eu devo?")
    assert "R$" not in _body(out.replies[0].message)
    out = chat.tap("menu:plans")
    assert all("R$" not in _body(r.message) for r in out.replies)
    assert not chat.state.identity_verified


def test_state_json_round_trip(chat: Chat) -> None:
    chat.verified()
    chat.say("quero parcelar em 6x")
    assert ConversationState.from_json(chat.state.to_json()) == chat.state

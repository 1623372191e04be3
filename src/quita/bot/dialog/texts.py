"""Everything the bot says, in one place: short, formal but warm pt-BR, no slang, emoji or pressure.

Any text that shows an amount or a way to pay carries the creditor's name, CNPJ and address (CDC art. 42-A),
so the content linter accepts it. Nothing here ever repeats what the debtor typed (ID-02: never echo the
document).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from quita.bot.dialog.facts import DebtFacts
from quita.bot.dialog.policy import Plan
from quita.br.money import format_brl


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}".replace(".", ",") + "%"


def creditor_line(facts: DebtFacts) -> str:
    return f"Credor: {facts.creditor_name}, CNPJ {facts.creditor_cnpj}, {facts.creditor_address}."


def identity_question(facts: DebtFacts) -> str:
    if facts.identity_method == "birth_date":
        return (
            "Obrigado. Para sua segurança, informe sua data de nascimento (por exemplo, 25/03/1980). "
            "Só depois disso mostraremos qualquer informação."
        )
    return (
        "Obrigado. Para sua segurança, informe os três primeiros dígitos do seu CPF. "
        "Só depois disso mostraremos qualquer informação."
    )


IDENTITY_RETRY = "Os dados informados não conferem. Por favor, tente novamente."
IDENTITY_LOCKED = (
    "Não foi possível confirmar sua identidade e, por segurança, encerramos esta verificação. "
    "Se preferir, uma pessoa da nossa equipe pode ajudar."
)
IDENTITY_FIRST = "Para sua segurança, antes de continuar precisamos confirmar sua identidade."
WRONG_PERSON = (
    "Pedimos desculpas pelo engano. Este número não receberá mais mensagens sobre este assunto. "
    "Tenha um bom dia."
)
OPT_OUT = (
    "Pronto, você não receberá mais mensagens de cobrança por WhatsApp. "
    "Se quiser retomar o contato, basta nos escrever."
)
HANDOFF = "Certo. Uma pessoa da nossa equipe vai continuar este atendimento por aqui em breve."
CARE_DISPUTE = (
    "Entendemos. Vamos suspender a cobrança enquanto uma pessoa da nossa equipe analisa o seu caso. "
    "Ela continuará o atendimento por aqui."
)
CARE_HARDSHIP = (
    "Sentimos muito pela dificuldade. Vamos suspender as mensagens de cobrança por enquanto, "
    "e uma pessoa da nossa equipe vai conversar com você para buscar uma saída possível."
)
CARE_COMPLAINT = (
    "Recebemos sua mensagem e vamos encaminhá-la à nossa equipe responsável, "
    "que responderá por aqui. A cobrança fica suspensa enquanto isso."
)
CARE_DECEASED = (
    "Sentimos muito pela sua perda. Vamos suspender a cobrança, e uma pessoa da nossa equipe "
    "entrará em contato com cuidado para orientar sobre os próximos passos."
)
NOT_UNDERSTOOD = "Desculpe, não entendi. Pode escolher uma das opções ou escrever de outra forma?"
OFFER_PERSON = "Parece que não estou conseguindo ajudar. Prefere falar com uma pessoa da nossa equipe?"
NOT_UNDERSTOOD_HANDOFF = "Vou pedir para uma pessoa da nossa equipe continuar este atendimento."
ASK_RECEIPT = (
    "Obrigado por avisar. Pode enviar o comprovante (foto ou PDF) por aqui? "
    "Vamos conferir, e a cobrança fica suspensa por 3 dias úteis enquanto isso."
)
RECEIPT_THANKS = "Recebemos o comprovante. Vamos conferir e avisaremos por aqui."
ASK_PROMISE_DATE = "Combinado. Em qual data você consegue pagar? Por exemplo: dia 10 ou 15/12."
ALREADY_IN_AGREEMENT = "Seu acordo já está registrado. Se precisar de algo, é só escrever."


def promise_recorded(when: date) -> str:
    return f"Anotado: pagamento previsto para {day(when)}. Enviaremos um lembrete na véspera."


def promise_out_of_range(max_days: int) -> str:
    return f"Por favor, informe uma data a partir de amanhã e em até {max_days} dias."


def promise_reminder(when: date) -> str:
    return f"Lembrete: você combinou o pagamento para {day(when)}. Se precisar, estamos por aqui."


def disclosure(facts: DebtFacts) -> str:
    lines = [
        "Identidade confirmada, obrigado.",
        f"Débito com {facts.creditor_name}, vencido em {day(facts.due_date)}.",
        f"Valor original: {format_brl(facts.principal)}",
        f"Multa: {format_brl(facts.fine)}",
        f"Juros: {format_brl(facts.interest)}",
    ]
    if facts.already_paid > 0:
        lines.append(f"Já pago: {format_brl(facts.already_paid)}")
    lines.append(f"Total atualizado em {day(facts.today)}: {format_brl(facts.total)}")
    lines.append(creditor_line(facts))
    lines.append("Como prefere seguir?")
    return "\n".join(lines)


def plan_title(plan: Plan) -> str:
    if plan.in_full:
        return f"À vista {format_brl(plan.total)}"
    return f"{plan.installments}x {format_brl(plan.installment_value)}"


def plan_description(plan: Plan) -> str:
    if plan.in_full:
        return f"Desconto de {format_brl(plan.discount)}" if plan.discount > 0 else "Sem desconto"
    entry = f"Entrada {format_brl(plan.down_payment)}; " if plan.down_payment > 0 else ""
    return f"{entry}Total {format_brl(plan.total)}; {percent(plan.monthly_rate)} a.m.; CET {percent(plan.cet_annual)} a.a."


def plan_details(plan: Plan) -> str:
    if plan.in_full:
        text = f"Pagamento à vista: {format_brl(plan.total)}"
        if plan.discount > 0:
            text += f" (desconto de {format_brl(plan.discount)} sobre {format_brl(plan.original_total)})"
        return text + "."
    entry = f"entrada de {format_brl(plan.down_payment)} e " if plan.down_payment > 0 else ""
    return (
        f"Parcelamento: {entry}{plan.installments} parcelas mensais de {format_brl(plan.installment_value)}. "
        f"Total parcelado {format_brl(plan.total)} (à vista seria {format_brl(plan.original_total)}). "
        f"Juros de {percent(plan.monthly_rate)} ao mês; CET {percent(plan.cet_annual)} ao ano. "
        f"Multa por atraso de parcela: até 2%."
    )


def plans_intro(facts: DebtFacts, valid_until: date, note: str | None = None) -> str:
    head = f"{note}\n" if note else ""
    return (
        f"{head}Estas são as condições disponíveis para o débito de {format_brl(facts.total)}, "
        f"válidas até {day(valid_until)}. Você pode quitar antes, com redução proporcional dos juros.\n"
        f"{creditor_line(facts)}"
    )


def confirm_plan(facts: DebtFacts, plan: Plan, valid_until: date, first_due: date) -> str:
    return (
        f"{plan_details(plan)}\nPrimeiro vencimento: {day(first_due)}. Proposta válida até {day(valid_until)}.\n"
        f"{creditor_line(facts)}\nPara fechar o acordo, toque em Confirmo."
    )


def agreement_done(facts: DebtFacts, plan: Plan, first_due: date) -> str:
    return (
        f"Acordo registrado: {plan_details(plan)} Primeiro vencimento: {day(first_due)}. "
        f"Enviaremos a seguir o boleto e o código Pix da primeira parcela.\n{creditor_line(facts)}"
    )


def offer_expired(valid_until: date) -> str:
    return f"Essa proposta era válida até {day(valid_until)}. Seguem as condições atualizadas."


def counter_note(reason: str, asked: str) -> str | None:
    if reason == "ok":
        return None
    if reason == "too_many_installments":
        return f"Não é possível parcelar em {asked}. A opção mais próxima é esta:"
    if reason == "installment_too_low":
        return f"Não é possível com parcelas de {asked}. A opção mais próxima é esta:"
    if reason == "below_cash_price":
        return f"Não é possível quitar por {asked}. O menor valor à vista é este:"
    return "Não é possível parcelar este débito. A opção disponível é esta:"


def charge_coming(facts: DebtFacts, kind: str, amount: Decimal | None) -> str:
    what = "o boleto" if kind == "boleto" else "o código Pix copia e cola"
    value = f" de {format_brl(amount)}" if amount is not None else " da próxima parcela"
    return f"Certo, enviaremos {what}{value} em seguida.\n{creditor_line(facts)}"

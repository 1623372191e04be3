"""The compliance gate: one proposed contact plus its facts in, one explained decision out.

Order follows the reference (§11): hard blocks (status, provenance, identity, prescription, channel,
content) first, because nothing can make a blocked contact lawful later; then the time-based rules
(windows, holidays, frequency, "já paguei" pause, WhatsApp tier), which are combined into one walk to the
earliest moment that satisfies all of them. Blocked beats deferred beats allowed. Pure: no I/O, no clock —
"now" is part of the proposed contact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from quita.compliance.domain.calendar import DebtorCalendar, debtor_calendar
from quita.compliance.domain.catalog import result
from quita.compliance.domain.decision import Decision, Outcome, RuleResult
from quita.compliance.domain.facts import (
    Attempt,
    Channel,
    ContactKind,
    ContactStatus,
    CreditorKind,
    DebtStatus,
    Provenance,
    Scenario,
    TemplateCategory,
    TemplateStatus,
)
from quita.compliance.domain.frequency import (
    daily_ok_from,
    gap_ok_from,
    paid_pause_until,
    unanswered_streak,
    weekly_ok_from,
)
from quita.compliance.domain.linter import lint_text
from quita.compliance.domain.location import Location, LocationError, resolve_location
from quita.compliance.domain.ruleset import RuleSet
from quita.compliance.domain.windows import WindowCheck, earliest_common, is_open

DEBT_KINDS = frozenset({ContactKind.REMINDER, ContactKind.COLLECTION, ContactKind.AGREEMENT_REMINDER})
_CHANNEL_PT = {
    Channel.WHATSAPP: "WhatsApp",
    Channel.SMS: "SMS",
    Channel.EMAIL: "e-mail",
    Channel.VOICE: "voz",
}


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _fmt_local(moment: datetime, location: Location) -> str:
    local = moment.astimezone(location.zones[0])
    return local.strftime("%d/%m/%Y %H:%M") + f" ({location.zones[0].key})"


class _Context:
    """Per-call derived values, computed once."""

    __slots__ = ("in_service_window", "now", "proactive", "scenario")

    def __init__(self, scenario: Scenario, rules: RuleSet) -> None:
        contact = scenario.contact
        if contact.now.tzinfo is None or contact.now.utcoffset() is None:
            raise ValueError("contact.now precisa de fuso horário (datetime aware)")
        self.scenario = scenario
        self.now = contact.now.astimezone(UTC)
        inbound = scenario.contact_facts.last_inbound_at
        since_inbound = self.now - inbound if inbound is not None else None
        self.in_service_window = since_inbound is not None and timedelta(0) <= since_inbound < timedelta(
            hours=rules.whatsapp.service_window_hours
        )
        self.proactive = not (
            contact.is_reply_to_debtor_message
            and since_inbound is not None
            and timedelta(0) <= since_inbound <= timedelta(hours=rules.reply_exemption_hours)
        )


def _status_blocks(ctx: _Context, rules: RuleSet, advisories: list[RuleResult]) -> list[RuleResult]:
    s = ctx.scenario
    contact, debtor, facts, debt = s.contact, s.debtor, s.contact_facts, s.debt
    kind = contact.kind
    debt_talk = kind in DEBT_KINDS or contact.discloses_amount
    blocks: list[RuleResult] = []

    if debtor.deceased:
        blocks.append(
            result("CDC-16", "Devedor falecido: cadência encerrada; tratar só com o espólio, por humano.")
        )
    if facts.status == ContactStatus.WRONG_NUMBER:
        blocks.append(result("ID-05", "Número marcado como errado ('não sou eu'): contato suprimido."))
    if contact.channel in debtor.opted_out_channels or facts.status == ContactStatus.OPTED_OUT:
        blocks.append(
            result(
                "CHAN-01",
                f"O devedor pediu para não ser contatado por {_CHANNEL_PT[contact.channel]} (opt-out).",
            )
        )
    if facts.status == ContactStatus.UNREACHABLE:
        blocks.append(
            RuleResult(
                "CONTACT-01", "Registro do canal", "Contato inalcançável neste canal; use outro canal."
            )
        )
    if facts.provenance == Provenance.THIRD_PARTY and (not rules.identity.third_party_contact or debt_talk):
        blocks.append(result("ID-04", "Contato de terceiro: a dívida nunca é revelada a terceiros."))
    if facts.provenance == Provenance.ENRICHED and rules.identity.enriched_verify_only and debt_talk:
        blocks.append(
            result(
                "ID-03",
                "Número obtido por enriquecimento: só confirmação de identidade, sem falar da dívida.",
            )
        )
    if not debtor.identity_confirmed and debt_talk:
        blocks.append(
            result(
                "ID-01",
                "Identidade não confirmada: não revelar dívida, valor ou credor antes da verificação.",
            )
        )
    if contact.discloses_amount and not debt.creditor_identification_present:
        blocks.append(
            result("CDC-03", "Mensagem com valor exige nome, CNPJ e endereço do credor (CDC art. 42-A).")
        )
    if debt.status in (DebtStatus.PAID, DebtStatus.CANCELLED) and kind in DEBT_KINDS:
        blocks.append(
            result(
                "DEBT-01",
                f"Dívida {'paga' if debt.status == DebtStatus.PAID else 'cancelada'}: nada a cobrar.",
            )
        )
    if debt.status == DebtStatus.AGREEMENT and kind in (ContactKind.COLLECTION, ContactKind.REMINDER):
        blocks.append(
            result("FREQ-04", "Acordo ativo: só lembretes de parcela do acordo, sem cobrança da dívida.")
        )
    if kind == ContactKind.AGREEMENT_REMINDER and debt.status != DebtStatus.AGREEMENT:
        blocks.append(result("FREQ-04", "Lembrete de acordo sem acordo ativo nesta dívida."))

    if debtor.in_dispute:
        if ctx.proactive or kind in DEBT_KINDS:
            blocks.append(
                result("CDC-04", "Dívida contestada pelo devedor: cobrança pausada até a análise humana.")
            )
        else:
            advisories.append(
                result("CDC-04", "Dívida contestada: responda e encaminhe a um atendente humano.")
            )
    if debtor.vulnerable:
        advisories.append(
            result("CDC-10", "Devedor vulnerável: roteiro suave, sem pressão; ofereça atendimento humano.")
        )

    if ctx.proactive:
        today = ctx.now.date()
        start = debt.acknowledged_on or debt.due_date
        years = debt.prescription_years or rules.prescription.years_default
        expires = _add_years(start, years)
        if rules.prescription.block_active_collection and today >= expires:
            blocks.append(
                result(
                    "PRESC-02",
                    f"Dívida prescrita em {expires:%d/%m/%Y} ({years} anos): cobrança ativa proibida; "
                    "só negociação iniciada pelo devedor.",
                    "CC art. 206 §5º I; STJ REsp 2.088.100/SP",
                )
            )
        bank_days = rules.prescription.bank_block_days_overdue
        overdue = (today - debt.due_date).days
        if debt.creditor_kind == CreditorKind.BANK and bank_days is not None and overdue > bank_days:
            blocks.append(
                result(
                    "PRESC-03",
                    f"Credor bancário: dívida vencida há {overdue} dias (> {bank_days}); sem cobrança ativa.",
                )
            )
        streak = unanswered_streak(ctx.now, _attempts(s), facts.last_inbound_at, rules.frequency)
        if streak >= rules.frequency.stop_after_unanswered:
            blocks.append(
                result(
                    "FREQ-03",
                    f"{streak} tentativas sem resposta em {rules.frequency.unanswered_window_days} dias: "
                    "parar e encaminhar para revisão humana ou outro canal.",
                )
            )
    return blocks


def _whatsapp_blocks(ctx: _Context, rules: RuleSet) -> list[RuleResult]:
    s = ctx.scenario
    contact = s.contact
    blocks: list[RuleResult] = []
    if contact.channel != Channel.WHATSAPP:
        return blocks
    template = contact.template
    if template is None and not ctx.in_service_window:
        blocks.append(
            result("WA-01", "Fora da janela de 24 h do WhatsApp: só é possível enviar modelo aprovado.")
        )
    if template is not None:
        if template.status != TemplateStatus.APPROVED:
            blocks.append(
                result("WA-02", f"Modelo '{template.name}' não está aprovado (status {template.status}).")
            )
        if str(template.category) not in rules.whatsapp.allowed_template_categories:
            allowed = ", ".join(sorted(rules.whatsapp.allowed_template_categories))
            blocks.append(
                result(
                    "WA-02",
                    f"Modelo '{template.name}' está na categoria {template.category}; permitido: {allowed}.",
                )
            )
        if template.category == TemplateCategory.MARKETING and s.contact_facts.marketing_opted_out:
            blocks.append(
                result("WA-04", "O contato parou as mensagens de marketing deste número no WhatsApp.")
            )
    if ctx.proactive and rules.whatsapp.require_opt_in and s.contact_facts.whatsapp_opt_in is not True:
        blocks.append(
            result("CHAN-01", "Sem registro de opt-in para WhatsApp: canal desativado para contato ativo.")
        )
    return blocks


def _content_blocks(ctx: _Context, rules: RuleSet, advisories: list[RuleResult]) -> list[RuleResult]:
    contact = ctx.scenario.contact
    texts = [t for t in (contact.free_text, contact.template.body if contact.template else None) if t]
    blocks: list[RuleResult] = []
    for text in texts:
        for finding in lint_text(text, rules.linter):
            item = RuleResult(
                finding.rule_id, finding.legal_basis, f"{finding.message_pt} Trecho: '{finding.excerpt}'."
            )
            (blocks if finding.category in rules.linter.blocking_categories else advisories).append(item)
    return blocks


def _attempts(s: Scenario) -> list[Attempt]:
    now = s.contact.now
    return sorted((a for a in s.history.attempts if a.at <= now), key=lambda a: a.at)


def _window_checks(location: Location, rules: RuleSet) -> list[WindowCheck]:
    keys: tuple[str | None, ...] = location.law_ufs or tuple(rules.windows)
    windows = {rules.window_for(k).key: rules.window_for(k) for k in keys}
    return [WindowCheck(zone, w) for zone in location.zones for w in windows.values()]


def _decide_time(
    ctx: _Context, rules: RuleSet, location: Location, calendar: DebtorCalendar, advisories: list[RuleResult]
) -> Decision:
    s = ctx.scenario
    checks = _window_checks(location, rules)
    attempts = _attempts(s)
    zone = location.zones[0]
    freq = rules.frequency
    reasons: dict[str, RuleResult] = {}

    pauses: list[tuple[datetime, RuleResult]] = []
    claim = s.debtor.already_paid_claim_at
    if claim is not None:
        until = paid_pause_until(claim, freq.paid_pause_business_days, calendar, zone)
        pauses.append(
            (
                until,
                result(
                    "FREQ-02",
                    f"Devedor informou pagamento em {_fmt_local(claim, location)}: pausa de "
                    f"{freq.paid_pause_business_days} dias úteis para compensação; depois verificar.",
                ),
            )
        )
    gap_until = gap_ok_from(attempts, freq)
    if gap_until is not None:
        pauses.append(
            (
                gap_until,
                result("FREQ-01", f"Intervalo mínimo de {freq.min_gap_hours:g} h entre contatos ativos."),
            )
        )
    account = s.account
    if (
        s.contact.channel == Channel.WHATSAPP
        and not ctx.in_service_window
        and account.tier_limit is not None
        and not account.recipient_already_counted
        and account.unique_recipients_24h >= account.tier_limit
    ):
        slot = account.next_slot_at or ctx.now + timedelta(hours=24)
        pauses.append(
            (
                slot,
                result(
                    "WA-03",
                    f"Limite do WhatsApp atingido: {account.unique_recipients_24h} de {account.tier_limit} "
                    "destinatários únicos nas últimas 24 h.",
                ),
            )
        )

    candidate = ctx.now
    limit = ctx.now + timedelta(days=rules.horizon_days)
    for _ in range(64):
        start = candidate
        found, pushed_by, calendar_hits = earliest_common(checks, calendar, candidate, rules.horizon_days)
        if found is None or found > limit:
            return _blocked_no_window(rules, location, advisories)
        if found > candidate:
            for check in checks:
                if check.window.rule_id in pushed_by and check.window.rule_id not in reasons:
                    reasons[check.window.rule_id] = RuleResult(
                        check.window.rule_id,
                        check.window.legal_basis,
                        f"Fora da janela de contato ({check.window.label_pt}; horário local do devedor).",
                    )
            for hit in calendar_hits:
                reasons.setdefault(
                    "TIME-02:" + hit.label_pt, result("TIME-02", f"Sem contato ativo: {hit.label_pt}.")
                )
            candidate = found
        for until, rule in pauses:
            if until > candidate:
                reasons.setdefault(rule.rule_id + rule.message_pt, rule)
                candidate = until
        daily = daily_ok_from(candidate, attempts, freq, zone)
        if daily > candidate:
            reasons.setdefault(
                "FREQ-01:day",
                result("FREQ-01", f"Máximo de {freq.max_per_day} contato(s) ativo(s) por dia já atingido."),
            )
            candidate = daily
        weekly = weekly_ok_from(candidate, attempts, freq)
        if weekly > candidate:
            reasons.setdefault(
                "FREQ-01:week",
                result("FREQ-01", f"Máximo de {freq.max_per_week} contatos ativos em 7 dias já atingido."),
            )
            candidate = weekly
        if candidate > limit:
            return _blocked_no_window(rules, location, advisories)
        if candidate == start:
            break

    if candidate == ctx.now:
        allowed = tuple(
            RuleResult(
                c.window.rule_id, c.window.legal_basis, f"Dentro da janela de contato ({c.window.label_pt})."
            )
            for c in checks
            if is_open(c, calendar, ctx.now)
        )
        unique = tuple({r.rule_id: r for r in allowed}.values())
        return _decision(rules, Outcome.ALLOWED, None, unique, advisories)
    return _decision(rules, Outcome.DEFERRED, candidate, tuple(reasons.values()), advisories)


def _blocked_no_window(rules: RuleSet, location: Location, advisories: list[RuleResult]) -> Decision:
    reason = result(
        "TIME-03",
        f"Nenhum horário permitido nos próximos {rules.horizon_days} dias para a localização do devedor "
        f"({', '.join(z.key for z in location.zones)}).",
    )
    return _decision(rules, Outcome.BLOCKED, None, (reason,), advisories)


def _decision(
    rules: RuleSet,
    outcome: Outcome,
    earliest: datetime | None,
    reasons: tuple[RuleResult, ...],
    advisories: list[RuleResult],
) -> Decision:
    return Decision(
        outcome=outcome,
        earliest_at=earliest.astimezone(UTC) if earliest is not None else None,
        reasons=reasons,
        ruleset_version=rules.version,
        ruleset_hash=rules.content_hash,
        advisories=tuple(advisories),
    )


def evaluate(scenario: Scenario, rules: RuleSet) -> Decision:
    """Decide one proposed contact. Raises ValueError only for a naive ``now`` (a programming error)."""
    ctx = _Context(scenario, rules)
    advisories: list[RuleResult] = []
    if scenario.contact.is_reply_to_debtor_message and ctx.proactive:
        advisories.append(
            result(
                "TIME-05",
                f"Marcada como resposta, mas o devedor não escreveu nas últimas {rules.reply_exemption_hours:g} h: "
                "tratada como contato ativo.",
            )
        )
    blocks = _status_blocks(ctx, rules, advisories)
    blocks += _whatsapp_blocks(ctx, rules)
    blocks += _content_blocks(ctx, rules, advisories)
    debtor = scenario.debtor
    try:
        location = resolve_location(debtor.uf, debtor.ibge_code, debtor.ddd)
    except LocationError as exc:
        blocks.append(result("TIME-03", f"Localização do devedor inválida: {exc}."))
        return _decision(rules, Outcome.BLOCKED, None, tuple(blocks), advisories)
    if blocks:
        return _decision(rules, Outcome.BLOCKED, None, tuple(blocks), advisories)
    if not ctx.proactive:
        reply = result(
            "TIME-05", "Resposta a mensagem do devedor: não sujeita à janela de horário nem aos limites."
        )
        return _decision(rules, Outcome.ALLOWED, None, (reply,), advisories)
    if location.source == "unknown":
        advisories.append(
            result(
                "TIME-03",
                "Localização desconhecida: aplicada a interseção das janelas de todos os fusos e UFs.",
            )
        )
    calendar = debtor_calendar(
        location.holiday_ufs,
        debtor.ibge_code,
        rules.calendar.blocked_optional,
        scenario.calendar.municipal_holidays,
        scenario.calendar.closed_dates,
    )
    return _decide_time(ctx, rules, location, calendar, advisories)

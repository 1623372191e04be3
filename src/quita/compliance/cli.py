"""Command line for the compliance capability: evaluate a scenario, lint a text, show the rule set.

The JSON a user hands us is hostile until validated, so it goes through pydantic models here (the CLI edge)
and only then becomes the domain's plain dataclasses. Schema and examples: docs/compliance.md.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from quita.br.geo import normalise_uf, uf_from_ibge_code
from quita.br.phones import DDD_TO_UF
from quita.compliance.domain import (
    AccountFacts,
    Attempt,
    Channel,
    ContactFacts,
    ContactKind,
    ContactStatus,
    CreditorKind,
    DebtFacts,
    DebtorFacts,
    DebtStatus,
    History,
    ProposedContact,
    Provenance,
    RuleSet,
    RuleSetError,
    Scenario,
    TemplateCategory,
    TemplateInfo,
    TemplateStatus,
    TenantCalendar,
    evaluate,
    lint_text,
)
from quita.compliance.rulesets import load_ruleset

app = typer.Typer(
    no_args_is_help=True, help="Conformidade: cada contato permitido, adiado ou bloqueado, com motivos."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateIn(_Strict):
    name: str = Field(min_length=1)
    category: TemplateCategory
    status: TemplateStatus
    body: str | None = None


class ContactIn(_Strict):
    now: AwareDatetime
    channel: Channel
    kind: ContactKind
    discloses_amount: bool = False
    template: TemplateIn | None = None
    free_text: str | None = None
    is_reply_to_debtor_message: bool = False


class DebtorIn(_Strict):
    uf: str | None = None
    ibge_code: int | None = Field(default=None, ge=1100000, le=5399999)
    ddd: int | None = None
    deceased: bool = False
    vulnerable: bool = False
    in_dispute: bool = False
    identity_confirmed: bool = False
    opted_out_channels: list[Channel] = []
    already_paid_claim_at: AwareDatetime | None = None

    @field_validator("uf")
    @classmethod
    def _uf(cls, value: str | None) -> str | None:
        return normalise_uf(value) if value is not None else None

    @field_validator("ibge_code")
    @classmethod
    def _ibge(cls, value: int | None) -> int | None:
        if value is not None:
            uf_from_ibge_code(value)
        return value

    @field_validator("ddd")
    @classmethod
    def _ddd(cls, value: int | None) -> int | None:
        if value is not None and value not in DDD_TO_UF:
            raise ValueError(f"DDD inexistente: {value}")
        return value


class ContactFactsIn(_Strict):
    provenance: Provenance = Provenance.CONTRACT
    status: ContactStatus = ContactStatus.ACTIVE
    last_inbound_at: AwareDatetime | None = None
    whatsapp_opt_in: bool | None = None
    marketing_opted_out: bool = False


class DebtIn(_Strict):
    due_date: date
    status: DebtStatus = DebtStatus.OPEN
    creditor_kind: CreditorKind = CreditorKind.OTHER
    creditor_identification_present: bool = False
    acknowledged_on: date | None = None
    prescription_years: int | None = Field(default=None, ge=1, le=20)


class AttemptIn(_Strict):
    at: AwareDatetime
    answered: bool = False
    creditor: str | None = None
    channel: Channel | None = None


class AccountIn(_Strict):
    tier_limit: Literal[250, 2000, 10000, 100000] | None = None
    unique_recipients_24h: int = Field(default=0, ge=0)
    recipient_already_counted: bool = False
    next_slot_at: AwareDatetime | None = None


class CalendarIn(_Strict):
    municipal_holidays: dict[int, list[date]] = {}
    closed_dates: list[date] = []


class ScenarioIn(_Strict):
    contact: ContactIn
    debtor: DebtorIn
    contact_facts: ContactFactsIn = ContactFactsIn()
    debt: DebtIn
    history: list[AttemptIn] = []
    account: AccountIn = AccountIn()
    calendar: CalendarIn = CalendarIn()
    ruleset_overrides: dict[str, Any] | None = None

    def to_domain(self) -> Scenario:
        c, d, f, debt, a = self.contact, self.debtor, self.contact_facts, self.debt, self.account
        template = TemplateInfo(**c.template.model_dump()) if c.template else None
        return Scenario(
            contact=ProposedContact(
                now=c.now,
                channel=c.channel,
                kind=c.kind,
                discloses_amount=c.discloses_amount,
                template=template,
                free_text=c.free_text,
                is_reply_to_debtor_message=c.is_reply_to_debtor_message,
            ),
            debtor=DebtorFacts(**{**d.model_dump(), "opted_out_channels": frozenset(d.opted_out_channels)}),
            contact_facts=ContactFacts(**f.model_dump()),
            debt=DebtFacts(**debt.model_dump()),
            history=History(tuple(Attempt(**x.model_dump()) for x in self.history)),
            account=AccountFacts(**a.model_dump()),
            calendar=TenantCalendar(
                municipal_holidays={k: frozenset(v) for k, v in self.calendar.municipal_holidays.items()},
                closed_dates=frozenset(self.calendar.closed_dates),
            ),
        )


def _fail(message: str) -> typer.Exit:
    typer.echo(f"erro: {message}", err=True)
    return typer.Exit(code=2)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(raiz)"
        lines.append(f"campo {where}: {item['msg']}")
    return "JSON inválido:\n  " + "\n  ".join(lines)


def _read_mapping(path: Path, what: str) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"não foi possível ler {what} {path}: {exc.strerror}") from exc
    try:
        return (
            json.loads(text) if path.suffix.lower() == ".json" or str(path) == "-" else yaml.safe_load(text)
        )
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise _fail(f"{what} {path} não é JSON/YAML válido: {exc}") from exc


def _ruleset(overrides: Any) -> RuleSet:
    if overrides is not None and not isinstance(overrides, dict):
        raise _fail("ruleset_overrides: esperado um objeto")
    try:
        return load_ruleset(overrides)
    except RuleSetError as exc:
        raise _fail(f"regras inválidas: {exc}") from exc


@app.command("check")
def check(
    file: Annotated[
        Path, typer.Argument(help="Cenário em JSON ('-' para stdin). Esquema em docs/compliance.md.")
    ],
    ruleset: Annotated[
        Path | None,
        typer.Option("--ruleset", help="Sobreposições do tenant (YAML/JSON) sobre as regras padrão."),
    ] = None,
) -> None:
    """Avalia um contato proposto e imprime a decisão em JSON (código 0 seja qual for a decisão)."""
    data = _read_mapping(file, "cenário")
    if not isinstance(data, dict):
        raise _fail("JSON inválido: esperado um objeto na raiz")
    try:
        scenario_in = ScenarioIn.model_validate(data)
    except ValidationError as exc:
        raise _fail(_describe(exc)) from exc
    overrides = _read_mapping(ruleset, "regras") if ruleset else scenario_in.ruleset_overrides
    decision = evaluate(scenario_in.to_domain(), _ruleset(overrides))
    typer.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))


@app.command("lint")
def lint(
    file: Annotated[Path, typer.Argument(help="Arquivo de texto com a mensagem ('-' para stdin).")],
) -> None:
    """Analisa um texto (modelo ou mensagem livre) e lista os achados em JSON."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"não foi possível ler {file}: {exc.strerror}") from exc
    findings = lint_text(text, load_ruleset().linter)
    typer.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))


@app.command("ruleset")
def show_ruleset(
    overrides: Annotated[
        Path | None, typer.Option("--overrides", help="Sobreposições do tenant (YAML/JSON).")
    ] = None,
) -> None:
    """Mostra versão, hash e janelas do conjunto de regras efetivo."""
    rules = _ruleset(_read_mapping(overrides, "regras") if overrides else None)
    summary = {
        "version": rules.version,
        "hash": rules.content_hash,
        "windows": {key: {"rule_id": w.rule_id, "janela": w.label_pt} for key, w in rules.windows.items()},
    }
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))

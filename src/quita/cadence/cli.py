"""``quita cadence ...``: load and list cadences, preview (and run) the planner."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

import typer
import yaml
from rich.table import Table

from quita.cadence import service
from quita.cadence.planner import SAO_PAULO, PlanItem, tenant_ids
from quita.kit.cli import cli_actor, console, fail, open_database, reports_errors
from quita.tenant import service as tenants

app = typer.Typer(
    no_args_is_help=True, help="Réguas de cobrança: carregar, listar, pré-visualizar o planejamento."
)
OUTCOME_PT = {
    "allowed": "envia",
    "deferred": "adiada",
    "blocked": "bloqueada",
    # decided earlier and stored (the preview shows them so every held-back contact is explained)
    "planned": "planejada",
    "sending": "enviando",
    "sent": "enviada",
    "failed": "falhou",
    "unknown": "incerta",
    "cancelled": "cancelada",
}
STYLE = {"allowed": "green", "deferred": "yellow", "blocked": "red", "sent": "green", "planned": "cyan"}


@app.command("load")
@reports_errors
def load(
    file: Path = typer.Argument(..., help="YAML (ou JSON) com uma régua"),
    tenant: str = typer.Option(..., "--tenant"),
) -> None:
    """Valida e grava uma régua do tenant (substitui a de mesmo nome)."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"não foi possível ler {file}: {exc}") from None
    database = open_database()
    try:
        with database.transaction() as session:
            row = service.save_cadence(
                session, tenants.get_tenant(session, tenant).id, data, actor=cli_actor()
            )
            console.print(
                f"régua [bold]{row.name}[/] gravada (prioridade {row.priority}, hash {row.content_hash[:12]})"
            )
    finally:
        database.dispose()


@app.command("list")
@reports_errors
def list_cadences(tenant: str = typer.Option(..., "--tenant")) -> None:
    """Lista as réguas do tenant na ordem em que são testadas (a primeira que casa vence)."""
    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = tenants.get_tenant(session, tenant).id
            rows = service.list_definitions(session, tenant_id)
            cadences = service.active_cadences(session, tenant_id)
    finally:
        database.dispose()
    table = Table(title="Réguas" + ("" if rows else " (padrão do Quita: o tenant não tem régua própria)"))
    for column in ("prioridade", "nome", "passos", "condições"):
        table.add_column(column)
    for c in cadences:
        m = c.match
        conditions = [f"situação: {', '.join(sorted(m.statuses))}"]
        if m.amount_min is not None or m.amount_max is not None:
            conditions.append(f"valor {m.amount_min or 0}–{m.amount_max or '∞'}")
        if m.ufs:
            conditions.append("UF " + ",".join(sorted(m.ufs)))
        if m.tags_any or m.tags_all:
            conditions.append("tags " + ",".join(sorted(m.tags_any | m.tags_all)))
        table.add_row(str(c.priority), c.name, " ".join(s.key for s in c.steps), "; ".join(conditions))
    console.print(table)


def _mask(phone: str | None) -> str:
    if not phone or len(phone) < 10:
        return phone or "-"
    return phone[:5] + "•" * (len(phone) - 9) + phone[-4:]


def _reasons(item: PlanItem) -> str:
    return " | ".join(f"{r['rule_id']}: {r['message_pt']}" for r in item.reasons)


@app.command("preview")
@reports_errors
def preview(
    date: str | None = typer.Option(None, "--date", help="AAAA-MM-DD (padrão: hoje)"),
    at: str = typer.Option("10:00", "--at", help="hora em São Paulo (HH:MM) em que o planejamento rodaria"),
    tenant: str | None = typer.Option(None, "--tenant"),
    as_csv: bool = typer.Option(False, "--csv", help="CSV completo na saída padrão"),
    limit: int = typer.Option(200, "--limit", help="linhas na tabela (o CSV traz todas)"),
) -> None:
    """Mostra o que sairia e o que não sairia (e por quê), sem gravar nada."""
    try:
        day = dt.date.fromisoformat(date) if date else dt.datetime.now(SAO_PAULO).date()
        hour = dt.time.fromisoformat(at)
    except ValueError as exc:
        raise fail(f"data/hora inválida: {exc}") from None
    now = dt.datetime.combine(day, hour, SAO_PAULO).astimezone(dt.UTC)
    from quita.cadence.preview import preview as run_preview

    database = open_database()
    try:
        if tenant:
            with database.transaction() as session:
                ids = [tenants.get_tenant(session, tenant).id]
        else:
            ids = tenant_ids(database)
        result = run_preview(database, ids, now)
    finally:
        database.dispose()
    rows = [(i, "agora") for i in result.items] + [(i, "gravada") for i in result.stored]
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(
            [
                "titulo",
                "devedor",
                "telefone",
                "regua",
                "passo",
                "modelo",
                "decisao",
                "a_partir_de",
                "regras",
                "motivos",
                "versao_regras",
                "origem",
            ]
        )
        for i, origin in rows:
            writer.writerow(
                [
                    i.debt_id,
                    i.debtor_name,
                    i.recipient or "",
                    i.cadence,
                    i.step_key,
                    i.template,
                    OUTCOME_PT[i.outcome],
                    i.earliest_at.isoformat() if i.earliest_at else "",
                    " ".join(r["rule_id"] for r in i.reasons),
                    _reasons(i),
                    i.ruleset_version,
                    origin,
                ]
            )
        return
    table = Table(title=f"Planejamento de {day:%d/%m/%Y} às {hour:%H:%M} (São Paulo) — nada foi gravado")
    for column in ("devedor", "telefone", "passo", "modelo", "decisão", "a partir de", "por quê"):
        table.add_column(column, overflow="fold")
    for i, origin in rows[:limit]:
        when = i.earliest_at.astimezone(SAO_PAULO).strftime("%d/%m %H:%M") if i.earliest_at else ""
        decision = f"[{STYLE.get(i.outcome, 'magenta')}]{OUTCOME_PT[i.outcome]}[/]"
        table.add_row(
            i.debtor_name,
            _mask(i.recipient),
            i.step_key,
            i.template or "-",
            decision + (" (já decidida)" if origin == "gravada" else ""),
            when,
            _reasons(i) if i.outcome != "allowed" else "",
        )
    console.print(table)
    total = result.stats
    console.print(
        f"títulos examinados: {total.scanned} · com passo hoje: {total.candidates} · envia: {total.allowed} · "
        f"adiadas: {total.deferred} · bloqueadas: {total.blocked} · já decididas antes: {len(result.stored)}"
        + (f" · (tabela mostra {limit}; use --csv para tudo)" if len(rows) > limit else "")
    )


@app.command("plan")
@reports_errors
def plan_now(tenant: str | None = typer.Option(None, "--tenant")) -> None:
    """Roda o planejamento agora (o mesmo que o tique de cada minuto) e grava a fila de envio."""
    from quita.cadence.tasks import run_tick

    database = open_database()
    try:
        stats = run_tick(database, only_tenant=tenant)
    finally:
        database.dispose()
    if stats is None:
        raise fail("outro processo está planejando agora (líder ativo); tente de novo em instantes", code=1)
    console.print(
        f"examinados {stats.scanned} · envia {stats.allowed} · adiadas {stats.deferred} · "
        f"bloqueadas {stats.blocked} · {stats.seconds:.1f} s"
    )

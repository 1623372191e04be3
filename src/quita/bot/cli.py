"""Command line for the bot capability: try the NLU on a message, and measure it on the evaluation set."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from quita.bot.nlu.intents import Intent

_CODES = {
    Intent.CONFIRM_IDENTITY: "CI",
    Intent.DENY_IDENTITY: "DI",
    Intent.ASK_DETAILS: "AD",
    Intent.REQUEST_BOLETO: "BO",
    Intent.REQUEST_PIX: "PX",
    Intent.NEGOTIATE: "NG",
    Intent.ASK_DISCOUNT: "DC",
    Intent.ALREADY_PAID: "AP",
    Intent.PROMISE_TO_PAY: "PP",
    Intent.CANNOT_PAY: "CP",
    Intent.DISPUTE: "DS",
    Intent.TALK_TO_HUMAN: "HU",
    Intent.OPT_OUT: "OO",
    Intent.COMPLAINT_LEGAL: "CL",
    Intent.DECEASED: "DE",
    Intent.GREETING_OTHER: "GO",
}

app = typer.Typer(no_args_is_help=True, help="Bot de negociação: entendimento das mensagens do devedor.")


def _parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"data inválida {value!r}; use AAAA-MM-DD", param_hint="--today") from None


@app.command()
def classify(
    text: Annotated[str, typer.Argument(help="A mensagem do devedor, como chegou.")],
    today: Annotated[
        str | None,
        typer.Option("--today", help="Data de referência (AAAA-MM-DD) para resolver datas relativas."),
    ] = None,
) -> None:
    """Classifica uma mensagem e imprime JSON {intent, confidence, entities}."""
    from quita.bot.nlu import understand

    reference = _parse_day(today)
    typer.echo(json.dumps(understand(text, reference).as_json(), ensure_ascii=False))


@app.command()
def evaluate(
    as_json: Annotated[bool, typer.Option("--json", help="Saída em JSON para máquinas.")] = False,
    show_misses: Annotated[
        bool, typer.Option("--misses", help="Lista as mensagens classificadas errado.")
    ] = False,
) -> None:
    """Mede o NLU no conjunto de avaliação (nunca usado no treino)."""
    from quita.bot.nlu import default_nlu
    from quita.bot.nlu.corpus import load_split
    from quita.bot.nlu.evaluation import TARGET_MACRO_F1, TARGET_OPT_OUT_RECALL
    from quita.bot.nlu.evaluation import evaluate as run_evaluation

    report = run_evaluation(default_nlu(), load_split("eval"))
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
        return
    console = Console()
    scores = Table(title="NLU — conjunto de avaliação")
    for column in ("intenção", "precisão", "revocação", "F1", "suporte"):
        scores.add_column(column, justify="left" if column == "intenção" else "right")
    for s in report.scores:
        scores.add_row(s.intent.value, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
    console.print(scores)

    codes = {label: _CODES[label] for label in report.labels}
    # Plain fixed-width text: a 16x16 grid must fit an 80-column terminal, which a Rich table does not.
    console.print("[bold]Matriz de confusão[/bold] (linhas: esperado, colunas: previsto)")
    console.print("    " + "".join(f"{codes[label]:>4}" for label in report.labels), highlight=False)
    for i, (label, row) in enumerate(zip(report.labels, report.confusion, strict=True)):
        cells = "".join(f"{(str(n) if n or j == i else '·'):>4}" for j, n in enumerate(row))
        console.print(f"{codes[label]:<4}{cells}", highlight=False)
    console.print("  ".join(f"{code}={label.value}" for label, code in codes.items()))

    console.print(f"exemplos: {sum(s.support for s in report.scores)}  acurácia: {report.accuracy:.3f}")
    console.print(f"macro-F1: {report.macro_f1:.3f} (meta ≥ {TARGET_MACRO_F1})")
    console.print(f"revocação de opt_out: {report.opt_out_recall:.3f} (meta ≥ {TARGET_OPT_OUT_RECALL})")
    if report.targets_met:
        console.print("[green]Metas atingidas.[/green]")
    else:
        console.print("[red]Metas NÃO atingidas.[/red]")
    if show_misses:
        for miss in report.misses:
            console.print(f"{miss.source}: {miss.expected.value} → {miss.predicted.value}: {miss.text!r}")


# --------------------------------------------------------------------------- quita bot chat


@app.command()
def chat(
    tenant: Annotated[str, typer.Option("--tenant", help="Slug do tenant.")],
    phone: Annotated[str, typer.Option("--phone", help="Telefone do devedor, ex.: +5511988887777.")],
    sim_url: Annotated[str, typer.Option("--sim-url", help="Endereço do simulador de WhatsApp.")] = (
        "http://127.0.0.1:8081"
    ),
    quiet: Annotated[
        float, typer.Option("--quiet", min=0.2, help="Segundos sem mensagem nova = resposta completa.")
    ] = 1.2,
    wait: Annotated[
        float, typer.Option("--wait", min=0.5, help="Segundos de espera quando o bot fica calado.")
    ] = 10.0,
) -> None:
    """Converse com o bot pelo terminal, como o devedor, através do simulador (digite o número de uma opção
    para tocá-la; "sair" encerra)."""
    from quita.bot.chat import ChatSession, format_shown
    from quita.br.phones import InvalidPhone, normalise_phone
    from quita.kit.cli import console, fail

    try:
        number = normalise_phone(phone)
    except InvalidPhone as exc:
        raise fail(f"--phone: {exc}") from None
    name = _debtor_name(tenant, number.match_key)
    session = ChatSession(sim_url.rstrip("/"), number.e164.lstrip("+"), name, quiet_s=quiet, timeout_s=wait)
    try:
        earlier = session.catch_up()
    except Exception as exc:
        raise fail(f"simulador indisponível em {sim_url}: {exc}") from None
    console.print(f'Conversando como {name} ({number.e164}). Digite "sair" para encerrar.', highlight=False)
    for item in earlier[-3:]:
        console.print(f"[bold]empresa>[/bold] {format_shown(item)}", highlight=False)
    while True:
        try:
            line = typer.prompt("você", prompt_suffix="> ")
        except (EOFError, typer.Abort):
            break
        if line.strip().lower() in ("sair", "/sair", "exit", "quit"):
            break
        if not line.strip():
            continue
        replies = session.send(line)
        if not replies:
            console.print("[dim](sem resposta)[/dim]")
        for item in replies:
            console.print(f"[bold]empresa>[/bold] {format_shown(item)}", highlight=False)


def _debtor_name(tenant: str, key: str) -> str:
    """The debtor who owns this phone in the tenant (a chat with an unknown number would go unanswered)."""
    from sqlalchemy import select

    from quita.kit.cli import fail, open_database
    from quita.kit.errors import QuitaError
    from quita.portfolio.models import ContactPoint, Debtor
    from quita.tenant import service as tenants

    try:
        with open_database().transaction() as session:
            tenant_id = tenants.get_tenant(session, tenant).id
            name = session.scalar(
                select(Debtor.name)
                .join(ContactPoint, ContactPoint.debtor_id == Debtor.id)
                .where(ContactPoint.tenant_id == tenant_id, Debtor.tenant_id == tenant_id,
                       ContactPoint.match_key == key)
                .limit(1)
            )  # fmt: skip
    except QuitaError as exc:
        raise fail(exc.message) from None
    if name is None:
        raise fail("este telefone não pertence a nenhum devedor deste tenant")
    return str(name)


# --------------------------------------------------------------------------- handoff queue (quita handoff)

handoff_app = typer.Typer(
    no_args_is_help=True, help="Fila de atendimento humano: conversas que o bot passou."
)


@handoff_app.command("list")
def handoff_list(
    tenant: Annotated[str, typer.Option("--tenant", help="Slug do tenant.")],
    status: Annotated[str | None, typer.Option("--status", help="open, assigned ou closed.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
) -> None:
    """Lista os atendimentos, do mais antigo ao mais novo."""
    from quita.bot import service
    from quita.kit.cli import console, fail

    if status is not None and status not in ("open", "assigned", "closed"):
        raise fail("--status: use open, assigned ou closed")
    with _handoff_session(tenant) as (session, tenant_id):
        items = service.list_handoffs(session, tenant_id, status, limit=limit)
        table = Table("id", "fila", "motivo", "situação", "atendente", "desde")
        for i in items:
            table.add_row(str(i.id), i.queue, i.reason, i.status, i.assigned_to or "—",
                          i.created_at.strftime("%Y-%m-%d %H:%M UTC"))  # fmt: skip
    console.print(table)


@handoff_app.command("assign")
def handoff_assign(
    handoff_id: Annotated[str, typer.Argument(help="id do atendimento")],
    tenant: Annotated[str, typer.Option("--tenant", help="Slug do tenant.")],
    agent: Annotated[str, typer.Option("--agent", help="Quem assume a conversa.")],
) -> None:
    """Atribui um atendimento a uma pessoa (o bot continua calado)."""
    from quita.bot import service

    with _handoff_session(tenant) as (session, tenant_id):
        item = service.assign_handoff(session, tenant_id, _uuid(handoff_id), agent)
        typer.echo(f"atendimento {item.id} atribuído a {item.assigned_to}")


@handoff_app.command("close")
def handoff_close(
    handoff_id: Annotated[str, typer.Argument(help="id do atendimento")],
    tenant: Annotated[str, typer.Option("--tenant", help="Slug do tenant.")],
    agent: Annotated[str | None, typer.Option("--agent", help="Quem encerra.")] = None,
) -> None:
    """Encerra o atendimento: a conversa volta para o bot."""
    from quita.bot import service
    from quita.kit.cli import cli_actor

    with _handoff_session(tenant) as (session, tenant_id):
        item = service.close_handoff(session, tenant_id, _uuid(handoff_id), agent or cli_actor())
        typer.echo(f"atendimento {item.id} encerrado; a conversa voltou para o bot")


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"id inválido: {value!r}") from None


@contextmanager
def _handoff_session(tenant: str) -> Iterator[tuple[Session, uuid.UUID]]:
    from quita.kit.cli import fail, open_database
    from quita.kit.errors import QuitaError
    from quita.tenant import service as tenants

    try:
        with open_database().transaction() as session:
            yield session, tenants.get_tenant(session, tenant).id
    except QuitaError as exc:
        raise fail(exc.message) from None


# --------------------------------------------------------------------------- timers (quita bot tick)


@app.command("tick")
def tick(
    today: Annotated[
        str | None, typer.Option("--today", help="Data local a considerar (AAAA-MM-DD); padrão: hoje.")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Só este tenant.")] = None,
) -> None:
    """Roda uma vez os prazos do bot: lembretes de parcela e de promessa, acordos rompidos, pausas vencidas."""
    from quita.bot.timers import run_tick
    from quita.kit.cli import fail, open_database
    from quita.kit.errors import QuitaError

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise fail(f"--today inválido: {today!r} (use AAAA-MM-DD)") from None
    try:
        stats = run_tick(open_database(), today=day, only_tenant=tenant)
    except QuitaError as exc:
        raise fail(exc.message) from None
    typer.echo(json.dumps({**stats.counts(), "errors": stats.errors}, ensure_ascii=False))
    if stats.errors:
        raise typer.Exit(1)

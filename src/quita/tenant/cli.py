"""``quita tenant``, ``quita creditor`` and ``quita apikey``."""

from __future__ import annotations

import typer
from rich.table import Table

from quita.kit.cli import cli_actor, console, open_database, reports_errors
from quita.tenant import service
from quita.tenant.models import TenantKind

tenant_app = typer.Typer(no_args_is_help=True, help="Tenants: um credor ou uma assessoria.")
creditor_app = typer.Typer(no_args_is_help=True, help="Credores de um tenant.")
apikey_app = typer.Typer(no_args_is_help=True, help="Chaves de API por tenant.")


@tenant_app.command("create")
@reports_errors
def tenant_create(
    slug: str = typer.Argument(..., help="Identificador curto, ex.: acme-cobranca"),
    name: str = typer.Option(..., "--name", help="Nome de exibição"),
    kind: TenantKind = typer.Option(TenantKind.CREDITOR, "--kind"),
) -> None:
    """Cria um tenant."""
    with open_database().transaction() as session:
        tenant = service.create_tenant(session, slug=slug, name=name, kind=kind, actor=cli_actor())
        console.print(f"tenant criado: {tenant.slug} ({tenant.id})")


@creditor_app.command("add")
@reports_errors
def creditor_add(
    tenant: str = typer.Option(..., "--tenant"),
    legal_name: str = typer.Option(..., "--legal-name", help="Razão social"),
    cnpj: str = typer.Option(..., "--cnpj"),
    address: str = typer.Option(..., "--address", help="Logradouro, número e bairro"),
    city: str = typer.Option(..., "--city"),
    uf: str = typer.Option(..., "--uf"),
    cep: str | None = typer.Option(None, "--cep"),
    trade_name: str | None = typer.Option(None, "--trade-name", help="Nome fantasia"),
    financial_institution: bool = typer.Option(False, "--financial-institution", help="Banco ou financeira"),
) -> None:
    """Cadastra um credor (razão social, CNPJ e endereço aparecem em toda cobrança com valor)."""
    with open_database().transaction() as session:
        t = service.get_tenant(session, tenant)
        creditor = service.add_creditor(
            session, t, legal_name=legal_name, cnpj=cnpj, address=address, city=city, uf=uf, cep=cep,
            trade_name=trade_name, is_financial_institution=financial_institution, actor=cli_actor(),
        )
        console.print(f"credor cadastrado: {creditor.legal_name} ({creditor.cnpj})")


@creditor_app.command("list")
@reports_errors
def creditor_list(tenant: str = typer.Option(..., "--tenant")) -> None:
    """Lista os credores de um tenant."""
    with open_database().transaction() as session:
        t = service.get_tenant(session, tenant)
        table = Table("CNPJ", "Razão social", "Cidade/UF")
        for c in service.list_creditors(session, t.id):
            table.add_row(c.cnpj, c.legal_name, f"{c.city}/{c.uf}")
        console.print(table)


@apikey_app.command("create")
@reports_errors
def apikey_create(
    tenant: str = typer.Option(..., "--tenant"),
    name: str = typer.Option("default", "--name"),
) -> None:
    """Cria uma chave de API. A chave é mostrada uma única vez."""
    with open_database().transaction() as session:
        t = service.get_tenant(session, tenant)
        _, plaintext = service.create_api_key(session, t, name=name, actor=cli_actor())
    typer.echo(plaintext)


@apikey_app.command("revoke")
@reports_errors
def apikey_revoke(tenant: str = typer.Option(..., "--tenant"), prefix: str = typer.Argument(...)) -> None:
    """Revoga uma chave de API pelo prefixo (os 12 caracteres após ``qk_``)."""
    with open_database().transaction() as session:
        t = service.get_tenant(session, tenant)
        service.revoke_api_key(session, t, prefix, actor=cli_actor())
    console.print("chave revogada")

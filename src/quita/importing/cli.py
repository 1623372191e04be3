"""``quita import``: load a portfolio file with a progress bar and a summary."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from quita.importing.domain.columns import NotAPortfolio
from quita.importing.service import ImportSummary, import_file, validate_mapping
from quita.kit.cli import cli_actor, console, fail, open_database, reports_errors
from quita.tenant import service as tenants


def print_summary(summary: ImportSummary) -> None:
    table = Table(title="Resumo da importação", show_header=False)
    table.add_row("linhas lidas", f"{summary.read:,}".replace(",", "."))
    table.add_row("novas", f"{summary.imported:,}".replace(",", "."))
    table.add_row("atualizadas", f"{summary.updated:,}".replace(",", "."))
    table.add_row("sem alteração", f"{summary.unchanged:,}".replace(",", "."))
    table.add_row("rejeitadas", f"{summary.rejected:,}".replace(",", "."))
    if summary.blank:
        table.add_row("linhas em branco ignoradas", str(summary.blank))
    if summary.ignored_columns:
        table.add_row("colunas ignoradas", ", ".join(summary.ignored_columns))
    table.add_row("tempo", f"{summary.seconds:.1f} s")
    console.print(table)
    if summary.error_report:
        console.print(f"relatório de erros: [bold]{summary.error_report}[/]")


def import_command(
    file: Path = typer.Argument(..., help="CSV (qualquer separador, UTF-8 ou Latin-1) ou XLSX"),
    tenant: str = typer.Option(..., "--tenant"),
    creditor: str | None = typer.Option(None, "--creditor", help="CNPJ do credor (se o tenant tiver vários)"),
    mapping: Path | None = typer.Option(None, "--mapping", help='JSON/YAML: {"columns": {"Cabeçalho": "campo"}}'),
    as_json: bool = typer.Option(False, "--json", help="Resumo em JSON"),
) -> None:
    """Importa uma carteira. Linhas ruins vão para FILE.erros.csv; as boas são importadas."""
    explicit = None
    if mapping is not None:
        try:
            explicit = validate_mapping(yaml.safe_load(mapping.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            raise fail(f"não foi possível ler o mapeamento {mapping}: {exc}") from None
    database = open_database()
    try:
        with database.transaction() as session:
            tenant_id = tenants.get_tenant(session, tenant).id
        with Progress(
            TextColumn("[bold]importando[/]"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
            console=console, disable=as_json, transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            with database.transaction() as session:
                summary = import_file(
                    session, tenant_id=tenant_id, path=file, actor=cli_actor(), creditor_cnpj=creditor,
                    mapping=explicit, progress=progress,
                )
    except NotAPortfolio as exc:
        raise fail(f"{file}: {exc}. Nada foi importado.") from None
    finally:
        database.dispose()
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        print_summary(summary)


def register(app: typer.Typer) -> None:
    app.command("import")(reports_errors(import_command))

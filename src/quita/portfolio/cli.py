"""``quita sample-portfolio``: a realistic synthetic portfolio for demos, tests and benchmarks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer


def sample_portfolio(
    rows: int = typer.Option(1000, "--rows", min=1),
    seed: int = typer.Option(1, "--seed"),
    out: Path = typer.Option(Path("carteira-exemplo.csv"), "--out"),
    bad_rows: float = typer.Option(0.0, "--bad-rows", min=0.0, max=0.5, help="Fração de linhas com defeito"),
    today: str | None = typer.Option(None, "--today", help="AAAA-MM-DD (padrão: hoje)"),
) -> None:
    """Gera uma carteira sintética (CPFs/CNPJs válidos, todos os estados)."""
    from quita.portfolio.sample import write_sample_portfolio

    reference = dt.date.fromisoformat(today) if today else None
    summary = write_sample_portfolio(out, rows=rows, seed=seed, bad_rows=bad_rows, today=reference)
    typer.echo(
        f"{out}: {summary.rows} linhas, {summary.debtors} devedores, "
        f"{len(summary.injected_errors)} linhas com defeito proposital"
    )


def register(app: typer.Typer) -> None:
    app.command("sample-portfolio")(sample_portfolio)

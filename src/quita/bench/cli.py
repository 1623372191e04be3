"""``quita bench ...``: each benchmark prints a table with a baseline measured in the same run."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Benchmarks: cada um imprime uma tabela com a linha de base medida junto.")

IMPORT_TARGETS = {"import: SQLite": 10_000, "import: PostgreSQL": 20_000}
RSS_LIMIT_MB = 300
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"  # the development machine's server (trust auth)
# Benchmark tables are pasted into notes and logs: never wrap them to a narrow terminal.
console = Console(width=160)


@app.command("import")
def bench_import(
    rows: int = typer.Option(1_000_000, "--rows", min=1000),
    seed: int = typer.Option(1, "--seed"),
    db: str = typer.Option("both", "--db", help="sqlite, postgresql ou both"),
    postgres_url: str = typer.Option(DEFAULT_PG, "--postgres-url"),
    batch_size: int = typer.Option(5000, "--batch-size", min=100),
) -> None:
    """Importação: linhas/s e pico de memória, ao lado de uma leitura pura do mesmo CSV."""
    from quita.bench.import_bench import run

    databases = ["sqlite", "postgresql"] if db == "both" else [db]
    results = run(rows, seed, databases, postgres_url, batch_size)
    baseline = results[0]
    table = Table(title=f"quita bench import — {rows:,} linhas".replace(",", "."))
    for column in ("caso", "linhas", "segundos", "linhas/s", "÷ linha de base", "pico RSS (MB)", "meta", "ok?",
                   "detalhe"):
        table.add_column(column, justify="left" if column in ("caso", "detalhe") else "right")
    for r in results:
        target = IMPORT_TARGETS.get(r.name)
        ok = "" if target is None else ("sim" if r.rate >= target and r.peak_rss_mb <= RSS_LIMIT_MB else "NÃO")
        table.add_row(
            r.name, f"{r.rows:,}", f"{r.seconds:.1f}", f"{r.rate:,.0f}", f"{r.rate / baseline.rate:.3f}",
            f"{r.peak_rss_mb:.0f}", "" if target is None else f"≥ {target:,}/s, ≤ {RSS_LIMIT_MB} MB", ok, r.detail,
        )
    console.print(table)


@app.command("webhooks")
def bench_webhooks(
    db: str = typer.Option("both", "--db", help="sqlite, postgresql ou both"),
    postgres_url: str = typer.Option(DEFAULT_PG, "--postgres-url"),
    seconds: float = typer.Option(8.0, "--seconds", min=1.0),
    connections: int = typer.Option(64, "--connections", min=1, max=1000),
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="processos do servidor (PostgreSQL)"),
    broker_url: str | None = typer.Option(
        None, "--broker-url",
        help="modo escalado (PostgreSQL): o servidor só grava e avisa a fila; o processamento é do quita worker,"
             " que não roda durante a medição. Sem ela: modo embutido, processamento em threads do servidor",
    ),
) -> None:
    """Webhooks assinados aceitos por segundo (200 só após gravar), ao lado de um endpoint vazio no mesmo servidor."""
    from quita.bench.webhooks_bench import run

    results = run(["sqlite", "postgresql"] if db == "both" else [db], postgres_url, seconds, connections, workers,
                  broker_url)
    table = Table(title=f"quita bench webhooks — {connections} conexões, {seconds:.0f} s por caso")
    for column in ("caso", "aceitos", "erros", "segundos", "por s", "÷ endpoint vazio", "CPU servidor ms/req",
                   "gravados", "meta", "ok?"):
        table.add_column(column, justify="left" if column == "caso" else "right")
    bare_rate = 0.0
    for r in results:
        if r.stored is None:
            bare_rate = r.rate
            table.add_row(r.name, f"{r.requests:,}", str(r.errors), f"{r.seconds:.1f}", f"{r.rate:,.0f}", "1.000",
                          f"{r.cpu_ms_per_request:.3f}", "", "", "")
            continue
        ratio = r.rate / bare_rate if bare_rate else 0.0
        target = 3000 if "PostgreSQL" in r.name else None
        ok = ratio >= 0.5 and (target is None or r.rate >= target) and r.stored >= r.requests
        table.add_row(r.name, f"{r.requests:,}", str(r.errors), f"{r.seconds:.1f}", f"{r.rate:,.0f}", f"{ratio:.3f}",
                      f"{r.cpu_ms_per_request:.3f}", f"{r.stored:,}", f"≥ {target:,}/s, ≥ 0,5×" if target else "≥ 0,5×", "sim" if ok else "NÃO")
    console.print(table)


@app.command("dispatch")
def bench_dispatch(
    messages: int = typer.Option(5000, "--messages", min=100, help="mensagens por número"),
    db: str = typer.Option("sqlite", "--db", help="sqlite ou postgresql"),
    postgres_url: str = typer.Option(DEFAULT_PG, "--postgres-url"),
) -> None:
    """Envio ponta a ponta (fila → HTTP → wamid gravado) contra o simulador, ao lado de um cliente HTTP cru (o mesmo código HTTP, sem banco)."""
    from quita.bench.dispatch_bench import print_table, run

    print_table(run(messages, db, postgres_url))


@app.command("plan")
def bench_plan(
    debts: int = typer.Option(1_000_000, "--debts", min=1000),
    postgres_url: str = typer.Option(DEFAULT_PG, "--postgres-url"),
    batch_size: int = typer.Option(5000, "--batch-size", min=100),
) -> None:
    """Planejamento de um dia da carteira no PostgreSQL (títulos/s), ao lado de uma varredura pura."""
    from quita.bench.plan_bench import print_table, run

    print_table(run(debts, postgres_url, batch_size=batch_size))


@app.command("bot")
def bench_bot(
    conversations: int = typer.Option(50, "--conversations", min=1, max=500),
    turns: int = typer.Option(6, "--turns", min=1, max=100, help="mensagens por conversa"),
    think: float = typer.Option(3.0, "--think", min=0.0, max=60.0,
                                help="segundos médios que a pessoa leva para ler e responder (0 = de imediato: "
                                     "teste de saturação, não de conversa)"),
    burst: bool = typer.Option(False, "--burst",
                               help="também um caso em que todas as conversas começam no mesmo instante "
                                    "(informativo: mede a fila, não conversas simultâneas)"),
    db: str = typer.Option("sqlite", "--db", help="sqlite (o padrão embutido) ou postgresql"),
    postgres_url: str = typer.Option(DEFAULT_PG, "--postgres-url"),
) -> None:
    """Latência do bot: do webhook recebido à resposta no simulador (p50/p95/p99), ao lado de um eco imediato."""
    from quita.bench.bot_bench import print_table, run

    if db not in ("sqlite", "postgresql"):
        raise typer.BadParameter("use sqlite ou postgresql", param_hint="--db")
    cases = run(conversations, turns, think, burst=burst, postgres_url=postgres_url if db == "postgresql" else None)
    print_table(cases, conversations, turns, think, "PostgreSQL" if db == "postgresql" else "SQLite")

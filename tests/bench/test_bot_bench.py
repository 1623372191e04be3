"""``quita bench bot`` at its smallest size: the clocks on both sides pair every reply with its message."""

from __future__ import annotations

from typer.testing import CliRunner

from quita.bench.bot_bench import Case, run
from quita.cli import app


def test_percentiles_are_nearest_rank() -> None:
    case = Case("x", latencies_ms=[float(n) for n in range(1, 101)])
    assert (case.percentile(50), case.percentile(95), case.percentile(99)) == (50.0, 95.0, 99.0)
    assert Case("vazio").percentile(99) != Case("vazio").percentile(99)  # NaN when nothing was measured


def test_small_run_measures_every_reply() -> None:
    echo, bot, together = run(conversations=2, turns=3, burst=True)
    assert together.name.startswith("rajada")  # shown beside the others, never held to the target
    for case in (echo, bot, together):
        assert case.lost == 0 and case.unmeasured == 0
        assert len(case.latencies_ms) == 6
        assert all(0 < ms < 30_000 for ms in case.latencies_ms)
    assert 0 < bot.cpu_ms_per_reply < 5_000  # the server's CPU during the bot case, per reply (clock ticks: 10 ms)
    assert bot.percentile(50) > echo.percentile(50)  # the bot does real work: storage, jobs, NLU, dialog


def test_the_bot_answers_on_postgresql_too(postgres_url: str) -> None:
    _echo, bot = run(conversations=1, turns=2, postgres_url=postgres_url.split("?")[0])  # a schema of its own
    assert bot.lost == 0 and bot.unmeasured == 0 and len(bot.latencies_ms) == 2


def test_cli_prints_the_table() -> None:
    result = CliRunner().invoke(app, ["bench", "bot", "--conversations", "1", "--turns", "2"])
    assert result.exit_code == 0, result.output
    assert "p99" in result.output and "linha de base" in result.output and "CPU/resp." in result.output
    assert "(SQLite)" in result.output
    wrong = CliRunner().invoke(app, ["bench", "bot", "--db", "mysql"])
    assert wrong.exit_code != 0 and "sqlite ou postgresql" in wrong.output

"""The command line end to end: tenant, creditor, API key, sample portfolio, import (both databases)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quita.cli import app
from quita.config import get_settings
from quita.kit.db import Database

runner = CliRunner()


@pytest.fixture
def cli_env(database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("QUITA_DATABASE_URL", database_url)
    monkeypatch.setenv("QUITA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_from_nothing_to_an_imported_portfolio(cli_env: None, tmp_path: Path) -> None:
    invoke("db", "upgrade")
    invoke("tenant", "create", "acme", "--name", "ACME Cobranças", "--kind", "agency")
    invoke("creditor", "add", "--tenant", "acme", "--legal-name", "Banco Exemplo S.A.", "--cnpj",
           "11.222.333/0001-81", "--address", "Av. Paulista, 1000", "--city", "São Paulo", "--uf", "SP")
    key = invoke("apikey", "create", "--tenant", "acme").strip()
    assert key.startswith("qk_")
    sample = tmp_path / "carteira.csv"
    assert "1000 linhas" in invoke("sample-portfolio", "--rows", "1000", "--seed", "5", "--bad-rows", "0.02",
                                   "--out", str(sample), "--today", "2026-11-23")
    summary = json.loads(invoke("import", str(sample), "--tenant", "acme", "--json"))
    assert summary["read"] == 1000 and summary["rejected"] == 20 and summary["imported"] == 980
    assert summary["error_report"] == str(sample) + ".erros.csv"
    again = json.loads(invoke("import", str(sample), "--tenant", "acme", "--json"))
    assert (again["imported"], again["unchanged"], again["rejected"]) == (0, 980, 20)


def test_errors_exit_2_with_a_message_and_no_traceback(cli_env: None, tmp_path: Path) -> None:
    invoke("db", "upgrade")
    result = runner.invoke(app, ["import", str(tmp_path / "missing.csv"), "--tenant", "nobody"])
    assert result.exit_code == 2 and "não encontrado" in result.output
    invoke("tenant", "create", "acme", "--name", "ACME")
    result = runner.invoke(app, ["import", str(tmp_path / "missing.csv"), "--tenant", "acme"])
    assert result.exit_code == 2 and "credor" in result.output  # no creditor registered yet
    result = runner.invoke(app, ["tenant", "create", "acme", "--name", "ACME"])
    assert result.exit_code == 2 and "já existe" in result.output

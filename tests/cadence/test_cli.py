from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from quita.cadence.cli import app
from quita.cadence.defaults import default_mapping
from quita.config import get_settings
from quita.kit.db import Database
from tests.cadence.portfolio import add_debts, confirm_all, setup_tenant

runner = CliRunner()


@pytest.fixture
def cli_db(database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("QUITA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


def test_load_list_and_preview(cli_db: Database, tmp_path: Path) -> None:
    tenant_id, _ = setup_tenant(cli_db)
    add_debts(cli_db, tenant_id, 2, due=dt.date(2026, 3, 17))
    add_debts(cli_db, tenant_id, 1, due=dt.date(2026, 3, 17), opt_in=False, start=7)
    confirm_all(cli_db, tenant_id)
    path = tmp_path / "regua.yaml"
    path.write_text(yaml.safe_dump(default_mapping() | {"name": "varejo", "priority": 5}), encoding="utf-8")
    result = runner.invoke(app, ["load", str(path), "--tenant", "acme"])
    assert result.exit_code == 0, result.output
    assert "varejo" in runner.invoke(app, ["list", "--tenant", "acme"]).output
    bad = tmp_path / "ruim.yaml"
    bad.write_text("name: x\nsteps: []\n", encoding="utf-8")
    result = runner.invoke(app, ["load", str(bad), "--tenant", "acme"])
    assert result.exit_code == 2 and "identity_check: obrigatório" in result.output

    result = runner.invoke(app, ["preview", "--date", "2026-03-17", "--tenant", "acme", "--csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4
    assert sum(",envia," in line for line in lines) == 2, lines
    assert any("bloqueada" in line and "CHAN-01" in line for line in lines)
    table = runner.invoke(app, ["preview", "--date", "2026-03-17", "--at", "22:00", "--tenant", "acme"])
    assert "adiada" in table.output and "nada foi gravado" in table.output

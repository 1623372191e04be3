"""``quita payments account|charge|import|reviews`` against a real database (SQLite only: the CLI is a thin
shell over services that are tested on both databases)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quita.cli import app
from quita.config import get_settings
from quita.kit.db import Database
from tests.factories import make_tenant
from tests.payments.builders import make_debt, return_file_for

runner = CliRunner()


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    import shutil

    path = tmp_path / "quita.db"
    shutil.copyfile(sqlite_template, path)
    monkeypatch.setenv("QUITA_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("QUITA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_account_charge_import_and_reviews(sqlite_db: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(sqlite_db)
    make_debt(sqlite_db, tenant_id, "T1")
    code, out, err = _run(
        "payments",
        "account",
        "set",
        "--tenant",
        "acme",
        "--bank",
        "001",
        "--boleto",
        '{"agencia": "1234", "conta": "56789", "carteira": "17", "convenio": "1234567"}',
        "--pix-key",
        "cobranca@acme.com.br",
        "--webhook-secret",
        "abc",
    )
    assert code == 0, err
    assert json.loads(out)["webhook_secret"] == "***" and "abc" not in out
    code, out, err = _run("payments", "charge", "--tenant", "acme", "--debt", "T1", "--due", "2099-01-10")
    assert code == 0, err
    charge = json.loads(out)
    assert charge["kind"] == "boleto" and charge["linha_digitavel"] and Path(charge["pdf_path"]).is_file()
    from quita.payments.models import Charge

    with sqlite_db.transaction() as session:
        stored = session.get_one(Charge, uuid.UUID(charge["id"]))
    file = tmp_path / "RET.ret"
    file.write_bytes(return_file_for([(stored, stored.amount + 5)]))
    code, out, err = _run("payments", "import", str(file), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["debts_paid"] == 1 and summary["payments"][0]["outcome"] == "overpaid"
    code, out, _ = _run("payments", "import", str(file))
    assert code == 0 and "já importado" in out
    code, out, _ = _run("payments", "reviews", "--tenant", "acme")
    (review,) = json.loads(out)
    assert review["kind"] == "overpayment"
    code, out, err = _run(
        "payments", "reviews", "--tenant", "acme", "--resolve", review["id"], "--note", "devolvido"
    )
    assert code == 0, err
    assert json.loads(_run("payments", "reviews", "--tenant", "acme")[1]) == []


def test_malformed_return_names_line_and_column(sqlite_db: Database, tmp_path: Path) -> None:
    make_tenant(sqlite_db)
    bad = tmp_path / "bad.ret"
    bad.write_text("00100000" + " " * 232 + "\r\n" + "001000X3" + " " * 232 + "\r\n")
    code, _, err = _run("payments", "import", str(bad))
    assert code == 2
    assert "linha 2, coluna 8" in err and "Nada foi aplicado" in err


def test_charge_for_unknown_debt_fails_cleanly(sqlite_db: Database) -> None:
    make_tenant(sqlite_db)
    code, _, err = _run("payments", "charge", "--tenant", "acme", "--debt", "NOPE")
    assert code == 2 and "NOPE" in err

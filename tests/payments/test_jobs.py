"""Importing a folder of CNAB returns: new files applied, files seen before skipped, bad files reported."""

from __future__ import annotations

from pathlib import Path

from quita.kit.db import Database
from quita.payments.jobs import import_folder
from tests.payments.builders import issue, make_debt, return_file_for, setup_tenant


def test_folder_scan_is_idempotent_and_isolates_bad_files(database: Database, tmp_path: Path) -> None:
    tenant_id = setup_tenant(database)
    charge = issue(database, tenant_id, make_debt(database, tenant_id), data_dir=tmp_path)
    folder = tmp_path / "retornos"
    folder.mkdir()
    (folder / "A.ret").write_bytes(return_file_for([(charge, charge.amount)]))
    (folder / "B.ret").write_bytes(b"lixo\r\n")
    first = import_folder(database, tenant_id, folder)
    assert [r.debts_paid for r in first.imported] == [1]
    assert list(first.failed) == ["B.ret"] and "linha 1" in first.failed["B.ret"]
    second = import_folder(database, tenant_id, folder)
    assert second.imported == [] and second.already_imported == 1

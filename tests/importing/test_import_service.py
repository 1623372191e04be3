from __future__ import annotations

import csv
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from quita.audit.models import AuditEvent
from quita.importing.domain.columns import NotAPortfolio
from quita.importing.service import ImportSummary, import_file
from quita.kit.db import Database
from quita.portfolio.models import ContactPoint, Debt, Debtor
from tests.factories import good_row, make_tenant, write_csv

TODAY = dt.date(2026, 11, 23)


def run(database: Database, tenant_id: uuid.UUID, path: Path, **kwargs: object) -> ImportSummary:
    with database.transaction() as session:
        return import_file(session, tenant_id=tenant_id, path=path, actor="test", today=TODAY, **kwargs)  # type: ignore[arg-type]


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_good_file_imports_every_row(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    path = write_csv(tmp_path / "carteira.csv", [
        good_row(1), good_row(2, value="50"), good_row(3, cpf="12345678909", name="João Souza", phone="21 8765-4321"),
    ])
    summary = run(database, tenant_id, path)
    assert (summary.read, summary.imported, summary.rejected) == (3, 3, 0)
    assert summary.error_report is None and not (tmp_path / "carteira.csv.erros.csv").exists()
    with database.transaction() as session:
        debts = {d.external_id: d for d in session.scalars(select(Debt))}
        assert debts["T1"].principal == Decimal("1234.56")
        assert debts["T2"].principal == Decimal("50.00")
        assert debts["T1"].due_date == dt.date(2026, 1, 10)
        assert debts["T1"].fine_rate == Decimal("2")
        joao = session.scalar(select(Debtor).where(Debtor.document == "12345678909"))
        assert joao is not None and joao.name == "João Souza"
        phones = {c.value for c in session.scalars(select(ContactPoint).where(ContactPoint.kind == "phone"))}
        # the legacy 8-digit mobile gets its ninth digit
        assert phones == {"+5511987654321", "+5521987654321"}
    assert count(database, Debtor) == 2


def test_every_kind_of_bad_row_is_reported_and_good_rows_still_import(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    rows = [
        good_row(1),                                             # row 2: fine
        good_row(2, cpf="529.982.247-26"),                       # row 3: CPF check digit
        good_row(3, due="31/02/2026"),                           # row 4: impossible date
        good_row(4, value="abc"),                                # row 5: not an amount
        good_row(5, value="-10,00"),                             # row 6: negative
        good_row(6, name=""),                                    # row 7: missing name
        good_row(7, phone="(20) 98765-4321"),                    # row 8: DDD 20 does not exist
        [*good_row(8)[:7], "XX", *good_row(8)[8:]],              # row 9: bad UF
        good_row(1, value="99,00"),                              # row 10: duplicate id in file
        good_row(9, cpf="", value="", due=""),                   # row 11: three problems at once
        good_row(10),                                            # row 12: fine
    ]
    path = write_csv(tmp_path / "ruim.csv", rows)
    summary = run(database, tenant_id, path)
    assert summary.read == 11
    assert summary.read == summary.imported + summary.updated + summary.unchanged + summary.rejected
    assert (summary.imported, summary.rejected) == (2, 9)
    assert summary.error_report == tmp_path / "ruim.csv.erros.csv"
    lines = report_rows(summary.error_report)
    by_row = {}
    for line in lines:
        by_row.setdefault(int(line["linha"]), []).append(line)
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert by_row[3][0]["coluna"] == "cpf_cnpj" and "verificador" in by_row[3][0]["motivo"]
    assert by_row[4][0]["coluna"] == "vencimento" and by_row[4][0]["valor"] == "31/02/2026"
    assert by_row[5][0]["coluna"] == "valor"
    assert by_row[6][0]["coluna"] == "valor" and "maior que zero" in by_row[6][0]["motivo"]
    assert by_row[6][0]["valor"] == "'-10,00"  # neutralised for spreadsheets
    assert by_row[7][0]["coluna"] == "nome"
    assert by_row[8][0]["coluna"] == "telefone" and "20" in by_row[8][0]["motivo"]
    assert by_row[9][0]["coluna"] == "uf"
    assert by_row[10][0]["coluna"] == "id_titulo" and "linha 2" in by_row[10][0]["motivo"]
    assert {line["coluna"] for line in by_row[11]} == {"cpf_cnpj", "valor", "vencimento"}
    assert count(database, Debt) == 2


def test_reimporting_the_same_file_changes_nothing(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    path = write_csv(tmp_path / "c.csv", [good_row(i) for i in range(1, 8)] + [good_row(1)])
    first = run(database, tenant_id, path)
    events_after_first = count(database, AuditEvent)
    second = run(database, tenant_id, path)
    assert (first.imported, first.rejected) == (7, 1)
    assert (second.read, second.imported, second.updated, second.unchanged, second.rejected) == (8, 0, 0, 7, 1)
    assert count(database, Debt) == 7
    # only the "import.completed" event of the second run was added
    assert count(database, AuditEvent) == events_after_first + 1


def test_a_changed_row_updates_its_debt_and_logs_before_and_after(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    path = tmp_path / "c.csv"
    write_csv(path, [good_row(1), good_row(2)])
    run(database, tenant_id, path)
    write_csv(path, [good_row(1), good_row(2, value="2.000,00")])
    summary = run(database, tenant_id, path)
    assert (summary.updated, summary.unchanged, summary.imported) == (1, 1, 0)
    with database.transaction() as session:
        debt = session.scalar(select(Debt).where(Debt.external_id == "T2"))
        assert debt is not None and debt.principal == Decimal("2000.00")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "debt.updated_by_import"))
        assert event is not None and event.entity_id == debt.id
        assert event.before == {"principal": "1234.56"}
        assert event.after == {"principal": "2000.00", "_import_row": 3}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "vazio"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binário"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(100), ".xls"),
        ("produto;quantidade;preço\nbanana;3;1,50\n".encode(), "faltam as colunas obrigatórias"),
        (b"\n\nnome;cpf\n", "cabeçalho"),
    ],
)
def test_a_file_that_is_not_a_portfolio_imports_nothing(
    database: Database, tmp_path: Path, content: bytes, message: str
) -> None:
    tenant_id = make_tenant(database)
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(NotAPortfolio, match=message):
        run(database, tenant_id, path)
    assert count(database, Debt) == 0 and count(database, Debtor) == 0


def test_xlsx_with_native_numbers_and_dates(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ID Título", "Nome", "CPF", "Vencimento", "Valor", "Celular"])
    sheet.append(["A-1", "Ana Lima", 52998224725, dt.datetime(2026, 3, 5), 1234.56, 11987654321])
    sheet.append(["A-2", "Bia Lima", "04345678912", dt.datetime(2026, 3, 5), 10.1, None])  # bad CPF
    sheet.append([None, None, None, None, None, None])
    path = tmp_path / "carteira.xlsx"
    workbook.save(path)
    summary = run(database, tenant_id, path)
    assert (summary.read, summary.imported, summary.rejected, summary.blank) == (2, 1, 1, 1)
    with database.transaction() as session:
        debt = session.scalar(select(Debt))
        assert debt is not None and debt.principal == Decimal("1234.56") and debt.due_date == dt.date(2026, 3, 5)
    assert summary.error_report is not None
    assert report_rows(summary.error_report)[0]["linha"] == "3"


def test_latin1_csv_with_commas_and_quotes(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    header = ["Nº do Título", "Nome", "CPF/CNPJ", "Data de Vencimento", "Valor Original", "Município", "Estado"]
    rows = [["1", "José Conceição", "529.982.247-25", "2026-05-01", '"1.500,00"', "São João del-Rei", "mg"]]
    path = tmp_path / "latin.csv"
    with path.open("w", encoding="latin-1", newline="") as handle:
        handle.write(",".join(header) + "\r\n")
        handle.write(",".join(rows[0]) + "\r\n")
    summary = run(database, tenant_id, path, mapping={"Nº do Título": "external_id"})
    assert summary.encoding == "cp1252" and (summary.imported, summary.rejected) == (1, 0)
    with database.transaction() as session:
        debtor = session.scalar(select(Debtor))
        assert debtor is not None and debtor.name == "José Conceição" and debtor.city == "São João del-Rei"
        assert debtor.uf == "MG"


def test_sample_portfolio_error_report_is_correct_to_the_row(database: Database, tmp_path: Path) -> None:
    from quita.portfolio.sample import write_sample_portfolio

    tenant_id = make_tenant(database)
    path = tmp_path / "amostra.csv"
    sample = write_sample_portfolio(path, rows=1500, seed=7, bad_rows=0.05, today=TODAY)
    summary = run(database, tenant_id, path, batch_size=400)
    injected = {e.row for e in sample.injected_errors}
    assert summary.read == 1500
    assert summary.rejected == len(injected)
    assert summary.imported == 1500 - len(injected)
    assert summary.error_report is not None
    reported = {int(line["linha"]) for line in report_rows(summary.error_report)}
    assert reported == injected
    assert {(e.row, e.column) for e in sample.injected_errors} <= {
        (int(line["linha"]), line["coluna"]) for line in report_rows(summary.error_report)
    }


def test_header_only_file_reads_nothing(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    summary = run(database, tenant_id, write_csv(tmp_path / "h.csv", []))
    assert (summary.read, summary.imported) == (0, 0)


def test_tenants_never_share_rows(database: Database, tmp_path: Path) -> None:
    a = make_tenant(database, "tenant-a")
    b = make_tenant(database, "tenant-b")
    path = write_csv(tmp_path / "c.csv", [good_row(1)])
    run(database, a, path)
    summary_b = run(database, b, path)
    assert summary_b.imported == 1  # same external id, other tenant: a distinct debt
    with database.transaction() as session:
        tenants = {d.tenant_id for d in session.scalars(select(Debt))}
    assert tenants == {a, b}



def test_parallel_parsing_gives_the_same_result_as_in_process(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes cut the text into chunks of whole records: a quoted field spanning lines
    must not be split, and row numbers in the report must match the in-process parse."""
    from quita.importing import pipeline
    from quita.portfolio.sample import write_sample_portfolio

    path = tmp_path / "grande.csv"
    sample = write_sample_portfolio(path, rows=1200, seed=3, bad_rows=0.05, today=TODAY)
    bad = {e.row for e in sample.injected_errors}
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = text[0].rstrip("\n").split(";")
    street, document = header.index("logradouro"), header.index("cpf_cnpj")
    seen_documents: set[str] = set()
    target = 0
    for i, line in enumerate(text[1:], start=1):  # a valid row that is its debtor's first (line i is row i + 1)
        doc = "".join(ch for ch in line.split(";")[document] if ch.isalnum())
        if i >= 10 and i + 1 not in bad and doc not in seen_documents:
            target = i
            break
        seen_documents.add(doc)
    cells = text[target].rstrip("\n").split(";")
    cells[street] = '"Rua Zeta\nBloco B; apto ""3"""'  # a quoted field with a newline, a delimiter, quotes
    text[target] = ";".join(cells) + "\n"
    path.write_text("".join(text), encoding="utf-8")

    first = make_tenant(database, "in-process")
    second = make_tenant(database, "parallel")
    sequential = run(database, first, path, workers=0, batch_size=250)
    sequential_report = sequential.error_report.read_text(encoding="utf-8-sig") if sequential.error_report else ""
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    parallel = run(database, second, path, workers=2, batch_size=250)
    parallel_report = parallel.error_report.read_text(encoding="utf-8-sig") if parallel.error_report else ""
    assert (sequential.read, sequential.imported, sequential.rejected) == (parallel.read, parallel.imported,
                                                                          parallel.rejected)
    assert sequential.rejected == 60 and sequential_report == parallel_report
    with database.transaction() as session:
        streets = list(session.scalars(select(Debtor.street).where(Debtor.street.like("Rua Zeta%"))))
    assert streets == ['Rua Zeta Bloco B; apto "3"'] * 2  # once per tenant


def test_parallel_workers_start_without_the_parents_main_module(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers would otherwise re-import ``__main__`` (for ``quita``: the whole CLI); it is hidden only
    while they start, and restored afterwards."""
    import sys

    from quita.importing import pipeline
    from quita.portfolio.sample import write_sample_portfolio

    main = sys.modules["__main__"]
    before = (getattr(main, "__spec__", None), getattr(main, "__file__", None))
    path = tmp_path / "c.csv"
    write_sample_portfolio(path, rows=300, seed=5, today=TODAY)
    monkeypatch.setattr(pipeline, "PARALLEL_MIN_BYTES", 0)
    summary = run(database, make_tenant(database), path, workers=1, batch_size=100)
    assert (summary.read, summary.imported) == (300, 300)
    assert (getattr(main, "__spec__", None), getattr(main, "__file__", None)) == before


def test_first_load_inserts_on_a_database_thread_and_a_failure_there_applies_nothing(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a first load's inserts run on a database thread, one batch behind the writer's
    picking (on SQLite in the writer's own thread): an error there must reach the caller (whose
    transaction then rolls back), not be lost with the thread."""
    from quita.importing import service

    tenant_id = make_tenant(database)
    path = write_csv(tmp_path / "c.csv", [good_row(i) for i in range(1, 41)])
    real = service.write_ready
    threads: set[str] = set()
    debt_batches = 0

    def failing_second_debt_batch(connection: object, table: object, columns: object, rows: object) -> int:
        nonlocal debt_batches
        import threading

        threads.add(threading.current_thread().name)
        if getattr(table, "name", "") == "debts":
            debt_batches += 1
            if debt_batches == 2:
                raise RuntimeError("falha simulada no banco")
        return real(connection, table, columns, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "write_ready", failing_second_debt_batch)
    with pytest.raises(RuntimeError, match="falha simulada"):
        run(database, tenant_id, path, batch_size=10, workers=0)
    expected = "import-db" if database.url.startswith("postgresql") else "MainThread"
    assert threads and all(name.startswith(expected) for name in threads)
    assert (count(database, Debt), count(database, Debtor), count(database, ContactPoint)) == (0, 0, 0)
    monkeypatch.setattr(service, "write_ready", real)
    summary = run(database, tenant_id, path, batch_size=10, workers=0)
    assert (summary.read, summary.imported) == (40, 40) and count(database, Debt) == 40

"""Rows are written in the driver's form built on the parsing side (COPY text on PostgreSQL, tuples on
SQLite): every value must read back exactly, including text that COPY must escape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from quita.br.phones import normalise_phone
from quita.importing.service import import_file
from quita.kit.db import Database
from quita.kit.db.bulk import copy_line
from quita.portfolio.models import ContactPoint, Debt, Debtor
from tests.factories import make_tenant, write_csv

HEADER = ["id_titulo", "contrato", "parcela", "nome", "cpf_cnpj", "data_nascimento", "logradouro", "complemento",
          "cidade", "codigo_ibge", "uf", "cep", "telefone", "email", "produto", "vencimento", "valor", "multa_pct",
          "juros_mes_pct", "credor_original", "cnpj_credor_original", "etiquetas"]


def test_copy_line_escapes_only_what_copy_reads_specially() -> None:
    assert copy_line(("a", None, "b c")) == "a\t\\N\tb c\n"
    assert copy_line(("C:\\pasta", "x\ty", "\\N", None)) == "C:\\\\pasta\tx\\ty\t\\\\N\t\\N\n"
    assert copy_line(("linha\nnova", "r\r")) == "linha\\nnova\tr\\r\n"


def test_every_column_reads_back_exactly(database: Database, tmp_path: Path) -> None:
    tenant_id = make_tenant(database)
    row = ["T\\1", "C\\9", "3/12", "Ana \\ Beta", "529.982.247-25", "01/02/1980", "Rua \\ Um", "apto 3",
           "Campinas", "3509502", "SP", "13010-000", "(19) 98765-4321", "ana@example.com", "Cartão",
           "31/12/2026", "1.234.567,89", "2", "0,99", "Banco Antigo", "11.222.333/0001-81", "b, a|c"]
    path = write_csv(tmp_path / "c.csv", [row], HEADER)
    with database.transaction() as session:
        summary = import_file(session, tenant_id=tenant_id, path=path, actor="test", today=dt.date(2026, 11, 23))
    assert (summary.imported, summary.rejected) == (1, 0)
    with database.transaction() as session:
        debt = session.scalars(select(Debt)).one()
        debtor = session.scalars(select(Debtor)).one()
        contacts = {(c.kind, c.value, c.match_key, c.provenance, c.status) for c in session.scalars(select(ContactPoint))}
        assert (debt.external_id, debt.contract, debt.installment_number, debt.product) == ("T\\1", "C\\9", 3, "Cartão")
        assert (debt.principal, debt.due_date, debt.fine_rate, debt.interest_rate_monthly) == (
            Decimal("1234567.89"), dt.date(2026, 12, 31), Decimal("2"), Decimal("0.99"))
        assert (debt.original_creditor_name, debt.original_creditor_cnpj, debt.tags) == (
            "Banco Antigo", "11222333000181", ["a", "b", "c"])
        assert (debt.status, debt.currency, debt.tenant_id, debt.debtor_id) == ("open", "BRL", tenant_id, debtor.id)
        assert debt.created_at.tzinfo is not None and debt.created_at == debt.updated_at
        assert (debtor.name, debtor.document, debtor.document_kind, debtor.birth_date) == (
            "Ana \\ Beta", "52998224725", "cpf", dt.date(1980, 2, 1))
        assert (debtor.street, debtor.complement, debtor.city, debtor.ibge_code, debtor.uf, debtor.cep) == (
            "Rua \\ Um", "apto 3", "Campinas", "3509502", "SP", "13010000")
        assert (debtor.is_deceased, debtor.is_vulnerable, debtor.in_dispute) == (False, False, False)
        assert contacts == {("phone", "+5519987654321", normalise_phone("19987654321").match_key, "contract", "valid"),
                            ("email", "ana@example.com", None, "contract", "valid")}

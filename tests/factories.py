"""Small builders for tests: a tenant with a creditor, an API key, a portfolio file."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Sequence
from pathlib import Path

from quita.kit.db import Database
from quita.tenant import service as tenants
from quita.tenant.models import TenantKind

CREDITOR_CNPJ = "11222333000181"
HEADER = ["id_titulo", "contrato", "parcela", "nome", "cpf_cnpj", "data_nascimento", "cidade", "uf", "telefone",
          "email", "vencimento", "valor", "multa_pct", "juros_mes_pct"]


def make_tenant(database: Database, slug: str = "acme") -> uuid.UUID:
    with database.transaction() as session:
        tenant = tenants.create_tenant(session, slug=slug, name=f"Tenant {slug}", kind=TenantKind.CREDITOR,
                                       actor="test")
        tenants.add_creditor(session, tenant, legal_name=f"Credor {slug} S.A.", cnpj=CREDITOR_CNPJ,
                             address="Rua Um, 1, Centro", city="São Paulo", uf="SP", actor="test")
        return tenant.id


def make_api_key(database: Database, slug: str) -> str:
    with database.transaction() as session:
        _, key = tenants.create_api_key(session, tenants.get_tenant(session, slug), name="test", actor="test")
    return key


def write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER, *,
              delimiter: str = ";", encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def good_row(n: int, *, cpf: str = "529.982.247-25", name: str = "Maria da Silva", value: str = "1.234,56",
             due: str = "10/01/2026", phone: str = "(11) 98765-4321") -> list[str]:
    return [f"T{n}", "C1", str(n), name, cpf, "01/02/1980", "São Paulo", "SP", phone, "maria@example.com", due,
            value, "2,00", "1,00"]

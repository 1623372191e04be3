"""The form a valid row travels in from the parser to the writer, possibly across processes.

Plain tuples pickle several times faster than dataclasses, and everything per-row that does not
need the database — derived ids, conversion to the driver's form — happens here, on the parsing
side, so the process that holds the transaction does as little per row as possible.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, NamedTuple

from quita.importing.domain.rows import ParsedRow
from quita.kit.db.bulk import RowConverter
from quita.portfolio.domain import identity
from quita.portfolio.models import ContactPoint, Debt, Debtor

DEBTOR_COLUMNS = ("document", "name", "document_kind", "birth_date", "street", "number", "complement", "district",
                  "city", "uf", "cep", "ibge_code")
DEBT_COLUMNS = ("external_id", "contract", "installment_number", "product", "original_creditor_name",
                "original_creditor_cnpj", "principal", "due_date", "fine_rate", "interest_rate_monthly", "tags")
DEBTOR_INSERT_COLUMNS = ("id", *DEBTOR_COLUMNS)
DEBT_INSERT_COLUMNS = ("id", "debtor_id", "creditor_id", *DEBT_COLUMNS, "source_hash")
CONTACT_INSERT_COLUMNS = ("id", "debtor_id", "kind", "value", "match_key", "provenance")
ID_COLUMNS = ("id", "debtor_id", "creditor_id")


class PreparedRow(NamedTuple):
    row: int
    key64: int  # hash of the external id, for duplicate detection across the file
    external_id: str
    creditor_cnpj: str | None
    fingerprint: str
    debt_id: str  # 32 hex digits
    debtor_id: str
    debtor_db: tuple[Any, ...]  # DEBTOR_INSERT_COLUMNS, driver form
    contacts_db: tuple[tuple[Any, ...], ...]  # CONTACT_INSERT_COLUMNS each, driver form
    debt_db: tuple[Any, ...]  # DEBT_INSERT_COLUMNS, driver form
    debtor_py: tuple[Any, ...] | None  # DEBTOR_COLUMNS as Python values, only when rows may already exist
    debt_py: tuple[Any, ...] | None  # DEBT_COLUMNS as Python values, idem


def key64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class Preparer:
    """Turns parsed rows into prepared rows for one tenant and one database dialect."""

    def __init__(self, tenant_id: uuid.UUID, dialect_name: str, creditors: dict[str, str], default_creditor: str,
                 keep_python: bool) -> None:
        self.tenant = str(tenant_id)  # formatted once, not once per derived id
        self.creditors, self.default_creditor, self.keep_python = creditors, default_creditor, keep_python
        self._debtors: dict[str, str] = {}
        self._debtor = RowConverter(dialect_name, Debtor.__table__, DEBTOR_INSERT_COLUMNS, ID_COLUMNS)  # type: ignore[arg-type]
        self._debt = RowConverter(dialect_name, Debt.__table__, DEBT_INSERT_COLUMNS, ID_COLUMNS)  # type: ignore[arg-type]
        self._contact = RowConverter(dialect_name, ContactPoint.__table__, CONTACT_INSERT_COLUMNS, ID_COLUMNS)  # type: ignore[arg-type]

    def __call__(self, parsed: ParsedRow) -> tuple[Any, ...]:
        d, t = parsed.debtor, parsed.debt
        debtor_hex = self._debtors.get(d.document)
        if debtor_hex is None:
            if len(self._debtors) > 50_000:
                self._debtors.clear()
            debtor_hex = self._debtors[d.document] = identity.debtor_id_hex(self.tenant, d.document)
        debt_hex = identity.debt_id_hex(self.tenant, t.external_id)
        creditor = self.creditors.get(t.creditor_cnpj, self.default_creditor) if t.creditor_cnpj else self.default_creditor
        debtor_py = (d.document, d.name, d.document_kind, d.birth_date, d.street, d.number, d.complement, d.district,
                     d.city, d.uf, d.cep, d.ibge_code)
        debt_py = (t.external_id, t.contract, t.installment_number, t.product, t.original_creditor_name,
                   t.original_creditor_cnpj, t.principal, t.due_date, t.fine_rate, t.interest_rate_monthly,
                   list(t.tags) if t.tags else None)
        contacts = tuple(
            self._contact((identity.contact_id_hex(self.tenant, debtor_hex, c.kind, c.value), debtor_hex, c.kind,
                           c.value, c.match_key, c.provenance))
            for c in parsed.contacts
        )
        return (
            parsed.row, key64(t.external_id), t.external_id, t.creditor_cnpj, parsed.fingerprint, debt_hex, debtor_hex,
            self._debtor((debtor_hex, *debtor_py)), contacts,
            self._debt((debt_hex, debtor_hex, creditor, *debt_py, parsed.fingerprint)),
            debtor_py if self.keep_python else None, debt_py if self.keep_python else None,
        )

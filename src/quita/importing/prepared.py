"""The form a valid row travels in from the parser to the writer, possibly across processes.

Plain tuples pickle several times faster than dataclasses, and everything per-row that does not
need the database — derived ids, the complete row in the driver's form (a ``COPY`` text line on
PostgreSQL, a parameter tuple on SQLite, constants included) — happens here, on the parsing side,
so the process that holds the transaction only picks rows and ships them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any, NamedTuple

from quita.importing.domain.rows import ContactRecord, DebtorRecord, ParsedRow
from quita.kit.db.bulk import RowConverter, copy_line, copy_value
from quita.portfolio.domain import identity
from quita.portfolio.models import ContactPoint, Debt, Debtor

DEBTOR_COLUMNS = ("document", "name", "document_kind", "birth_date", "street", "number", "complement", "district",
                  "city", "uf", "cep", "ibge_code")
DEBT_COLUMNS = ("external_id", "contract", "installment_number", "product", "original_creditor_name",
                "original_creditor_cnpj", "principal", "due_date", "fine_rate", "interest_rate_monthly", "tags")
# The same for every row of an import: appended to each row by the parsing side.
DEBTOR_CONSTANTS = ("tenant_id", "created_at", "updated_at", "is_deceased", "is_vulnerable", "in_dispute")
CONTACT_CONSTANTS = ("tenant_id", "status", "created_at", "updated_at")
DEBT_CONSTANTS = ("tenant_id", "status", "currency", "import_job_id", "created_at", "updated_at")
DEBTOR_INSERT_COLUMNS = ("id", *DEBTOR_COLUMNS, *DEBTOR_CONSTANTS)
CONTACT_INSERT_COLUMNS = ("id", "debtor_id", "kind", "value", "match_key", "provenance", *CONTACT_CONSTANTS)
DEBT_INSERT_COLUMNS = ("id", "debtor_id", "creditor_id", *DEBT_COLUMNS, "source_hash", *DEBT_CONSTANTS)


class PreparedRow(NamedTuple):
    row: int
    key64: int  # first 64 bits of the debt id (a hash of the external id): duplicate detection across the file
    external_id: str
    creditor_cnpj: str | None
    fingerprint: str
    debt_id: str  # 32 hex digits
    debtor_id: str
    creditor_id: str
    debtor_db: Any  # DEBTOR_INSERT_COLUMNS: a COPY line (PostgreSQL) or a tuple (SQLite)
    contacts_db: tuple[tuple[str, Any], ...]  # (contact id, CONTACT_INSERT_COLUMNS row) each
    debt_db: Any  # DEBT_INSERT_COLUMNS, idem
    debtor_py: tuple[Any, ...] | None  # DEBTOR_COLUMNS as Python values, only when rows may already exist
    debt_py: tuple[Any, ...] | None  # DEBT_COLUMNS as Python values, idem


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _cents(value: Decimal) -> int:
    return int(value * 100)  # parse_brl returns exactly two places: what Money stores on SQLite


def _rate_sqlite(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")  # what Rate stores on SQLite


def _int_text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _tags(tags: tuple[str, ...] | None) -> str | None:
    return json.dumps(list(tags)) if tags else None


class Preparer:
    """Turns parsed rows into prepared rows for one tenant, one database dialect and one import."""

    def __init__(self, tenant_id: uuid.UUID, dialect_name: str, creditors: dict[str, str], default_creditor: str,
                 keep_python: bool, now: dt.datetime, job_id: uuid.UUID | None) -> None:
        self.tenant = str(tenant_id)  # formatted once, not once per derived id
        self.creditors, self.default_creditor, self.keep_python = creditors, default_creditor, keep_python
        self.postgres = dialect_name == "postgresql"
        constants = {"tenant_id": tenant_id, "created_at": now, "updated_at": now, "is_deceased": False,
                     "is_vulnerable": False, "in_dispute": False, "status": "open", "currency": "BRL",
                     "import_job_id": job_id}
        self._debtor_tail = self._constants(dialect_name, Debtor.__table__, DEBTOR_CONSTANTS, constants)
        self._debt_tail = self._constants(dialect_name, Debt.__table__, DEBT_CONSTANTS, constants)
        self._contact_tail = self._constants(dialect_name, ContactPoint.__table__, CONTACT_CONSTANTS,
                                             {**constants, "status": "valid"})
        self._debtors: dict[str, str] = {}
        # A debtor's rows are nearly always adjacent (often with the document masked differently, so the
        # records are equal, not identical): the debtor and contact part of the previous row is reused.
        self._last: tuple[DebtorRecord, tuple[ContactRecord, ...], str, Any, tuple[tuple[str, Any], ...]] | None = None

    def _constants(self, dialect_name: str, table: Any, names: tuple[str, ...], values: dict[str, Any]) -> tuple[Any, ...]:
        converted = RowConverter(dialect_name, table, names)(tuple(values[n] for n in names))
        return tuple(copy_value(v) for v in converted) if self.postgres else converted

    def _debtor_part(self, d: DebtorRecord, contacts: tuple[ContactRecord, ...]) -> tuple[str, Any, tuple[tuple[str, Any], ...]]:
        last = self._last
        if last is not None and last[0] == d and last[1] == contacts:
            return last[2], last[3], last[4]
        debtor_hex = self._debtors.get(d.document)
        if debtor_hex is None:
            if len(self._debtors) > 50_000:
                self._debtors.clear()
            debtor_hex = self._debtors[d.document] = identity.debtor_id_hex(self.tenant, d.document)
        contact_hexes = [identity.contact_id_hex(self.tenant, debtor_hex, c.kind, c.value) for c in contacts]
        debtor_db, contacts_db = self.debtor_rows(d, contacts, debtor_hex, contact_hexes)
        self._last = (d, contacts, debtor_hex, debtor_db, contacts_db)
        return self._last[2:]

    def debtor_rows(self, d: DebtorRecord, contacts: tuple[ContactRecord, ...], debtor_hex: str,
                    contact_hexes: list[str]) -> tuple[Any, tuple[tuple[str, Any], ...]]:
        """A debtor's row and its contacts' rows in the driver's form, from ids already derived."""
        values = (debtor_hex, d.document, d.name, d.document_kind, _iso(d.birth_date), d.street, d.number,
                  d.complement, d.district, d.city, d.uf, d.cep, d.ibge_code)
        debtor_db = copy_line((*values, *self._debtor_tail)) if self.postgres else (*values, *self._debtor_tail)
        contacts_db = []
        for c, contact_hex in zip(contacts, contact_hexes, strict=True):
            row = (contact_hex, debtor_hex, c.kind, c.value, c.match_key, c.provenance, *self._contact_tail)
            contacts_db.append((contact_hex, copy_line(row) if self.postgres else row))
        return debtor_db, tuple(contacts_db)

    def creditor_of(self, cnpj: str | None) -> str:
        """The creditor id (hex) a row's creditor CNPJ selects; unknown ones are rejected by the writer."""
        return self.creditors.get(cnpj, self.default_creditor) if cnpj else self.default_creditor

    def __call__(self, parsed: ParsedRow) -> tuple[Any, ...]:
        d, t = parsed.debtor, parsed.debt
        debtor_hex, debtor_db, contacts_db = self._debtor_part(d, parsed.contacts)
        debt_hex = identity.debt_id_hex(self.tenant, t.external_id)
        creditor = self.creditor_of(t.creditor_cnpj)
        debt_db: Any
        if self.postgres:
            debt_db = copy_line((
                debt_hex, debtor_hex, creditor, t.external_id, t.contract, _int_text(t.installment_number), t.product,
                t.original_creditor_name, t.original_creditor_cnpj, str(t.principal), t.due_date.isoformat(),
                _decimal_text(t.fine_rate), _decimal_text(t.interest_rate_monthly), _tags(t.tags), parsed.fingerprint,
                *self._debt_tail,
            ))
        else:
            debt_db = (
                debt_hex, debtor_hex, creditor, t.external_id, t.contract, t.installment_number, t.product,
                t.original_creditor_name, t.original_creditor_cnpj, _cents(t.principal), t.due_date.isoformat(),
                _rate_sqlite(t.fine_rate), _rate_sqlite(t.interest_rate_monthly), _tags(t.tags), parsed.fingerprint,
                *self._debt_tail,
            )
        debtor_py = debt_py = None
        if self.keep_python:
            debtor_py = (d.document, d.name, d.document_kind, d.birth_date, d.street, d.number, d.complement,
                         d.district, d.city, d.uf, d.cep, d.ibge_code)
            debt_py = (t.external_id, t.contract, t.installment_number, t.product, t.original_creditor_name,
                       t.original_creditor_cnpj, t.principal, t.due_date, t.fine_rate, t.interest_rate_monthly,
                       list(t.tags) if t.tags else None)
        # The debt id is already a keyed hash of (tenant, external id): its first 64 bits serve as the
        # duplicate-detection key, no second hash per row.
        return (parsed.row, int(debt_hex[:16], 16), t.external_id, t.creditor_cnpj, parsed.fingerprint, debt_hex,
                debtor_hex, creditor, debtor_db, contacts_db, debt_db, debtor_py, debt_py)

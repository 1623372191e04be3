"""Portfolio import: stream, validate, write set-based in batches, report every bad row.

The whole file is one unit of work: valid rows are committed together with the import's audit
event by the caller, rejected rows go to the error report, and a file that is not a portfolio
imports nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.importing.domain.columns import ColumnMap, resolve_columns
from quita.importing.domain.rows import DebtorRecord, DebtRecord, ParsedRow, RowError, RowParser
from quita.importing.report import ErrorReport, report_path_for
from quita.importing.sources import open_source
from quita.kit.db import utcnow
from quita.kit.db.bulk import bulk_insert
from quita.kit.errors import InvalidInput
from quita.portfolio.domain import identity
from quita.portfolio.models import ContactPoint, Debt, Debtor
from quita.tenant import service as tenants

Progress = Callable[[int, int], None]

DEBTOR_FIELDS = ("name", "document_kind", "birth_date", "street", "number", "complement", "district", "city",
                 "uf", "cep", "ibge_code")
DEBT_FIELDS = ("debtor_id", "contract", "installment_number", "product", "creditor_id", "original_creditor_name",
               "original_creditor_cnpj", "principal", "due_date", "fine_rate", "interest_rate_monthly", "tags")


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    blank: int = 0
    error_report: Path | None = None
    ignored_columns: tuple[str, ...] = ()
    source_kind: str = ""
    encoding: str | None = None
    seconds: float = 0.0
    creditors: dict[str, uuid.UUID] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("creditors")
        data["error_report"] = str(self.error_report) if self.error_report else None
        return data


def _key64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


DEBT_INSERT_COLUMNS = ("id", "debtor_id", "external_id", "contract", "installment_number", "product",
                       "creditor_id", "original_creditor_name", "original_creditor_cnpj", "principal", "due_date",
                       "fine_rate", "interest_rate_monthly", "tags", "source_hash")
DEBTOR_INSERT_COLUMNS = ("id", "document", *DEBTOR_FIELDS)
CONTACT_INSERT_COLUMNS = ("id", "debtor_id", "kind", "value", "match_key", "provenance")


class _BatchWriter:
    """Writes one batch of parsed rows with a handful of set-based statements.

    When the tenant had no portfolio when the import started, nothing can exist but what this import
    wrote, so the "does it exist?" queries are answered from memory (64-bit keys) instead of the database.
    """

    def __init__(self, session: Session, tenant_id: uuid.UUID, actor: str, job_id: uuid.UUID | None,
                 summary: ImportSummary, default_creditor: uuid.UUID) -> None:
        self.session, self.tenant_id, self.actor, self.job_id = session, tenant_id, actor, job_id
        self.summary, self.default_creditor = summary, default_creditor
        self.connection = session.connection()
        self._debtor_ids: dict[str, uuid.UUID] = {}
        self.fresh = session.scalar(select(Debtor.id).where(Debtor.tenant_id == tenant_id).limit(1)) is None
        self._written_debtors: set[int] = set()
        self._written_contacts: set[int] = set()

    def _debtor_id(self, document: str) -> uuid.UUID:
        found = self._debtor_ids.get(document)
        if found is None:
            if len(self._debtor_ids) > 100_000:
                self._debtor_ids.clear()
            found = self._debtor_ids[document] = identity.debtor_id(self.tenant_id, document)
        return found

    def _creditor_for(self, debt: DebtRecord) -> uuid.UUID:
        if debt.creditor_cnpj is None:
            return self.default_creditor
        return self.summary.creditors[debt.creditor_cnpj]

    def write(self, rows: list[ParsedRow]) -> None:
        now = utcnow()
        tid = self.tenant_id
        debt_ids = [identity.debt_id(tid, r.debt.external_id) for r in rows]
        existing: dict[uuid.UUID, Any] = {}
        if not self.fresh:
            existing = {
                row.id: row
                for row in self.connection.execute(
                    select(Debt.id, Debt.source_hash, *(getattr(Debt, f) for f in DEBT_FIELDS)).where(
                        Debt.tenant_id == tid, Debt.id.in_(debt_ids)
                    )
                )
            }
        changed_rows: list[tuple[uuid.UUID, ParsedRow]] = []
        new_rows: list[tuple[uuid.UUID, ParsedRow]] = []
        for debt_id, row in zip(debt_ids, rows, strict=True):
            old = existing.get(debt_id)
            if old is None:
                new_rows.append((debt_id, row))
            elif old.source_hash == row.fingerprint:
                self.summary.unchanged += 1
            else:
                changed_rows.append((debt_id, row))
        touched = [r for _, r in new_rows] + [r for _, r in changed_rows]
        if not touched:
            return
        self._write_debtors(touched, now)
        self._write_contacts(touched, now)
        if new_rows:
            bulk_insert(
                self.connection, Debt.__table__, DEBT_INSERT_COLUMNS,  # type: ignore[arg-type]
                (self._debt_tuple(debt_id, row) for debt_id, row in new_rows),
                {"tenant_id": tid, "status": "open", "currency": "BRL", "import_job_id": self.job_id,
                 "created_at": now, "updated_at": now},
            )
            self.summary.imported += len(new_rows)
        events = []
        for debt_id, row in changed_rows:
            values = dict(zip(DEBT_INSERT_COLUMNS, self._debt_tuple(debt_id, row), strict=True))
            del values["id"]
            old = existing[debt_id]
            before = {f: getattr(old, f) for f in DEBT_FIELDS if getattr(old, f) != values[f]}
            after = {f: values[f] for f in before}
            self.connection.execute(
                update(Debt).where(Debt.id == debt_id).values(**values, import_job_id=self.job_id, updated_at=now)
            )
            if before:
                events.append(self._event("debt.updated_by_import", "debt", debt_id, before, after, row.row))
                self.summary.updated += 1
            else:  # same facts written differently (masks, formatting): nothing changed but the fingerprint
                self.summary.unchanged += 1
        audit.record_many(self.session, events)

    def _debt_tuple(self, debt_id: uuid.UUID, row: ParsedRow) -> tuple[Any, ...]:
        d = row.debt
        return (
            debt_id, self._debtor_id(row.debtor.document), d.external_id, d.contract, d.installment_number,
            d.product, self._creditor_for(d), d.original_creditor_name, d.original_creditor_cnpj, d.principal,
            d.due_date, d.fine_rate, d.interest_rate_monthly, list(d.tags) if d.tags else None, row.fingerprint,
        )

    def _event(self, action: str, entity: str, entity_id: uuid.UUID, before: Mapping[str, Any],
               after: Mapping[str, Any], row: int) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "actor": self.actor, "action": action, "entity_type": entity,
                "entity_id": entity_id, "before": before, "after": {**after, "_import_row": row}}

    def _existing(self, model: Any, ids: list[uuid.UUID], written: set[int], columns: tuple[Any, ...]) -> dict[Any, Any]:
        if self.fresh:
            return {i: None for i in ids if (i.int >> 64) in written}
        return {r.id: r for r in self.connection.execute(
            select(model.id, *columns).where(model.tenant_id == self.tenant_id, model.id.in_(ids)))}

    def _write_debtors(self, rows: list[ParsedRow], now: dt.datetime) -> None:
        latest: dict[uuid.UUID, tuple[DebtorRecord, int]] = {}
        for row in rows:
            latest[self._debtor_id(row.debtor.document)] = (row.debtor, row.row)
        existing = self._existing(Debtor, list(latest), self._written_debtors,
                                  tuple(getattr(Debtor, f) for f in DEBTOR_FIELDS))
        inserts = []
        events = []
        for debtor_id, (record, row_number) in latest.items():
            key = debtor_id.int >> 64
            if debtor_id not in existing:
                inserts.append((debtor_id, record.document, *(getattr(record, f) for f in DEBTOR_FIELDS)))
                self._written_debtors.add(key)
                continue
            old = existing[debtor_id]
            if old is None or key in self._written_debtors:
                continue  # written earlier in this very import: the first row of a debtor wins
            self._written_debtors.add(key)
            before = {f: getattr(old, f) for f in DEBTOR_FIELDS if getattr(old, f) != getattr(record, f)}
            if before:
                after = {f: getattr(record, f) for f in before}
                self.connection.execute(update(Debtor).where(Debtor.id == debtor_id).values(**after, updated_at=now))
                events.append(self._event("debtor.updated_by_import", "debtor", debtor_id, before, after, row_number))
        bulk_insert(self.connection, Debtor.__table__, DEBTOR_INSERT_COLUMNS, inserts,  # type: ignore[arg-type]
                    {"tenant_id": self.tenant_id, "created_at": now, "updated_at": now, "is_deceased": False,
                     "is_vulnerable": False, "in_dispute": False})
        audit.record_many(self.session, events)

    def _write_contacts(self, rows: list[ParsedRow], now: dt.datetime) -> None:
        """Contacts are only ever added by an import: status, opt-out and WhatsApp identity are
        learnt by Quita and must not be overwritten by a creditor's file."""
        wanted: dict[uuid.UUID, tuple[Any, ...]] = {}
        for row in rows:
            debtor_id = self._debtor_id(row.debtor.document)
            for c in row.contacts:
                cid = identity.contact_id(self.tenant_id, debtor_id, c.kind, c.value)
                wanted[cid] = (cid, debtor_id, c.kind, c.value, c.match_key, c.provenance)
        if not wanted:
            return
        present = self._existing(ContactPoint, list(wanted), self._written_contacts, ())
        inserts = [v for k, v in wanted.items() if k not in present]
        for v in inserts:
            self._written_contacts.add(v[0].int >> 64)
        bulk_insert(self.connection, ContactPoint.__table__, CONTACT_INSERT_COLUMNS, inserts,  # type: ignore[arg-type]
                    {"tenant_id": self.tenant_id, "status": "valid", "created_at": now, "updated_at": now})


def import_file(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    path: Path,
    actor: str,
    creditor_cnpj: str | None = None,
    mapping: Mapping[str, str] | None = None,
    job_id: uuid.UUID | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    batch_size: int = 5000,
) -> ImportSummary:
    """Imports ``path`` into the session's transaction. Raises ``NotAPortfolio`` before writing
    anything when the file as a whole is unusable; the caller commits."""
    started = time.perf_counter()
    today = today or dt.date.today()
    default_creditor = tenants.find_creditor(session, tenant_id, creditor_cnpj)
    summary = ImportSummary()
    summary.creditors = {c.cnpj: c.id for c in tenants.list_creditors(session, tenant_id)}
    source = open_source(path)
    try:
        cmap = resolve_columns(source.header, mapping)
        summary.ignored_columns = cmap.ignored
        summary.source_kind, summary.encoding = source.kind, source.encoding
        writer = _BatchWriter(session, tenant_id, actor, job_id, summary, default_creditor.id)
        seen: dict[int, int] = {}
        parser = RowParser(cmap, today=today)
        batch: list[ParsedRow] = []
        next_progress = 0
        with ErrorReport(report_path_for(path)) as report:
            for number, cells in source.rows:
                if not any(cell.strip() for cell in cells):
                    summary.blank += 1
                    continue
                summary.read += 1
                parsed = parser.parse(cells, number)
                if isinstance(parsed, list):
                    summary.rejected += 1
                    report.add(parsed)
                    continue
                problem = _cross_row_problem(parsed, seen, summary, cmap)
                if problem is not None:
                    summary.rejected += 1
                    report.add([problem])
                    continue
                batch.append(parsed)
                if len(batch) >= batch_size:
                    writer.write(batch)
                    batch = []
                if progress is not None and summary.read >= next_progress:
                    progress(source.position(), source.total)
                    next_progress = summary.read + 2000
            if batch:
                writer.write(batch)
            summary.error_report = report.publish()
        if progress is not None:
            progress(source.total, source.total)
    finally:
        source.close()
    summary.seconds = time.perf_counter() - started
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="import.completed", entity_type="import_job",
        entity_id=job_id, after={"file": path.name} | {k: v for k, v in summary.as_dict().items() if k != "seconds"},
    )
    return summary


def _cross_row_problem(
    row: ParsedRow, seen: dict[int, int], summary: ImportSummary, cmap: ColumnMap
) -> RowError | None:
    """Checks that need other rows or the tenant's registry: duplicate ids, unknown creditors."""
    key = _key64(row.debt.external_id)
    first = seen.get(key)
    if first is not None:
        column = cmap.header_of("external_id" if "external_id" in cmap.fields else "contract")
        return RowError(row.row, column, row.debt.external_id,
                        f"identificador do título repetido no arquivo (primeira ocorrência na linha {first})")
    seen[key] = row.row
    cnpj = row.debt.creditor_cnpj
    if cnpj is not None and cnpj not in summary.creditors:
        return RowError(row.row, cmap.header_of("creditor_cnpj"), cnpj, "credor não cadastrado neste tenant")
    return None


def validate_mapping(data: Any) -> dict[str, str]:
    """An explicit mapping file: ``{"columns": {"Header in file": "field"}}`` (JSON or YAML)."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise InvalidInput('arquivo de mapeamento inválido: esperado {"columns": {"cabeçalho": "campo"}}',
                           code="invalid_mapping")
    return dict(columns)

"""Portfolio import: stream, validate, write set-based in batches, report every bad row.

The whole file is one unit of work: valid rows are committed together with the import's audit
event by the caller, rejected rows go to the error report, and a file that is not a portfolio
imports nothing.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.importing.domain.columns import ColumnMap, resolve_columns
from quita.importing.domain.rows import RowError
from quita.importing.keyset import KeySet
from quita.importing.pipeline import parsed_chunks
from quita.importing.prepared import (
    CONTACT_INSERT_COLUMNS,
    DEBT_COLUMNS,
    DEBT_INSERT_COLUMNS,
    DEBTOR_COLUMNS,
    DEBTOR_INSERT_COLUMNS,
    PreparedRow,
)
from quita.importing.report import ErrorReport, report_path_for
from quita.importing.sources import open_source
from quita.kit.db import utcnow
from quita.kit.db.bulk import write_ready
from quita.kit.errors import InvalidInput
from quita.portfolio.models import ContactPoint, Debt, Debtor
from quita.tenant import service as tenants

Progress = Callable[[int, int], None]
# Fields of a prepared row (see PreparedRow), read without building a NamedTuple per row.
_ROW, _KEY64, _CREDITOR_CNPJ = itemgetter(0), itemgetter(1), itemgetter(3)
_DEBTOR_ID, _CONTACTS_DB, _DEBT_DB = itemgetter(6), itemgetter(9), itemgetter(10)

# Fields compared when a known debtor or debt arrives with a different fingerprint.
DEBTOR_FIELDS = DEBTOR_COLUMNS[1:]
DEBT_FIELDS = ("debtor_id", "creditor_id", *DEBT_COLUMNS[1:])


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


class _BatchWriter:
    """Writes one batch of prepared rows with a handful of set-based statements.

    When the tenant had no portfolio when the import started, nothing can exist but what this import
    wrote, so the "does it exist?" queries are answered from memory instead of the database.
    """

    def __init__(self, session: Session, tenant_id: uuid.UUID, actor: str, job_id: uuid.UUID | None,
                 summary: ImportSummary, now: dt.datetime) -> None:
        self.session, self.tenant_id, self.actor, self.job_id = session, tenant_id, actor, job_id
        self.now = now  # the rows' created_at / updated_at, written by the parsing side too
        self.summary = summary
        self.connection = session.connection()
        self.fresh = session.scalar(select(Debtor.id).where(Debtor.tenant_id == tenant_id).limit(1)) is None
        # Debtors inserted or updated and contacts inserted by this import, as 64-bit keys.
        self._debtors_touched = KeySet()
        self._contacts_written = KeySet()
        # A first load only inserts, and decides what to insert from memory: on PostgreSQL the inserts of
        # one batch run on a database thread while this one picks the next batch (the server works, the
        # driver waits without the GIL). One batch at a time, in order; its failure surfaces at the next
        # flush(). Not on SQLite: the engine runs in this process, so there is no wait to overlap, only
        # CPU work moved to a thread that competes with the validation processes for the same cores (and a
        # 1,000,000-row run with it peaked a few MB higher: 314 against 308 MB).
        threaded = self.fresh and self.connection.dialect.name == "postgresql"
        self._inserter = ThreadPoolExecutor(1, thread_name_prefix="import-db") if threaded else None
        self._pending: Future[None] | None = None

    def flush(self) -> None:
        """Waits for the batch in flight, re-raising its error; the connection is this thread's again."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Waits for the batch in flight (without raising: the caller is raising already, or flushed)."""
        if self._pending is not None:
            wait([self._pending])
            self._pending = None
        if self._inserter is not None:
            self._inserter.shutdown()

    def _insert(self, debtors: list[Any], contacts: list[Any], debts: list[Any]) -> None:
        write_ready(self.connection, Debtor.__table__, DEBTOR_INSERT_COLUMNS, debtors)  # type: ignore[arg-type]
        write_ready(self.connection, ContactPoint.__table__, CONTACT_INSERT_COLUMNS, contacts)  # type: ignore[arg-type]
        write_ready(self.connection, Debt.__table__, DEBT_INSERT_COLUMNS, debts)  # type: ignore[arg-type]

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        now = self.now
        existing: dict[str, Any] = {}
        if self.fresh:  # nothing existed before this import, and its own rows are never repeated
            new_rows: list[Any] = rows
            changed_rows: list[PreparedRow] = []
        else:
            prepared = [PreparedRow._make(r) for r in rows]
            existing = {
                r.id.hex: r
                for r in self.connection.execute(
                    select(Debt.id, Debt.source_hash, *(getattr(Debt, f) for f in DEBT_FIELDS)).where(
                        Debt.tenant_id == self.tenant_id, Debt.id.in_([uuid.UUID(p.debt_id) for p in prepared])
                    )
                )
            }
            new_rows, changed_rows = [], []
            for row in prepared:
                old = existing.get(row.debt_id)
                if old is None:
                    new_rows.append(row)
                elif old.source_hash == row.fingerprint:
                    self.summary.unchanged += 1
                else:
                    changed_rows.append(row)
        touched = new_rows + changed_rows
        if not touched:
            return
        debtors = self._debtors_to_insert(touched, now)
        contacts = self._contacts_to_insert(touched)
        debts = list(map(_DEBT_DB, new_rows))
        self.summary.imported += len(new_rows)
        if self._inserter is not None:
            self.flush()
            self._pending = self._inserter.submit(self._insert, debtors, contacts, debts)
            return
        self._insert(debtors, contacts, debts)
        events = []
        for row in changed_rows:
            assert row.debt_py is not None
            values = dict(zip(DEBT_COLUMNS, row.debt_py, strict=True))
            del values["external_id"]
            values["debtor_id"] = uuid.UUID(row.debtor_id)
            values["creditor_id"] = uuid.UUID(row.creditor_id)
            old = existing[row.debt_id]
            before = {f: getattr(old, f) for f in DEBT_FIELDS if getattr(old, f) != values[f]}
            after = {f: values[f] for f in before}
            debt_id = uuid.UUID(row.debt_id)
            self.connection.execute(
                update(Debt).where(Debt.id == debt_id).values(
                    **values, source_hash=row.fingerprint, import_job_id=self.job_id, updated_at=now
                )
            )
            if before:
                events.append(self._event("debt.updated_by_import", "debt", debt_id, before, after, row.row))
                self.summary.updated += 1
            else:  # same facts written differently (masks, formatting): nothing changed but the fingerprint
                self.summary.unchanged += 1
        audit.record_many(self.session, events)

    def _event(self, action: str, entity: str, entity_id: uuid.UUID, before: Mapping[str, Any],
               after: Mapping[str, Any], row: int) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "actor": self.actor, "action": action, "entity_type": entity,
                "entity_id": entity_id, "before": before, "after": {**after, "_import_row": row}}

    def _debtors_to_insert(self, rows: list[Any], now: dt.datetime) -> list[Any]:
        """The new debtors' rows; known debtors whose facts changed are updated (with an audit event)."""
        ids = list(map(_DEBTOR_ID, rows))
        first: dict[str, Any] = dict.fromkeys(ids)  # in file order; the first row of a debtor in the file wins
        first.update(zip(reversed(ids), reversed(rows), strict=True))
        touched = self._debtors_touched
        keys = [int(h[:16], 16) for h in first]
        latest = {h: row for (h, row), key, old in zip(first.items(), keys, touched.settled(keys), strict=True)
                  if not old and key not in touched}
        if not latest:
            return []
        existing: dict[str, Any] = {}
        if not self.fresh:
            existing = {
                r.id.hex: r
                for r in self.connection.execute(
                    select(Debtor.id, *(getattr(Debtor, f) for f in DEBTOR_FIELDS)).where(
                        Debtor.tenant_id == self.tenant_id, Debtor.id.in_([uuid.UUID(h) for h in latest])
                    )
                )
            }
        inserts = []
        events = []
        for debtor_hex, row in latest.items():
            touched.add(int(debtor_hex[:16], 16))
            old = existing.get(debtor_hex)
            if old is None:
                inserts.append(row[8])  # PreparedRow.debtor_db
                continue
            row = PreparedRow._make(row)
            assert row.debtor_py is not None
            new = dict(zip(DEBTOR_COLUMNS, row.debtor_py, strict=True))
            before = {f: getattr(old, f) for f in DEBTOR_FIELDS if getattr(old, f) != new[f]}
            if before:
                after = {f: new[f] for f in before}
                debtor_id = uuid.UUID(debtor_hex)
                self.connection.execute(update(Debtor).where(Debtor.id == debtor_id).values(**after, updated_at=now))
                events.append(self._event("debtor.updated_by_import", "debtor", debtor_id, before, after, row.row))
        touched.settle()
        audit.record_many(self.session, events)
        return inserts

    def _contacts_to_insert(self, rows: list[Any]) -> list[Any]:
        """Contacts are only ever added by an import: status, opt-out and WhatsApp identity are
        learnt by Quita and must not be overwritten by a creditor's file."""
        candidates: dict[str, Any] = dict(chain.from_iterable(map(_CONTACTS_DB, rows)))  # the last row wins
        written = self._contacts_written
        keys = [int(h[:16], 16) for h in candidates]
        wanted = {h: c for (h, c), key, old in zip(candidates.items(), keys, written.settled(keys), strict=True)
                  if not old and key not in written}
        if not wanted:
            return []
        if not self.fresh:
            present = {
                i.hex
                for i in self.connection.scalars(
                    select(ContactPoint.id).where(
                        ContactPoint.tenant_id == self.tenant_id,
                        ContactPoint.id.in_([uuid.UUID(h) for h in wanted]),
                    )
                )
            }
            for key in present:
                del wanted[key]
        for key in wanted:
            written.add(int(key[:16], 16))
        written.settle()
        return list(wanted.values())


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
    workers: int | None = None,
) -> ImportSummary:
    """Imports ``path`` into the session's transaction. Raises ``NotAPortfolio`` before writing
    anything when the file as a whole is unusable; the caller commits."""
    started = time.perf_counter()
    today = today or dt.date.today()
    default_creditor = tenants.find_creditor(session, tenant_id, creditor_cnpj)
    summary = ImportSummary()
    summary.creditors = {c.cnpj: c.id for c in tenants.list_creditors(session, tenant_id)}
    source = open_source(path)
    closing: list[Callable[[], None]] = []
    try:
        cmap = resolve_columns(source.header, mapping)
        summary.ignored_columns = cmap.ignored
        summary.source_kind, summary.encoding = source.kind, source.encoding
        now = utcnow()
        writer = _BatchWriter(session, tenant_id, actor, job_id, summary, now)
        closing.append(writer.close)
        preparer = {
            "tenant_id": tenant_id, "dialect_name": session.get_bind().dialect.name,
            "creditors": {cnpj: cid.hex for cnpj, cid in summary.creditors.items()},
            "default_creditor": default_creditor.id.hex, "keep_python": not writer.fresh, "now": now, "job_id": job_id,
        }
        seen = _SeenIds()
        with ErrorReport(report_path_for(path)) as report:
            chunks = parsed_chunks(source, cmap, today=today, preparer=preparer, workers=workers, chunk_rows=batch_size)
            for chunk in chunks:
                summary.read += chunk.read
                summary.blank += chunk.blank
                summary.rejected += len(chunk.errors)
                rejected_rows = [(errs[0].row, errs) for errs in chunk.errors]
                keys = list(map(_KEY64, chunk.rows))
                settled = seen.settled(keys)
                if seen.all_new(keys, settled) and _creditors_known(chunk.rows, summary):
                    accepted = chunk.rows  # the common case, decided for the whole chunk at once
                    seen.add_many(keys, map(_ROW, chunk.rows))
                else:
                    accepted = []
                    for row, was_settled in zip(chunk.rows, settled, strict=True):
                        problem = _cross_row_problem(row, was_settled, seen, summary, cmap)
                        if problem is None:
                            accepted.append(row)
                        else:
                            summary.rejected += 1
                            rejected_rows.append((problem.row, [problem]))
                for _, errs in sorted(rejected_rows, key=lambda item: item[0]):
                    report.add(errs)
                seen.settle()
                writer.write(accepted)
                if progress is not None:
                    progress(source.position(), source.total)
            writer.flush()  # every row written before the report is published
            summary.error_report = report.publish()
        if progress is not None:
            progress(source.total, source.total)
    finally:
        for close in closing:
            close()
        source.close()
    summary.seconds = time.perf_counter() - started
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="import.completed", entity_type="import_job",
        entity_id=job_id, after={"file": path.name} | {k: v for k, v in summary.as_dict().items() if k != "seconds"},
    )
    return summary


class _SeenIds:
    """External ids already read, in bounded memory: every id as a 64-bit key, and the row number of
    the most recent ones (duplicates are nearly always close to their first occurrence)."""

    RECENT = 50_000  # a row number costs ~100 bytes of dict here; a repeat farther back is still caught

    def __init__(self) -> None:
        self._all = KeySet()
        self._recent: dict[int, int] = {}

    def settled(self, keys: list[int]) -> list[bool]:
        return self._all.settled(keys)

    def settle(self) -> None:
        """Between chunks only: see ``KeySet``."""
        self._all.settle()

    def first_row(self, key: int, settled: bool) -> int | None:
        """The row where ``key`` was first seen, 0 when seen too long ago to remember, None if new.
        ``settled`` is this key's answer from ``settled()`` for the current chunk."""
        if not settled and key not in self._all:
            return None
        return self._recent.get(key, 0)

    def add(self, key: int, row: int) -> None:
        self._all.add(key)
        self._recent[key] = row
        if len(self._recent) > self.RECENT:
            del self._recent[next(iter(self._recent))]

    def all_new(self, keys: list[int], settled: list[bool]) -> bool:
        """Whether none of ``keys`` was seen before and none repeats among them."""
        distinct = set(keys)
        return len(distinct) == len(keys) and not any(settled) and self._all.unsettled_disjoint(distinct)

    def add_many(self, keys: list[int], rows: Iterable[int]) -> None:
        """``add`` for keys that ``all_new`` accepted."""
        self._all.update(keys)
        self._recent.update(zip(keys, rows, strict=False))
        if len(self._recent) > self.RECENT + self.RECENT // 4:  # keep the most recent RECENT, trimmed in one go
            self._recent = dict(list(self._recent.items())[-self.RECENT:])


def _creditors_known(rows: list[tuple[Any, ...]], summary: ImportSummary) -> bool:
    cnpjs = set(map(_CREDITOR_CNPJ, rows))
    cnpjs.discard(None)
    return cnpjs.issubset(summary.creditors)


def _cross_row_problem(
    prepared: tuple[Any, ...], settled: bool, seen: _SeenIds, summary: ImportSummary, cmap: ColumnMap
) -> RowError | None:
    """Checks that need other rows or the tenant's registry: duplicate ids, unknown creditors."""
    number, key = prepared[0], prepared[1]  # PreparedRow.row, .key64 (no NamedTuple built per row)
    first = seen.first_row(key, settled)
    if first is not None:
        row = PreparedRow._make(prepared)
        column = cmap.header_of("external_id" if "external_id" in cmap.fields else "contract")
        where = f" (primeira ocorrência na linha {first})" if first else ""
        return RowError(row.row, column, row.external_id, f"identificador do título repetido no arquivo{where}")
    seen.add(key, number)
    cnpj = prepared[3]  # PreparedRow.creditor_cnpj
    if cnpj is not None and cnpj not in summary.creditors:
        return RowError(number, cmap.header_of("creditor_cnpj"), cnpj, "credor não cadastrado neste tenant")
    return None


def validate_mapping(data: Any) -> dict[str, str]:
    """An explicit mapping file: ``{"columns": {"Header in file": "field"}}`` (JSON or YAML)."""
    columns = data.get("columns") if isinstance(data, dict) else None
    if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
        raise InvalidInput('arquivo de mapeamento inválido: esperado {"columns": {"cabeçalho": "campo"}}',
                           code="invalid_mapping")
    return dict(columns)

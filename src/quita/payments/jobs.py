"""Background work of payments: importing CNAB returns dropped in a folder (a bank's SFTP drop, or the PSP
simulator's ``--cnab-dir`` in the demo).

Scanning a folder again is safe: a return is unique per tenant by the hash of its content, so a file seen
twice credits nothing twice. Each file is its own transaction: one malformed file does not block the others.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quita.kit.db import Database
from quita.kit.jobs import job
from quita.payments.domain.cnab_return import CnabError
from quita.payments.reconciliation import ImportResult, import_return

log = logging.getLogger("quita.payments.jobs")
IMPORT_RETURNS = "payments.import_returns"
PATTERNS = ("*.ret", "*.RET", "*.crt", "*.CRT", "*.txt")


@dataclass
class FolderScan:
    imported: list[ImportResult]
    already_imported: int
    failed: dict[str, str]


def import_folder(
    database: Database, tenant_id: uuid.UUID, folder: Path, *, actor: str = "job:cnab-folder"
) -> FolderScan:
    scan = FolderScan(imported=[], already_imported=0, failed={})
    files = sorted({p for pattern in PATTERNS for p in folder.glob(pattern) if p.is_file()})
    for path in files:
        try:
            with database.transaction() as session:
                result = import_return(session, tenant_id, path.read_bytes(), filename=path.name, actor=actor)
        except (CnabError, OSError) as exc:
            scan.failed[path.name] = str(exc)
            log.warning("retorno %s não importado: %s", path.name, exc)
            continue
        if result.already_imported:
            scan.already_imported += 1
        else:
            scan.imported.append(result)
    return scan


@job(IMPORT_RETURNS)
def run_import_returns(database: Any, payload: dict[str, Any]) -> None:
    """Payload: ``{"tenant_id": UUID string, "folder": path}``."""
    import_folder(database, uuid.UUID(payload["tenant_id"]), Path(payload["folder"]))

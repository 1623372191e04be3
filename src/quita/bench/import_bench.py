"""``quita bench import``: rows/s, peak RSS and CPU per process of a portfolio import, next to a plain csv baseline.

Each case runs in a fresh child process, so the peak RSS of one does not leak into another and the
baseline (read the same CSV with the csv module, nothing else) is measured in the same run as the
import, on the same file, on the same (possibly noisy) machine.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import resource
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class CaseResult:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float
    detail: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _baseline(path: str, queue: Any) -> None:
    started = time.perf_counter()
    rows = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle, delimiter=";"):
            rows += 1
    queue.put(CaseResult("baseline: csv.reader", rows - 1, time.perf_counter() - started, _peak_rss_mb()))


def _import(name: str, url: str, path: str, batch_size: int, queue: Any) -> None:
    from quita.importing.service import import_file
    from quita.kit.db import Database
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind

    database = Database(url)
    with database.transaction() as session:
        tenant = tenants.create_tenant(session, slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench",
                                       kind=TenantKind.AGENCY, actor="bench")
        tenants.add_creditor(session, tenant, legal_name="Credor Bench S.A.", cnpj="11222333000181",
                             address="Rua A, 1", city="São Paulo", uf="SP", actor="bench")
        tenant_id = tenant.id
    started = time.perf_counter()
    self_before, children_before = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    with database.transaction() as session:
        backend = _backend_process(session)
        backend_before = _process_cpu(backend)
        summary = import_file(session, tenant_id=tenant_id, path=Path(path), actor="bench", batch_size=batch_size)
        backend_cpu = _process_cpu(backend) - backend_before  # before the commit: the import's own work
    seconds = time.perf_counter() - started
    writer_cpu = _cpu(resource.RUSAGE_SELF) - self_before
    workers_cpu = _cpu(resource.RUSAGE_CHILDREN) - children_before
    database.dispose()
    workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    per = 100_000 / max(summary.read, 1)
    server = f", servidor PostgreSQL {backend_cpu * per:.1f} s" if backend is not None else ""
    detail = (f"novas {summary.imported}, rejeitadas {summary.rejected}, pico de um processo de validação "
              f"{workers_mb:.0f} MB; CPU por 100 mil linhas: gravação {writer_cpu * per:.1f} s, validação "
              f"{workers_cpu * per:.1f} s{server}")
    queue.put(CaseResult(name, summary.read, seconds, _peak_rss_mb(), detail))


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _backend_process(session: Any) -> Any:
    """The PostgreSQL server process of this session (same machine), or None on SQLite or when the
    server is elsewhere: its CPU is part of what an import costs."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    import psutil

    pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
    try:
        process = psutil.Process(pid)
        process.cpu_times()
    except (psutil.Error, OSError):
        return None
    return process


def _process_cpu(process: Any) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return float(times.user + times.system)


def run_case(target: Any, *args: Any) -> CaseResult:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result: CaseResult = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"benchmark case failed with exit code {process.exitcode}")
    return result


def fresh_postgres_schema(base_url: str) -> tuple[str, Any]:
    """A throw-away schema, migrated; returns its URL and a function that drops it."""
    from quita.kit.db.migrate import upgrade

    schema = f"quita_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
    upgrade(url)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, drop


def run(rows: int, seed: int, databases: list[str], postgres_url: str, batch_size: int,
        workdir: Path | None = None) -> list[CaseResult]:
    from quita.kit.db.migrate import upgrade
    from quita.portfolio.sample import write_sample_portfolio

    with tempfile.TemporaryDirectory(prefix="quita-bench-", dir=workdir) as tmp:
        path = Path(tmp) / f"carteira-{rows}.csv"
        write_sample_portfolio(path, rows=rows, seed=seed)
        results = [run_case(_baseline, str(path))]
        if "sqlite" in databases:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            results.append(run_case(_import, "import: SQLite", url, str(path), batch_size))
        if "postgresql" in databases:
            url, drop = fresh_postgres_schema(postgres_url)
            try:
                results.append(run_case(_import, "import: PostgreSQL", url, str(path), batch_size))
            finally:
                drop()
    return results

"""The benchmark command must keep working; its figures are not asserted (never time in unit tests)."""

from __future__ import annotations

from pathlib import Path

from quita.bench.import_bench import run


def test_import_benchmark_runs_every_case_on_the_same_file(tmp_path: Path, postgres_url: str) -> None:
    base = postgres_url.split("?")[0]
    results = run(rows=1500, seed=2, databases=["sqlite", "postgresql"], postgres_url=base, batch_size=500,
                  workdir=tmp_path)
    assert [r.name for r in results] == ["baseline: csv.reader", "import: SQLite", "import: PostgreSQL"]
    assert all(r.rows == 1500 for r in results)
    assert all(r.seconds > 0 and r.peak_rss_mb > 0 for r in results)
    assert "novas 1500" in results[1].detail and "novas 1500" in results[2].detail


from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from quita.kit.db import Database


def test_writer_threads_queue_on_the_gate_and_rollbacks_release_it(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'gate.db'}")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (worker INTEGER, n INTEGER)")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        for n in range(40):
            try:
                with database.transaction() as session:
                    session.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": worker, "n": n})
                    session.execute(text("SELECT count(*) FROM t")).scalar()
                    if n % 10 == 0:
                        raise LookupError("rolled back on purpose")
            except LookupError:
                pass
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer never got the gate back"
    assert errors == []
    with database.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 4 * 36
    database.dispose()

"""A benchmark's server process never blocks on its own log."""

from __future__ import annotations

from quita.bench.processes import ServerProcess


def test_a_process_that_logs_more_than_a_pipe_holds_runs_to_its_end() -> None:
    """200 KB to stderr: through an unread pipe (64 KiB) the process would block at its first 64 KiB."""
    process = ServerProcess.python(["-c", "import sys; sys.stderr.write('x' * 200_000 + 'the end'); sys.stderr.flush()"])
    assert process.wait(timeout=30) == 0
    tail = process.log_tail(100)
    assert tail.endswith("the end") and len(tail) == 100

"""Server processes started by the benchmarks.

Their log goes to an unnamed temporary file, not to a pipe: nobody reads a pipe while measuring, and once
its 64 KiB buffer is full the server blocks on its next log line. A round where every write failed (each
batch logs a traceback) then hung instead of reporting its errors. The file's tail explains a failed start.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from typing import IO


class ServerProcess(subprocess.Popen[bytes]):
    """A Python process (``python -m uvicorn …``) with its stderr in a temporary file (:attr:`log`)."""

    log: IO[bytes]

    @classmethod
    def python(cls, args: list[str], env: dict[str, str] | None = None) -> ServerProcess:
        log = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the process; gone when collected)
        process = cls([sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=log)
        process.log = log
        return process

    @classmethod
    def uvicorn(cls, args: list[str], env: dict[str, str]) -> ServerProcess:
        return cls.python(["-m", "uvicorn", *args], env)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of what the process wrote to stderr so far."""
        self.log.flush()
        size = self.log.seek(0, 2)
        self.log.seek(max(0, size - chars))
        return self.log.read().decode("utf-8", errors="replace")

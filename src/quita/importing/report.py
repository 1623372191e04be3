"""The error report: one line per problem (row, column, value, reason), written next to the input."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import TracebackType

from quita.importing.domain.rows import RowError

HEADER = ("linha", "coluna", "valor", "motivo")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def report_path_for(source: Path) -> Path:
    return source.with_name(source.name + ".erros.csv")


def _safe(value: str) -> str:
    """Values are shown to people who open the report in a spreadsheet; neutralise formulas."""
    value = value.replace("\x00", "")[:500]
    return "'" + value if value.startswith(_FORMULA_START) else value


class ErrorReport:
    """Written to a temporary file and moved into place only when the import commits."""

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        self.tmp_path = final_path.with_name(final_path.name + ".tmp")
        self._handle = self.tmp_path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle, delimiter=";")
        self._writer.writerow(HEADER)
        self.lines = 0

    def add(self, errors: list[RowError]) -> None:
        for e in errors:
            self._writer.writerow((e.row, e.column, _safe(e.value), e.reason))
        self.lines += len(errors)

    def publish(self) -> Path | None:
        """Moves the report into place; with no errors, removes any stale report of an earlier run."""
        self._handle.close()
        if self.lines == 0:
            self.tmp_path.unlink(missing_ok=True)
            self.final_path.unlink(missing_ok=True)
            return None
        os.replace(self.tmp_path, self.final_path)
        return self.final_path

    def discard(self) -> None:
        self._handle.close()
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> ErrorReport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.discard()

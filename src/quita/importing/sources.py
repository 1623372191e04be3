"""Streams the rows of a portfolio file (CSV in any delimiter, UTF-8 or Latin-1, or XLSX) with
bounded memory, and refuses files that cannot be a portfolio before anything is written."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from quita.importing.domain.columns import NotAPortfolio

CHUNK = 1 << 20
DELIMITERS = (";", ",", "\t", "|")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
csv.field_size_limit(1 << 20)


@dataclass
class RowSource:
    """Header plus an iterator of (row number, cells); ``position()`` reports progress in ``total`` units."""

    kind: str
    encoding: str | None
    delimiter: str | None
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    total: int
    position: Any
    close: Any
    text: io.TextIOBase | None = None  # CSV only: the decoded stream after the header line


def _detect_encoding(path: Path) -> str:
    """UTF-8 when the whole file decodes as UTF-8, else Windows-1252/Latin-1 (Excel's pt-BR default)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(CHUNK):
            if first and b"\x00" in chunk[:65536]:
                raise NotAPortfolio("o arquivo é binário, não uma planilha CSV ou XLSX")
            first = False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return _latin_flavour(path)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _latin_flavour(path)
    return "utf-8-sig"


def _latin_flavour(path: Path) -> str:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                chunk.decode("cp1252")
            except UnicodeDecodeError:
                return "latin-1"
    return "cp1252"


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise NotAPortfolio(
            "não foi possível identificar o separador de colunas na primeira linha (esperado ; , tab ou |)"
        )
    return best


class _CountingReader(io.RawIOBase):
    """Counts bytes read so progress can be shown without a second pass over the file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def open_csv(path: Path) -> RowSource:
    size = path.stat().st_size
    if size == 0:
        raise NotAPortfolio("o arquivo está vazio")
    encoding = _detect_encoding(path)
    raw = path.open("rb")
    counter = _CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counter, CHUNK), encoding=encoding, newline="")
    header_line = text.readline()
    if not header_line.strip():
        text.close()
        raise NotAPortfolio("a primeira linha (cabeçalho) está vazia")
    delimiter = _sniff_delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        for cells in reader:
            number += 1
            yield number, cells

    return RowSource("csv", encoding, delimiter, header, rows(), size, lambda: counter.count, text.close, text)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "sim" if value else "não"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel stores numbers as doubles: 1234.56 may arrive as 1234.5600000000002.
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text
    return str(value)


def open_xlsx(path: Path) -> RowSource:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise NotAPortfolio(f"não foi possível ler a planilha XLSX: {exc}") from None
    sheet = workbook.worksheets[0]
    total = sheet.max_row or 0
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = [_cell_text(v).strip() for v in next(iterator)]
    except StopIteration:
        workbook.close()
        raise NotAPortfolio("a planilha está vazia") from None
    state = {"row": 1}

    def rows() -> Iterator[tuple[int, list[str]]]:
        for values in iterator:
            state["row"] += 1
            yield state["row"], [_cell_text(v) for v in values]

    return RowSource("xlsx", None, None, header, rows(), total, lambda: state["row"], workbook.close)


def open_source(path: Path) -> RowSource:
    if not path.is_file():
        raise NotAPortfolio(f"arquivo não encontrado: {path}")
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic.startswith(XLSX_MAGIC):
        return open_xlsx(path)
    if magic.startswith(OLE_MAGIC):
        raise NotAPortfolio("planilha no formato .xls antigo: salve-a como .xlsx ou CSV")
    return open_csv(path)

"""Turns a row source into batches of prepared rows and row errors, in file order.

Validation is CPU-bound pure Python, so a large CSV is parsed by worker processes (one per spare
core) while this process writes to the database: the text is cut into chunks of whole records (a
quoted field may span lines, so a cut is made only where the count of quote characters is even),
each worker runs the csv module and the row parser on its chunk, and results come back in order.
Small files and XLSX are parsed in-process by the same code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import multiprocessing as mp
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from quita.importing.columnar import BlockParser, split_text
from quita.importing.domain.columns import ColumnMap
from quita.importing.domain.rows import RowError, RowParser
from quita.importing.prepared import Preparer
from quita.importing.sources import RowSource

PARALLEL_MIN_BYTES = 8 << 20  # below this, starting worker processes costs more than it saves


@dataclass
class Chunk:
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # prepared rows (see prepared.PreparedRow)
    errors: list[list[RowError]] = field(default_factory=list)  # one list per rejected row
    read: int = 0
    blank: int = 0


def default_workers() -> int:
    """One parsing process per core beyond the one that writes (at most three)."""
    return max(0, min(4, os.cpu_count() or 1) - 1)


class _ChunkParser:
    def __init__(self, cmap: ColumnMap, today: dt.date, preparer: dict[str, Any]) -> None:
        self.parser = RowParser(cmap, today=today)
        self.prepare = Preparer(**preparer)
        self.block = BlockParser(self.parser, self.prepare)

    def feed(self, chunk: Chunk, number: int, cells: list[str]) -> None:
        """One row, row by row (the reference path; the block path sends unusual rows here)."""
        _tally(chunk, self._one(number, cells))

    def _one(self, number: int, cells: list[str]) -> tuple[Any, ...] | list[RowError] | None:
        if not any(cell.strip() for cell in cells):
            return None
        parsed = self.parser.parse(cells, number)
        return parsed if isinstance(parsed, list) else self.prepare(parsed)

    def feed_block(self, chunk: Chunk, rows: list[list[str]], first: int, joined: list[str] | None = None) -> None:
        """Consecutive rows numbered from ``first``, column by column (``columnar.BlockParser``)."""
        prepared, slow, blank = self.block.parse(rows, first, joined)
        for i in slow:
            prepared[i] = self._one(first + i, rows[i])
        if not slow and not blank:
            chunk.rows.extend(prepared)
            chunk.read += len(prepared)
            return
        for found in prepared:
            _tally(chunk, found)


def _tally(chunk: Chunk, found: tuple[Any, ...] | list[RowError] | None) -> None:
    """A blank line, a rejected row (its errors) or a prepared row, counted where it belongs."""
    if found is None:
        chunk.blank += 1
        return
    chunk.read += 1
    if isinstance(found, list):
        chunk.errors.append(found)
    else:
        chunk.rows.append(found)


def _sequential(source: RowSource, parser: _ChunkParser, chunk_rows: int) -> Iterator[Chunk]:
    block: list[list[str]] = []
    first = 0
    for number, cells in source.rows:
        if not block:
            first = number
        block.append(cells)
        if len(block) >= chunk_rows:
            chunk = Chunk()
            parser.feed_block(chunk, block, first)
            yield chunk
            block = []
    if block:
        chunk = Chunk()
        parser.feed_block(chunk, block, first)
        yield chunk


# --- worker side -------------------------------------------------------------------------------------------
_worker: tuple[_ChunkParser, str] | None = None


def _init_worker(cmap: ColumnMap, today: dt.date, preparer: dict[str, Any], delimiter: str) -> None:
    global _worker
    _worker = (_ChunkParser(cmap, today, preparer), delimiter)


def _parse_text(text: str, first: int) -> tuple[Chunk, int]:
    """Parses one chunk of whole records numbered from ``first``; returns it and its count of records."""
    assert _worker is not None
    parser, delimiter = _worker
    chunk = Chunk()
    split = split_text(text, delimiter)
    rows, joined = split if split is not None else (list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), None)
    parser.feed_block(chunk, rows, first, joined)
    return chunk, len(rows)


def _renumber(chunk: Chunk, offset: int) -> Chunk:
    chunk.rows = [(row[0] + offset, *row[1:]) for row in chunk.rows]
    chunk.errors = [[RowError(e.row + offset, e.column, e.value, e.reason) for e in errs] for errs in chunk.errors]
    return chunk


def _text_chunks(text: io.TextIOBase, chunk_rows: int) -> Iterator[tuple[str, int]]:
    """Chunks of ``chunk_rows`` lines (more when a quoted field spans lines: a cut is made only where
    the count of quote characters so far is even), each with its count of lines."""
    while lines := list(islice(text, chunk_rows)):
        block = "".join(lines)
        count = len(lines)
        if block.count('"') % 2:
            extra = []
            for line in text:
                extra.append(line)
                if line.count('"') % 2:
                    break
            block += "".join(extra)
            count += len(extra)
        yield block, count


_MAIN_LOCK = threading.Lock()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """A spawned process first re-imports the parent's ``__main__``: for ``quita`` that is the whole CLI
    (every capability, ~50 MB and seconds of CPU per worker). A worker needs only this module, so
    ``__main__`` is hidden from ``multiprocessing`` while the workers start (a few milliseconds)."""
    with _MAIN_LOCK:  # imports run in job threads of ``quita serve`` too: one hides and restores at a time
        main = sys.modules.get("__main__")
        saved = {name: getattr(main, name) for name in ("__spec__", "__file__") if hasattr(main, name)}
        try:
            if main is not None:
                main.__spec__ = None
                if "__file__" in saved:
                    del main.__file__
            yield
        finally:
            for name, value in saved.items():
                setattr(main, name, value)


def _parallel(source: RowSource, cmap: ColumnMap, today: dt.date, preparer: dict[str, Any], workers: int,
              chunk_rows: int) -> Iterator[Chunk]:
    assert source.text is not None and source.delimiter is not None
    context = mp.get_context("spawn")  # never fork a process that may hold database connections and threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(cmap, today, preparer, source.delimiter)) as pool:
        with _main_module_hidden():  # a spawning pool starts one process per submit while none is idle
            started = [pool.submit(int) for _ in range(workers)]
        for future in started:
            future.result()
        # A chunk is numbered as if each of its lines were one record (true unless a quoted field spans
        # lines); when that turns out wrong, the chunks after it are renumbered here.
        pending: deque[tuple[Future[tuple[Chunk, int]], int]] = deque()
        first = 2  # the header is row 1
        drift = 0  # records minus lines so far

        def take() -> Chunk:
            nonlocal drift
            future, lines = pending.popleft()
            chunk, records = future.result()
            if drift:
                chunk = _renumber(chunk, drift)
            drift += records - lines
            return chunk

        for text, lines in _text_chunks(source.text, chunk_rows):
            pending.append((pool.submit(_parse_text, text, first), lines))
            first += lines
            if len(pending) > workers * 2:
                yield take()
        while pending:
            yield take()


def parsed_chunks(source: RowSource, cmap: ColumnMap, *, today: dt.date, preparer: dict[str, Any],
                  workers: int | None = None, chunk_rows: int = 5000) -> Iterator[Chunk]:
    """Yields the file's rows, validated and prepared, in file order, ``chunk_rows`` records at a time.
    ``preparer`` holds the keyword arguments of ``prepared.Preparer``."""
    workers = default_workers() if workers is None else workers
    if workers > 0 and source.kind == "csv" and source.total >= PARALLEL_MIN_BYTES:
        yield from _parallel(source, cmap, today, preparer, workers, chunk_rows)
    else:
        yield from _sequential(source, _ChunkParser(cmap, today, preparer), chunk_rows)

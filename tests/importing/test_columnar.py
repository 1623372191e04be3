"""The block path (``columnar.BlockParser``) must give exactly the rows and errors of the row path
(``RowParser.parse`` + ``Preparer``), which is the reference: same prepared rows (COPY lines, SQLite
tuples, ids, fingerprints), same errors, same blank/read counts, on both dialects."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path

import pytest

from quita.importing.columnar import derived_ids_hex, split_text
from quita.importing.domain.columns import resolve_columns
from quita.importing.pipeline import Chunk, _ChunkParser
from quita.portfolio.domain import identity
from quita.portfolio.sample import write_sample_portfolio

TODAY = dt.date(2026, 11, 23)
CREDITOR = uuid.UUID(int=6).hex


def _preparer(dialect: str, keep_python: bool) -> dict[str, object]:
    return {"tenant_id": uuid.UUID(int=5), "dialect_name": dialect, "creditors": {"11222333000181": CREDITOR},
            "default_creditor": uuid.UUID(int=7).hex, "keep_python": keep_python,
            "now": dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), "job_id": uuid.UUID(int=9)}


def _both_ways(header: list[str], rows: list[list[str]], dialect: str, keep_python: bool,
               block: int = 97) -> tuple[Chunk, Chunk]:
    cmap = resolve_columns(header)
    by_row, by_block = Chunk(), Chunk()
    row_parser = _ChunkParser(cmap, TODAY, _preparer(dialect, keep_python))
    for number, cells in enumerate(rows, start=2):
        row_parser.feed(by_row, number, list(cells))
    block_parser = _ChunkParser(cmap, TODAY, _preparer(dialect, keep_python))
    for start in range(0, len(rows), block):
        block_parser.feed_block(by_block, [list(r) for r in rows[start:start + block]], start + 2)
    return by_row, by_block


def _assert_same(by_row: Chunk, by_block: Chunk) -> None:
    assert by_block.rows == by_row.rows
    assert by_block.errors == by_row.errors
    assert (by_block.read, by_block.blank) == (by_row.read, by_row.blank)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("keep_python", [False, True])
def test_sample_portfolio_with_defects(tmp_path: Path, dialect: str, keep_python: bool) -> None:
    path = tmp_path / "c.csv"
    write_sample_portfolio(path, rows=3000, seed=3, bad_rows=0.08, today=TODAY)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter=";"))
    by_row, by_block = _both_ways(header, rows, dialect, keep_python)
    assert len(by_row.errors) > 100 and len(by_row.rows) > 2000  # the file does exercise both outcomes
    _assert_same(by_row, by_block)


EDGE_HEADER = ["contrato", "parcela", "nome", "cpf", "uf", "codigo_ibge", "cep", "telefone", "celular", "email",
               "origem_contato", "vencimento", "valor", "multa", "juros", "cnpj_credor", "etiquetas", "produto"]


def _edge_rows() -> list[list[str]]:
    good = ["C\\1", "1/3", "  Ana   Maria ", "529.982.247-25", "sp", "3550308", "1310-000", "(11) 98765-4321",
            "11 3456-7890", "ANA@EXEMPLO.COM", "devedor", "31/12/2026", "R$ 1.234,56", "2%", "1,5",
            "11.222.333/0001-81", "b, a|c", "Cartão\tX"]
    rows = [good]
    rows.append([*good[:1], "2/3", *good[2:3], "52998224725", *good[4:]])  # same debtor, unmasked document
    rows.append([*good[:1], "3/3", *good[2:], "sobra"])  # a cell too many: row path
    rows.append(["C2", "1"])  # too few cells
    rows.append([""] * len(good))  # blank
    rows.append(["  "] * len(good))  # blank after stripping
    rows.append(["C3", "", "Bia", "111.111.111-11", *good[4:]])  # invalid CPF
    rows.append(["C4", "", "Caio", "529.982.247-25", "SP", "3304557", *good[6:]])  # IBGE of RJ, UF SP
    rows.append(["C5", "x", "Duda", "529.982.247-25", *good[4:11], "31/02/2026", "0,00", "101", "-1", "123", "",
                 ""])
    rows.append(["C6", "", "Eva", "11.222.333/0001-81", "", "", "", "+1 202 555 0100", "", "não é e-mail", "x",
                 "2026-12-31", "10", "", "", "", "", ""])
    rows.append(["C" * 85, "", "Fabio", "529.982.247-25", *good[4:]])  # derived id longer than 80
    rows.append(["", "", "Gil", "529.982.247-25", *good[4:]])  # no contract: no id at all
    rows.append(["C1\\", "1/3", "Ana Maria", "529.982.247-25", *good[4:]])  # same debtor, new debt
    rows.append(["C7", "0002", "Ana Maria", "529.982.247-25", *good[4:15], "99.999.999/0001-99", "", ""])
    return rows


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("keep_python", [False, True])
@pytest.mark.parametrize("block", [1, 3, 100])
def test_edge_cases_derived_ids_and_odd_rows(dialect: str, keep_python: bool, block: int) -> None:
    rows = _edge_rows() * 2
    by_row, by_block = _both_ways(EDGE_HEADER, rows, dialect, keep_python, block)
    assert by_row.blank == 4 and len(by_row.errors) >= 10 and len(by_row.rows) >= 4
    _assert_same(by_row, by_block)


def test_derived_ids_match_identity() -> None:
    keys = ["A-1", "ação/2", "", "x" * 300]
    ids, keys64 = derived_ids_hex("tenant:debt:", keys)
    assert ids == [identity._derive_hex(f"tenant:debt:{k}") for k in keys]
    assert keys64 == [int(i[:16], 16) for i in ids]
    assert derived_ids_hex("p", []) == ([], [])


@pytest.mark.parametrize("text", [
    "a;b;c\n1;2;3\n", "a;b;c\r\n1;2;3\r\n", "a;b;c\n\n1;2;3", "a; b;c\n", "a;b ;c\n", " a;b;c\n", "a;b;c \n",
    "a;b;c\n;;\n", "", "\n", "a;\u00a0b;c\n", "a;b;c\r\n\r\n", "só;ação;x\n",
])
def test_split_text_reads_what_csv_reads(text: str) -> None:
    split = split_text(text, ";")
    assert split is not None
    rows, joined = split
    assert rows == list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if joined is not None:  # only when no cell needs stripping: then it is the fingerprint's join
        assert len(joined) == len(rows)
        assert [j for j, row in zip(joined, rows, strict=True) if row] == [
            "\x1f".join([*(c.strip() for c in row), ""]) for row in rows if row]
        assert all(cell == cell.strip() for row in rows for cell in row)
    else:
        assert any(cell != cell.strip() for row in rows for cell in row)


@pytest.mark.parametrize("text", ['a;"b";c\n', "a;b\rc;d\n", "a;b\x00;c\n"])
def test_split_text_leaves_quotes_lone_carriage_returns_and_nul_to_csv(text: str) -> None:
    assert split_text(text, ";") is None


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_text_blocks_give_the_rows_of_csv_blocks(tmp_path: Path, dialect: str) -> None:
    """The worker's path (text split without the csv module when it can be) against the csv module's rows."""
    from quita.importing import pipeline

    path = tmp_path / "c.csv"
    write_sample_portfolio(path, rows=1500, seed=5, bad_rows=0.08, today=TODAY)
    text = path.read_text(encoding="utf-8-sig")
    header_line, body = text.split("\n", 1)
    lines = body.splitlines(keepends=True)
    lines[7] = lines[7].replace(";", "; ", 1)  # a cell to strip: that block takes the stripping path
    lines[9] = lines[9].replace("\n", "\r\n")
    body = "".join(lines)
    header = header_line.split(";")
    cmap = resolve_columns(header)
    pipeline._init_worker(cmap, TODAY, _preparer(dialect, False), ";")
    by_text = Chunk()
    first = 2
    for block, count in pipeline._text_chunks(io.StringIO(body, newline=""), 200):
        chunk, records = pipeline._parse_text(block, first)
        assert records == count
        first += records
        by_text.rows += chunk.rows
        by_text.errors += chunk.errors
        by_text.read += chunk.read
        by_text.blank += chunk.blank
    rows = list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))
    by_row, _ = _both_ways(header, rows, dialect, False)
    _assert_same(by_row, by_text)

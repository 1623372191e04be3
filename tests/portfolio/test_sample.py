import csv
import datetime
import hashlib
import tracemalloc
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from quita.br.dates import InvalidDate, parse_br_date
from quita.br.documents import InvalidDocument, parse_document
from quita.br.geo import (
    UFS,
    is_valid_ibge_municipality_code,
    normalise_cep,
    normalise_uf,
    uf_from_cep,
    uf_from_ibge_code,
)
from quita.br.money import InvalidAmount, parse_brl
from quita.br.phones import InvalidPhone, normalise_phone
from quita.portfolio.sample import COLUMNS, ERROR_KINDS, SampleSummary, write_sample_portfolio

TODAY = datetime.date(2026, 8, 1)
HEADER = (
    "id_titulo;contrato;parcela;nome;cpf_cnpj;data_nascimento;logradouro;numero;complemento;bairro;cidade;"
    "codigo_ibge;uf;cep;telefone;telefone2;email;produto;vencimento;valor;multa_pct;juros_mes_pct;"
    "credor_original;cnpj_credor_original"
)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        rows = []
        for fields in reader:
            assert len(fields) == len(header), fields
            rows.append(dict(zip(header, fields, strict=True)))
    return header, rows


def _problems(row: dict[str, str], seen_ids: set[str]) -> set[str]:
    """Every defect kind this row shows under the br parsers; empty for a clean row."""
    found: set[str] = set()
    if row["id_titulo"] in seen_ids:
        found.add("duplicate_id")
    if not row["nome"].strip():
        found.add("missing_name")
    try:
        parse_document(row["cpf_cnpj"])
    except InvalidDocument:
        found.add("invalid_cpf")
    try:
        due = parse_br_date(row["vencimento"])
        if not TODAY - datetime.timedelta(days=6 * 366) <= due <= TODAY + datetime.timedelta(days=61):
            found.add("other:vencimento range")
    except InvalidDate:
        found.add("impossible_date")
    try:
        value = parse_brl(row["valor"])
        if value <= 0:
            found.add("non_positive_amount")
        elif not Decimal("50") <= value <= Decimal("20000"):
            found.add("other:valor range")
    except InvalidAmount:
        found.add("bad_amount")
    uf: str | None
    try:
        uf = normalise_uf(row["uf"])
        if uf != row["uf"]:
            found.add("bad_uf")
    except ValueError:
        found.add("bad_uf")
        uf = None
    try:
        phone = normalise_phone(row["telefone"])
        if uf and phone.uf != uf:
            found.add("other:telefone uf")
    except InvalidPhone:
        found.add("bad_phone")
    if row["telefone2"]:
        try:
            if uf and normalise_phone(row["telefone2"]).uf != uf:
                found.add("other:telefone2 uf")
        except InvalidPhone:
            found.add("other:telefone2")
    if uf:
        if row["codigo_ibge"] and (
            not is_valid_ibge_municipality_code(row["codigo_ibge"])
            or uf_from_ibge_code(row["codigo_ibge"]) != uf
        ):
            found.add("other:codigo_ibge")
        if uf_from_cep(normalise_cep(row["cep"])) != uf:
            found.add("other:cep")
    if row["data_nascimento"]:
        try:
            if parse_br_date(row["data_nascimento"]) > TODAY - datetime.timedelta(days=18 * 365):
                found.add("other:minor")
        except InvalidDate:
            found.add("other:data_nascimento")
    for column in ("multa_pct", "juros_mes_pct"):
        if row[column] and parse_brl(row[column]) <= 0:
            found.add(f"other:{column}")
    if row["cnpj_credor_original"]:
        try:
            if parse_document(row["cnpj_credor_original"]).kind != "cnpj" or not row["credor_original"]:
                found.add("other:credor")
        except InvalidDocument:
            found.add("other:cnpj_credor_original")
    if row["email"] and "@" not in row["email"]:
        found.add("other:email")
    if not 1 <= int(row["parcela"]) <= 6:
        found.add("other:parcela")
    return found


@pytest.fixture(scope="module")
def clean_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    path = tmp_path_factory.mktemp("sample") / "carteira.csv"
    return path, write_sample_portfolio(path, rows=5000, seed=42, today=TODAY)


def test_header_and_counts(clean_sample: tuple[Path, SampleSummary]) -> None:
    path, summary = clean_sample
    first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line == HEADER
    assert ";".join(COLUMNS) == HEADER
    _header, rows = _read(path)
    assert len(rows) == summary.rows == 5000
    assert 0 < summary.debtors < summary.rows
    assert summary.injected_errors == ()
    assert len(
        {(r["cpf_cnpj"].replace(".", "").replace("-", "").replace("/", "")) for r in rows}
    ) == pytest.approx(summary.debtors, rel=0.01)


def test_every_clean_row_is_valid(clean_sample: tuple[Path, SampleSummary]) -> None:
    _, rows = _read(clean_sample[0])
    seen: set[str] = set()
    for line_no, row in enumerate(rows, start=2):
        assert _problems(row, seen) == set(), (line_no, row)
        seen.add(row["id_titulo"])


def test_realistic_mix(clean_sample: tuple[Path, SampleSummary]) -> None:
    _, rows = _read(clean_sample[0])
    n = len(rows)
    assert {r["uf"] for r in rows} == set(UFS)
    documents = [parse_document(r["cpf_cnpj"]) for r in rows]
    companies = sum(d.kind == "cnpj" for d in documents)
    assert 0.02 * n < companies < 0.10 * n
    assert any(d.kind == "cnpj" and not d.value.isdigit() for d in documents)  # alphanumeric CNPJ
    masked = sum(not r["cpf_cnpj"].isalnum() for r in rows)
    assert 0.4 * n < masked < 0.6 * n
    phones = [normalise_phone(r["telefone"]) for r in rows]
    assert any(not p.is_mobile for p in phones)
    assert any(r["telefone"].startswith("+55") for r in rows)
    assert any(r["telefone"].startswith("(") for r in rows)
    assert any(len("".join(c for c in r["telefone"] if c.isdigit())) == 10 and p.is_mobile
               for r, p in zip(rows, phones, strict=True))  # legacy 8-digit mobiles  # fmt: skip
    assert 0.3 * n < sum(not r["telefone2"] for r in rows) < 0.9 * n
    assert 0 < sum(not r["email"] for r in rows) < 0.5 * n
    assert 0 < sum(not r["codigo_ibge"] for r in rows) < 0.2 * n
    assert 0.2 * n < sum(bool(r["credor_original"]) for r in rows) < 0.4 * n
    assert Counter(r["multa_pct"] for r in rows).most_common(1)[0][0] == "2,00"
    assert Counter(r["juros_mes_pct"] for r in rows).most_common(1)[0][0] == "1,00"
    assert len({r["produto"] for r in rows}) >= 6
    dues = [parse_br_date(r["vencimento"]) for r in rows]
    prescription_line = TODAY.replace(year=TODAY.year - 5)
    assert any(d < prescription_line for d in dues)
    assert any(d > TODAY for d in dues)
    assert sum(d < prescription_line for d in dues) < 0.1 * n
    ids = [r["id_titulo"] for r in rows]
    assert len(set(ids)) == len(ids)
    # installments of one contract: parcela 1..n with monthly due dates
    by_contract: dict[str, list[tuple[int, datetime.date]]] = {}
    for r, d in zip(rows, dues, strict=True):
        by_contract.setdefault(r["contrato"], []).append((int(r["parcela"]), d))
    assert any(len(v) > 1 for v in by_contract.values())
    for installments in by_contract.values():
        numbers = [p for p, _ in installments]
        assert numbers == list(range(1, len(numbers) + 1))
        months = [d.year * 12 + d.month for _, d in installments]
        assert months == list(range(months[0], months[0] + len(months)))


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert write_sample_portfolio(a, rows=800, seed=7, bad_rows=0.05, today=TODAY) == write_sample_portfolio(
        b, rows=800, seed=7, bad_rows=0.05, today=TODAY
    )
    write_sample_portfolio(c, rows=800, seed=8, bad_rows=0.05, today=TODAY)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]


def test_injected_errors_are_real_and_where_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    summary = write_sample_portfolio(path, rows=3000, seed=3, bad_rows=0.1, today=TODAY)
    assert len(summary.injected_errors) == 300
    assert {e.kind for e in summary.injected_errors} == set(ERROR_KINDS)
    by_row = {e.row: e for e in summary.injected_errors}
    assert len(by_row) == 300
    _, rows = _read(path)
    assert len(rows) == 3000
    seen: set[str] = set()
    first_line_of_id: dict[str, int] = {}
    for line_no, row in enumerate(rows, start=2):
        problems = _problems(row, seen)
        error = by_row.get(line_no)
        if error is None:
            assert problems == set(), (line_no, row)
        else:
            assert problems == {error.kind}, (line_no, error, row)
            assert error.column == ERROR_KINDS[error.kind]
            assert error.column in COLUMNS
            if error.kind == "duplicate_id":
                original = first_line_of_id[row["id_titulo"]]
                assert original < line_no and original not in by_row
        seen.add(row["id_titulo"])
        first_line_of_id.setdefault(row["id_titulo"], line_no)


def test_bad_rows_do_not_change_clean_rows(tmp_path: Path) -> None:
    clean, dirty = tmp_path / "clean.csv", tmp_path / "dirty.csv"
    write_sample_portfolio(clean, rows=500, seed=5, today=TODAY)
    summary = write_sample_portfolio(dirty, rows=500, seed=5, bad_rows=0.1, today=TODAY)
    bad_lines = {e.row for e in summary.injected_errors}
    clean_lines = clean.read_text(encoding="utf-8").splitlines()
    dirty_lines = dirty.read_text(encoding="utf-8").splitlines()
    assert len(clean_lines) == len(dirty_lines) == 501
    for line_no, (a, b) in enumerate(zip(clean_lines, dirty_lines, strict=True), start=1):
        assert (a != b) == (line_no in bad_lines), line_no


def test_edge_arguments(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    assert write_sample_portfolio(empty, rows=0, seed=1, today=TODAY) == SampleSummary(0, 0, ())
    assert empty.read_text(encoding="utf-8") == HEADER + "\n"
    all_bad = write_sample_portfolio(tmp_path / "all.csv", rows=50, seed=1, bad_rows=1.0, today=TODAY)
    assert [e.row for e in all_bad.injected_errors] == list(range(2, 52))
    assert all_bad.injected_errors[0].kind != "duplicate_id"  # nothing earlier to duplicate
    with pytest.raises(ValueError):
        write_sample_portfolio(tmp_path / "x.csv", rows=-1, seed=1)
    with pytest.raises(ValueError):
        write_sample_portfolio(tmp_path / "x.csv", rows=10, seed=1, bad_rows=1.5)


def _peak_bytes(path: Path, rows: int) -> int:
    tracemalloc.start()
    try:
        write_sample_portfolio(path, rows=rows, seed=11, today=TODAY)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat(tmp_path: Path) -> None:
    small = _peak_bytes(tmp_path / "small.csv", 4_000)
    large = _peak_bytes(tmp_path / "large.csv", 16_000)
    # 4x the rows (both past the first buffer flush) must not mean more memory: only the write buffer and
    # small caches are held, never the rows.
    assert large < small + 512 * 1024, (small, large)

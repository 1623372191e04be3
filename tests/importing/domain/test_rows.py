from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from quita.importing.domain.columns import resolve_columns
from quita.importing.domain.rows import ParsedRow, RowError, RowParser

HEADER = ["id", "nome", "cpf", "nascimento", "uf", "codigo_ibge", "cep", "telefone", "email", "vencimento", "valor",
          "multa", "juros", "parcela"]
TODAY = dt.date(2026, 11, 23)


def parser() -> RowParser:
    return RowParser(resolve_columns(HEADER), today=TODAY)


def row(**overrides: str) -> list[str]:
    values = {"id": "T1", "nome": "  Ana   Lima ", "cpf": "529.982.247-25", "nascimento": "01/02/1980", "uf": "sp",
              "codigo_ibge": "3550308", "cep": "1310100", "telefone": "(11) 98765-4321", "email": "Ana@Example.com",
              "vencimento": "10/01/2026", "valor": "R$ 1.234,56", "multa": "2%", "juros": "1,0", "parcela": "03/12"}
    values.update(overrides)
    return [values[h] for h in HEADER]


def test_a_good_row_is_normalised() -> None:
    parsed = parser().parse(row(), 2)
    assert isinstance(parsed, ParsedRow)
    assert parsed.debtor.name == "Ana Lima" and parsed.debtor.document == "52998224725"
    assert (parsed.debtor.uf, parsed.debtor.cep, parsed.debtor.ibge_code) == ("SP", "01310100", "3550308")
    assert parsed.debt.principal == Decimal("1234.56") and parsed.debt.installment_number == 3
    assert parsed.debt.fine_rate == Decimal("2") and parsed.debt.interest_rate_monthly == Decimal("1.0")
    assert [c.value for c in parsed.contacts] == ["+5511987654321", "ana@example.com"]


def test_every_problem_of_a_row_is_reported_with_its_column() -> None:
    errors = parser().parse(row(cpf="123", vencimento="32/01/2026", valor="0", uf="SS", codigo_ibge="2304400",
                                email="not-an-email", multa="-1"), 7)
    assert isinstance(errors, list) and all(isinstance(e, RowError) and e.row == 7 for e in errors)
    assert {e.column for e in errors} == {"cpf", "vencimento", "valor", "uf", "email", "multa"}


def test_ibge_code_must_agree_with_the_uf() -> None:
    errors = parser().parse(row(codigo_ibge="2304400"), 3)  # Fortaleza (CE) on an SP row
    assert isinstance(errors, list) and errors[0].column == "codigo_ibge" and "CE" in errors[0].reason


def test_same_facts_written_differently_give_the_same_records_but_not_the_same_raw_fingerprint() -> None:
    p = parser()
    a = p.parse(row(), 2)
    b = p.parse(row(cpf="52998224725", valor="1234,56"), 3)
    assert isinstance(a, ParsedRow) and isinstance(b, ParsedRow)
    assert a.debtor == b.debtor and a.debt == b.debt
    assert a.fingerprint != b.fingerprint  # the writer then finds no field changed and counts the row unchanged


def test_short_rows_are_padded_and_long_rows_ignore_extra_cells() -> None:
    p = parser()
    short = p.parse(row()[:11], 2)
    assert isinstance(short, ParsedRow) and short.debt.fine_rate is None
    long = p.parse([*row(), "extra", "cells"], 3)
    assert isinstance(long, ParsedRow)


@given(st.lists(st.text(max_size=30), min_size=0, max_size=20))
def test_any_garbage_row_gives_a_row_or_errors_never_an_exception(cells: list[str]) -> None:
    result = parser().parse(cells, 2)
    assert isinstance(result, ParsedRow | list)


def test_differently_masked_documents_share_a_debtor_but_errors_show_each_rows_own_value() -> None:
    p = parser()
    first, second = p.parse(row(cpf="529.982.247-25"), 2), p.parse(row(id="T2", cpf="52998224725"), 3)
    assert isinstance(first, ParsedRow) and isinstance(second, ParsedRow)
    assert first.debtor == second.debtor and first.fingerprint != second.fingerprint
    bad_masked, bad_plain = p.parse(row(cpf="529.982.247-26"), 4), p.parse(row(id="T3", cpf="52998224726"), 5)
    assert isinstance(bad_masked, list) and isinstance(bad_plain, list)
    assert [(e.row, e.value) for e in bad_masked if e.column == "cpf"] == [(4, "529.982.247-26")]
    assert [(e.row, e.value) for e in bad_plain if e.column == "cpf"] == [(5, "52998224726")]

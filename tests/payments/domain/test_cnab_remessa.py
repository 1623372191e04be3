from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quita.payments.domain.cnab_remessa import (
    Company,
    Payer,
    RemessaError,
    RemessaTitle,
    bb_dv,
    build_remessa_240,
)

PAYER = Payer(
    "João da Silva Conceição", "52998224725", "Rua das Flores, 10", "Centro", "01001-000", "São Paulo", "SP"
)
BB = Company("Credora Exemplo Ltda", "11222333000181", "1234", "56789", "1234567")
CAIXA = Company("Credora Exemplo Ltda", "11222333000181", "1234", convenio="123456", agencia_dv="0")
WHEN = datetime(2026, 11, 23, 10, 30, 0)


def title(amount: str = "150.00", nn: str = "123") -> RemessaTitle:
    return RemessaTitle(nn, "DOC-1", date(2026, 12, 1), Decimal(amount), date(2026, 11, 20), PAYER)


def lines(bank: str, company: Company, titles: list[RemessaTitle]) -> list[str]:
    text = build_remessa_240(bank, company, titles, sequence=7, generated_at=WHEN)
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def at(line: str, start: int, end: int) -> str:
    return line[start - 1 : end]


@pytest.mark.parametrize(
    ("bank", "company", "versions"), [("001", BB, ("083", "042")), ("104", CAIXA, ("050", "030"))]
)
def test_structure_and_totals(bank: str, company: Company, versions: tuple[str, str]) -> None:
    records = lines(bank, company, [title("150.00", "1"), title("49.90", "2")])
    assert all(len(r) == 240 for r in records)
    assert [at(r, 8, 8) for r in records] == ["0", "1", "3", "3", "3", "3", "3", "3", "5", "9"]
    assert [at(r, 14, 14) for r in records[2:8]] == ["P", "Q", "R"] * 2
    assert all(at(r, 1, 3) == bank for r in records)
    header, lot = records[0], records[1]
    assert at(header, 144, 151) == "23112026" and at(header, 152, 157) == "103000"
    assert at(header, 158, 163) == "000007" and at(header, 164, 166) == versions[0]
    assert at(lot, 9, 9) == "R" and at(lot, 14, 16) == versions[1]
    assert [at(r, 9, 13) for r in records[2:8]] == [f"{n:05d}" for n in range(1, 7)]
    p = records[2]
    assert at(p, 16, 17) == "01"
    assert at(p, 78, 85) == "01122026"
    assert at(p, 86, 100) == "000000000015000"
    assert at(p, 118, 118) == "2" and at(p, 119, 126) == "02122026" and at(p, 127, 141) == "000000000000100"
    q = records[3]
    assert at(q, 18, 18) == "1" and at(q, 19, 33) == "000052998224725"
    assert at(q, 34, 73).rstrip() == "JOAO DA SILVA CONCEICAO"
    assert at(q, 129, 136) == "01001000" and at(q, 152, 153) == "SP"
    r = records[4]
    assert at(r, 66, 66) == "2" and at(r, 67, 74) == "02122026" and at(r, 75, 89) == "000000000000200"
    lot_trailer, file_trailer = records[-2], records[-1]
    assert at(lot_trailer, 18, 23) == "000008"  # lot header + 6 segments + lot trailer
    assert at(lot_trailer, 24, 29) == "000002"
    assert at(lot_trailer, 30, 46) == "00000000000019990"
    assert at(file_trailer, 18, 23) == "000001" and at(file_trailer, 24, 29) == "000010"


def test_bank_specific_nosso_numero() -> None:
    bb_p = lines("001", BB, [title(nn="42")])[2]
    assert at(bb_p, 38, 57) == "12345670000000042   "
    assert at(bb_p, 18, 23) == "01234" + bb_dv("1234")
    caixa_p = lines("104", CAIXA, [title(nn="42")])[2]
    assert at(caixa_p, 24, 29) == "123456"
    assert at(caixa_p, 41, 57) == "14000000000000042"


def test_bb_dv() -> None:
    assert bb_dv("4042") == "8"
    assert bb_dv("0719") == "6"


def test_invalid_inputs() -> None:
    with pytest.raises(RemessaError) as info:
        build_remessa_240("341", BB, [title()], sequence=1, generated_at=WHEN)
    assert info.value.field == "bank"
    with pytest.raises(RemessaError):
        build_remessa_240("001", BB, [], sequence=1, generated_at=WHEN)
    with pytest.raises(RemessaError) as info:
        build_remessa_240("001", BB, [title(nn="12345678901")], sequence=1, generated_at=WHEN)
    assert info.value.field == "nosso_numero"
    fine = RemessaTitle(
        "1", "D", date(2026, 12, 1), Decimal("10"), date(2026, 11, 1), PAYER, fine_percent=Decimal("10")
    )
    with pytest.raises(RemessaError):
        build_remessa_240("104", CAIXA, [fine], sequence=1, generated_at=WHEN)


@settings(max_examples=25)
@given(
    bank=st.sampled_from(["001", "104"]),
    amounts=st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=8),
    name=st.text(min_size=1, max_size=80),
)
def test_any_batch_has_fixed_width_and_right_totals(bank: str, amounts: list[int], name: str) -> None:
    payer = Payer(name, "11222333000181", name, name, "12345678", name, "RJ")
    titles = [
        RemessaTitle(str(i), name, date(2027, 1, 1), Decimal(c) / 100, date(2026, 1, 1), payer)
        for i, c in enumerate(amounts, 1)
    ]
    records = lines(bank, BB if bank == "001" else CAIXA, titles)
    assert all(len(r) == 240 for r in records)
    assert int(at(records[-2], 30, 46)) == sum(amounts)
    assert int(at(records[-1], 24, 29)) == len(records) == 4 + 3 * len(amounts)

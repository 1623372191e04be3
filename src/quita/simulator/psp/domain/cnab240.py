"""Writes a CNAB 240 collection return (retorno) with segments T and U, FEBRABAN positions
(Santander's T variant for bank 033), as a bank would after boletos were paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

WIDTH = 240


@dataclass(frozen=True)
class ReturnTitle:
    nosso_numero: str
    amount: Decimal  # valor nominal
    paid: Decimal
    due_date: date | None
    paid_on: date
    credit_on: date
    seu_numero: str = ""
    interest: Decimal = Decimal("0.00")
    discount: Decimal = Decimal("0.00")
    fee: Decimal = Decimal("0.00")
    occurrence: str = "06"
    payer_name: str = ""


def _num(value: int, width: int) -> str:
    text = str(value)
    if len(text) > width or value < 0:
        raise ValueError(f"{value} não cabe em {width} dígitos")
    return text.zfill(width)


def _money(value: Decimal, width: int = 15) -> str:
    return _num(int((value * 100).to_integral_value()), width)


def _alpha(value: str, width: int) -> str:
    return value[:width].ljust(width)


def _day(value: date | None) -> str:
    return value.strftime("%d%m%Y") if value else "00000000"


class _Record:
    def __init__(self) -> None:
        self.chars = [" "] * WIDTH

    def put(self, start: int, text: str) -> _Record:
        self.chars[start - 1 : start - 1 + len(text)] = list(text)
        return self

    def text(self) -> str:
        line = "".join(self.chars)
        assert len(line) == WIDTH
        return line


def build_return_240(
    bank: str,
    titles: list[ReturnTitle],
    *,
    company_name: str,
    company_cnpj: str,
    sequence: int,
    generated: datetime,
) -> str:
    lines: list[str] = []
    header = (
        _Record()
        .put(1, bank)
        .put(4, "0000")
        .put(8, "0")
        .put(18, "2")
        .put(19, _num(int(company_cnpj or 0), 14))
    )
    header.put(73, _alpha(company_name.upper(), 30)).put(103, _alpha("BANCO SIMULADO", 30)).put(143, "2")
    header.put(144, generated.strftime("%d%m%Y")).put(152, generated.strftime("%H%M%S")).put(
        158, _num(sequence, 6)
    )
    header.put(164, "087")
    lines.append(header.text())
    lines.append(
        _Record().put(1, bank).put(4, "0001").put(8, "1").put(9, "T").put(10, "01").put(14, "045").text()
    )
    seq = 0
    santander = bank == "033"
    for title in titles:
        seq += 1
        t = (
            _Record()
            .put(1, bank)
            .put(4, "0001")
            .put(8, "3")
            .put(9, _num(seq, 5))
            .put(14, "T")
            .put(16, title.occurrence)
        )
        if santander:
            t.put(41, _alpha(title.nosso_numero, 13)).put(55, _alpha(title.seu_numero, 15)).put(
                70, _day(title.due_date)
            )
            t.put(78, _money(title.amount)).put(93, bank).put(101, _alpha(title.seu_numero, 25))
            t.put(194, _money(title.fee))
        else:
            t.put(38, _alpha(title.nosso_numero, 20)).put(59, _alpha(title.seu_numero, 15)).put(
                74, _day(title.due_date)
            )
            t.put(82, _money(title.amount)).put(97, bank).put(106, _alpha(title.seu_numero, 25))
            t.put(133, "1").put(149, _alpha(title.payer_name.upper(), 40)).put(199, _money(title.fee))
        lines.append(t.text())
        seq += 1
        u = (
            _Record()
            .put(1, bank)
            .put(4, "0001")
            .put(8, "3")
            .put(9, _num(seq, 5))
            .put(14, "U")
            .put(16, title.occurrence)
        )
        u.put(18, _money(title.interest)).put(33, _money(title.discount)).put(48, _money(Decimal(0)))
        u.put(63, _money(Decimal(0))).put(78, _money(title.paid)).put(93, _money(title.paid - title.fee))
        u.put(108, _money(Decimal(0))).put(123, _money(Decimal(0))).put(138, _day(title.paid_on)).put(
            146, _day(title.credit_on)
        )
        lines.append(u.text())
    lines.append(_Record().put(1, bank).put(4, "0001").put(8, "5").put(18, _num(seq + 2, 6)).text())
    lines.append(
        _Record()
        .put(1, bank)
        .put(4, "9999")
        .put(8, "9")
        .put(18, "000001")
        .put(24, _num(len(lines) + 1, 6))
        .text()
    )
    return "\r\n".join(lines) + "\r\n"

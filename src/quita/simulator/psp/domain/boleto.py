"""What the collecting bank reads from a boleto it is paid: its own nosso número, the amount, the due date.

A bank knows its own campo livre (barcode positions 20-44); this mirrors the layouts of the seven banks
Quita issues for, and reports the nosso número as banks do in returns (with the DV when the DV is in the
barcode, without it otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


class BoletoReadError(ValueError):
    pass


@dataclass(frozen=True)
class PaidSlip:
    bank: str
    barcode: str
    amount: Decimal
    due_date: date | None
    nosso_numero: str  # as the bank reports it in the return file


def linha_to_barcode(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 44:
        return digits
    if len(digits) != 47:
        raise BoletoReadError(
            f"linha digitável deve ter 47 dígitos (ou código de barras 44), achei {len(digits)}"
        )
    return digits[0:4] + digits[32] + digits[33:47] + digits[4:9] + digits[10:20] + digits[21:31]


def due_date_from_factor(factor: int, today: date) -> date | None:
    """Factor 1000 was 2000-07-03 and again 2025-02-22 (every 9,000 days); pick the cycle nearest today."""
    if factor == 0:
        return None
    base = date(2000, 7, 3) + timedelta(days=factor - 1000)
    candidates = [base + timedelta(days=9000 * k) for k in range(-1, 3)]
    return min(candidates, key=lambda d: abs((d - today).days))


def bank_nosso_numero(bank: str, campo: str) -> str:
    if bank == "001":
        if campo.startswith("000000") or campo.endswith("21"):
            return campo[6:23]
        return campo[0:11]
    if bank == "341":
        return campo[3:11] + campo[11]
    if bank == "237":
        return campo[6:17]
    if bank == "104":
        return campo[10] + campo[14] + campo[7:10] + campo[11:14] + campo[15:24]
    if bank == "033":
        return campo[8:21]
    if bank == "756":
        return "00" + campo[14:22]
    if bank == "748":
        return campo[2:11]
    raise BoletoReadError(f"banco {bank} não simulado")


def read_slip(value: str, today: date) -> PaidSlip:
    barcode = linha_to_barcode(value)
    bank = barcode[0:3]
    return PaidSlip(
        bank=bank,
        barcode=barcode,
        amount=Decimal(int(barcode[9:19])).scaleb(-2),
        due_date=due_date_from_factor(int(barcode[5:9]), today),
        nosso_numero=bank_nosso_numero(bank, barcode[19:44]),
    )

"""Boleto due-date factor (fator de vencimento), including the FEBRABAN reset of 2025-02-22.

The factor is a 4-digit day count that wraps: 1000 = 2000-07-03 … 9999 = 2025-02-21, then 1000 again on
2025-02-22 (a 9,000-day cycle). A factor alone is therefore ambiguous; decoding needs a reference "today"
and the banks' window of 3,000 factors before and 5,500 after today's factor, which makes the date unique.
"""

from __future__ import annotations

from datetime import date, timedelta

BASE_DATE = date(1997, 10, 7)
CYCLE_START = date(2000, 7, 3)  # factor 1000 of the first cycle
CYCLE_DAYS = 9000
WINDOW_BEFORE = 3000
WINDOW_AFTER = 5500


class DueFactorError(ValueError):
    """A date cannot be encoded, or a factor cannot be placed inside the decoding window."""


def due_factor(due: date) -> int:
    """Factor printed in the barcode for a due date (1000-9999 from 2000-07-03 on, cycling)."""
    if due <= BASE_DATE:
        raise DueFactorError(f"vencimento {due.isoformat()} anterior à data-base 1997-10-08")
    if due < CYCLE_START:
        return (due - BASE_DATE).days
    return 1000 + (due - CYCLE_START).days % CYCLE_DAYS


def decode_due_factor(factor: int, today: date) -> date | None:
    """Due date for a factor, judged relative to ``today``; ``None`` for factor 0 (no due date).

    Factors 1-999 only existed before 2000-07-03 and are decoded on the original base date.
    """
    if not 0 <= factor <= 9999:
        raise DueFactorError(f"fator de vencimento {factor} fora de 0000-9999")
    if factor == 0:
        return None
    if factor < 1000:
        return BASE_DATE + timedelta(days=factor)
    delta = (factor - due_factor(today)) % CYCLE_DAYS
    if delta <= WINDOW_AFTER:
        return today + timedelta(days=delta)
    if delta >= CYCLE_DAYS - WINDOW_BEFORE:
        return today + timedelta(days=delta - CYCLE_DAYS)
    raise DueFactorError(
        f"fator de vencimento {factor:04d} fora da janela aceita em {today.isoformat()} "
        f"({WINDOW_BEFORE} dias antes a {WINDOW_AFTER} dias depois)"
    )

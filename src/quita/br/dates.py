"""Dates as Brazilians write them (dd/mm/aaaa) and as spreadsheets export them.

Due dates decide prescription and interest, so an impossible or ambiguous date is rejected with the reason
instead of being guessed; month-first (US) order is never assumed.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["InvalidDate", "format_br_date", "parse_br_date"]


class InvalidDate(ValueError):
    """A date that cannot be accepted; the message (pt-BR) says why."""


_BR = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})")
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?"
)


def _two_digit_year(yy: int) -> int:
    # 00–69 → 2000–2069, 70–99 → 1970–1999 (the POSIX/Excel pivot).
    return 2000 + yy if yy < 70 else 1900 + yy


def _build(year: int, month: int, day: int, raw: str) -> datetime.date:
    if not 1 <= month <= 12:
        raise InvalidDate(f"mês inválido ({month}) em {raw!r}")
    if not 1 <= year <= 9999:
        raise InvalidDate(f"ano inválido em {raw!r}")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise InvalidDate(f"data inexistente: {day:02d}/{month:02d}/{year:04d}") from None


def parse_br_date(raw: str | datetime.date | datetime.datetime) -> datetime.date:
    """'31/12/2026', '31-12-2026', '31.12.2026', '31/12/26', '1/2/2026', '2026-12-31' and ISO datetimes
    ('2026-12-31T10:00:00-03:00' → its date part, as written); a date or datetime returns its date."""
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    if not isinstance(raw, str):
        raise TypeError(f"parse_br_date não aceita {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise InvalidDate("data vazia")
    if match := _BR.fullmatch(text):
        day, _, month, year_text = match.groups()
        year = int(year_text) if len(year_text) == 4 else _two_digit_year(int(year_text))
        return _build(year, int(month), int(day), text)
    if match := _ISO.fullmatch(text):
        year_text, month, day = match.groups()
        return _build(int(year_text), int(month), int(day), text)
    raise InvalidDate(f"data em formato não reconhecido: {text!r} (use dd/mm/aaaa)")


def format_br_date(value: datetime.date) -> str:
    """datetime.date(2026, 2, 1) → '01/02/2026'."""
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"

"""Reais (BRL) as Decimal: parsing what spreadsheets contain, formatting what people read.

Creditor files mix Brazilian (1.234,56), US (1,234.56) and bare (1234.56) notations, and a dot may be a
thousands separator (1.234 = mil duzentos e trinta e quatro). Guessing wrong multiplies a debt by 1000, so
the rules are explicit, ambiguous input is rejected, and nothing ever passes through float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["CENT", "InvalidAmount", "format_brl", "from_cents", "parse_brl", "to_cents"]

CENT = Decimal("0.01")

_NUMBER = re.compile(r"[0-9.,]+")
_GROUPED_DOT = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_GROUPED_COMMA = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+")


class InvalidAmount(ValueError):
    """A money value that cannot be accepted; the message (pt-BR) says why."""


def _from_parts(integer: str, fraction: str, raw: str) -> Decimal:
    if not integer:
        integer = "0"
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        raise InvalidAmount(f"valor inválido: {raw!r}")
    if len(fraction) > 2 and fraction[2:].strip("0"):
        raise InvalidAmount(f"valor com mais de duas casas decimais: {raw!r}")
    return Decimal(f"{integer}.{fraction[:2] or '0'}").quantize(CENT)


def _ungroup(integer: str, separator: str, raw: str) -> str:
    """Removes thousands separators after checking they group digits by three."""
    if separator not in integer:
        return integer
    pattern = _GROUPED_DOT if separator == "." else _GROUPED_COMMA
    if not pattern.fullmatch(integer):
        raise InvalidAmount(f"separador de milhar mal posicionado: {raw!r}")
    return integer.replace(separator, "")


def _parse_number(body: str, raw: str) -> Decimal:
    if not _NUMBER.fullmatch(body) or body[-1] in ".," or not any(c.isdigit() for c in body):
        raise InvalidAmount(f"valor inválido: {raw!r}")
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        # Both present: the last one is the decimal separator, the other groups thousands.
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        thousands_sep = "." if decimal_sep == "," else ","
        integer, _, fraction = body.rpartition(decimal_sep)
        if decimal_sep in integer:
            raise InvalidAmount(f"valor com separador decimal repetido: {raw!r}")
        return _from_parts(_ungroup(integer, thousands_sep, raw), fraction, raw)
    if has_comma:
        if body.count(",") == 1:  # Brazilian decimal comma
            integer, _, fraction = body.partition(",")
            return _from_parts(integer, fraction, raw)
        return _from_parts(_ungroup(body, ",", raw), "", raw)
    if has_dot:
        if body.count(".") > 1:
            return _from_parts(_ungroup(body, ".", raw), "", raw)
        integer, _, fraction = body.partition(".")
        if len(fraction) == 3:  # 1.234 is one thousand two hundred and thirty-four
            return _from_parts(_ungroup(body, ".", raw), "", raw)
        return _from_parts(integer, fraction, raw)
    return _from_parts(body, "", raw)


def parse_brl(raw: str | int | Decimal) -> Decimal:
    """Parses a BRL amount into a Decimal with exactly two places.

    Accepts '1.234,56', '1234,56', 'R$ 1.234,56', 'R$1.234' (=1234), '1234.56', '1,234.56', '-10,00' and
    '(10,00)' (negative; the caller decides whether negatives are allowed). Rejects floats (TypeError),
    NaN, infinity, exponent notation, more than two non-zero decimals and anything ambiguous.
    """
    if isinstance(raw, bool | float):
        raise TypeError("parse_brl não aceita float nem bool: use str, int ou Decimal")
    if isinstance(raw, int):
        return Decimal(raw).quantize(CENT)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise InvalidAmount("valor não é um número finito")
        try:
            quantised = raw.quantize(CENT)
        except InvalidOperation as exc:
            raise InvalidAmount("valor grande demais") from exc
        if quantised != raw:
            raise InvalidAmount(f"valor com mais de duas casas decimais: {raw}")
        return quantised + 0  # turns -0.00 into 0.00
    if not isinstance(raw, str):
        raise TypeError(f"parse_brl não aceita {type(raw).__name__}")

    text = raw.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not text:
        raise InvalidAmount("valor vazio")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = text[0], text[1:].strip()
    if text[:2].upper() == "R$":
        text = text[2:].strip()
    if text[:1] in ("+", "-"):
        if sign:
            raise InvalidAmount(f"valor com sinal repetido: {raw!r}")
        sign, text = text[0], text[1:].strip()
    if sign and negative:
        raise InvalidAmount(f"valor com sinal e parênteses: {raw!r}")
    negative = negative or sign == "-"
    if not text:
        raise InvalidAmount(f"valor sem número: {raw!r}")
    value = _parse_number(text, raw)
    if negative:
        value = -value
    return value + 0


def format_brl(amount: Decimal) -> str:
    """Decimal('-1234.5') → '-R$ 1.234,50'. Amounts with fractions of a cent are rounded half-up for display
    (round explicitly before calling if the rounding matters)."""
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError("format_brl espera Decimal")
    value = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):.2f}".partition(".")
    grouped = f"{int(integer):,}".replace(",", ".")
    return f"{sign}R$ {grouped},{fraction}"


def to_cents(amount: Decimal) -> int:
    """Exact conversion to integer centavos; raises InvalidAmount for fractions of a cent."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidAmount("valor não é um Decimal finito")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise InvalidAmount(f"valor com fração de centavo: {amount}")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError("from_cents espera int")
    return (Decimal(cents) / 100).quantize(CENT)

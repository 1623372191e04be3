"""Portuguese numbers as debtors write them: digits with pt-BR separators, or words ("mil e quinhentos")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

UNITS: dict[str, int] = {
    "zero": 0, "um": 1, "uma": 1, "dois": 2, "duas": 2, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13,
    "quatorze": 14, "catorze": 14, "quinze": 15, "dezesseis": 16, "dezasseis": 16, "dezessete": 17,
    "dezoito": 18, "dezenove": 19,
}  # fmt: skip
TENS: dict[str, int] = {
    "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "cincoenta": 50, "sessenta": 60,
    "setenta": 70, "oitenta": 80, "noventa": 90,
}  # fmt: skip
HUNDREDS: dict[str, int] = {
    "cem": 100, "cento": 100, "duzentos": 200, "duzentas": 200, "trezentos": 300, "trezentas": 300,
    "quatrocentos": 400, "quatrocentas": 400, "quinhentos": 500, "quinhentas": 500, "seiscentos": 600,
    "seiscentas": 600, "setecentos": 700, "setecentas": 700, "oitocentos": 800, "oitocentas": 800,
    "novecentos": 900, "novecentas": 900,
}  # fmt: skip
NUMBER_WORDS = UNITS | TENS | HUNDREDS | {"mil": 1000}

# pt-BR digits: "1.200,50", "1200", "150,5", "1,5"; also "150.50" typed the English way.
_DIGITS = re.compile(
    r"^\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?$|^\d+(?:,\d{1,2})?$|^\d+\.\d{1,2}$|^\d{1,3}(?:,\d{3})+$"
)


def parse_decimal(token: str) -> Decimal | None:
    """A numeric token in pt-BR (or stray English) notation, or None when it is not a plain number."""
    if not _DIGITS.match(token):
        return None
    if "," in token and re.search(r",\d{3}", token) and "." not in token:
        cleaned = token.replace(",", "")  # "1,200" thousands typed the English way
    elif "," in token:
        cleaned = token.replace(".", "").replace(",", ".")
    elif re.search(r"\.\d{3}(?:\.|$)", token):
        cleaned = token.replace(".", "")  # "1.200" is twelve hundred in Brazil
    else:
        cleaned = token
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        return None


def parse_words(words: list[str], start: int) -> tuple[int, int] | None:
    """Read a number written in words from ``words[start:]``.

    Returns (value, tokens consumed) or None. Handles "mil e quinhentos",
    "cento e cinquenta", "dois mil", "vinte e quatro".
    """
    total = 0
    current = 0
    i = start
    seen = False
    while i < len(words):
        word = words[i]
        if (
            word == "e"
            and seen
            and i + 1 < len(words)
            and words[i + 1] in NUMBER_WORDS
            and words[i + 1] != "mil"
        ):
            i += 1
            continue
        if word in UNITS or word in TENS or word in HUNDREDS:
            current += NUMBER_WORDS[word]
        elif word == "mil":
            total += (current or 1) * 1000
            current = 0
        else:
            break
        seen = True
        i += 1
    if not seen:
        return None
    # A trailing "e" was never consumed, so i is right after the last number word.
    return total + current, i - start

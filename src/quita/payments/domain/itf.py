"""Interleaved 2 of 5 (ITF), the symbology of the boleto barcode, as a sequence of module widths.

Kept as pure geometry (bars and spaces in narrow-module units) so that the PDF renderer only draws
rectangles and tests can check the pattern independently of any drawing library.
"""

from __future__ import annotations

PATTERNS = {
    "0": "NNWWN",
    "1": "WNNNW",
    "2": "NWNNW",
    "3": "WWNNN",
    "4": "NNWNW",
    "5": "WNWNN",
    "6": "NWWNN",
    "7": "NNNWW",
    "8": "WNNWN",
    "9": "NWNWN",
}
WIDE_RATIO = 3  # FEBRABAN boleto: wide = 3 × narrow


def itf_elements(digits: str, wide: int = WIDE_RATIO) -> list[tuple[bool, int]]:
    """(is_bar, width in narrow units) from start to stop pattern; ``digits`` must have even length."""
    if len(digits) % 2 or not digits.isdigit():
        raise ValueError("ITF exige quantidade par de dígitos")
    width = {"N": 1, "W": wide}
    elements: list[tuple[bool, int]] = [(True, 1), (False, 1), (True, 1), (False, 1)]  # start: NNNN
    for i in range(0, len(digits), 2):
        bars, spaces = PATTERNS[digits[i]], PATTERNS[digits[i + 1]]
        for bar, space in zip(bars, spaces, strict=True):
            elements.append((True, width[bar]))
            elements.append((False, width[space]))
    elements += [(True, wide), (False, 1), (True, 1)]  # stop: W N N
    return elements


def itf_total_units(digits: str, wide: int = WIDE_RATIO) -> int:
    return sum(w for _, w in itf_elements(digits, wide))

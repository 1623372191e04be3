"""Check-digit arithmetic shared by boletos and bank layouts.

Every bank reuses the same two families (modulo 10 with alternating 2/1 weights, modulo 11 with cycling
weights) but disagrees on the weights and on what to print for the awkward remainders, so the primitives
return raw sums/remainders and each caller applies its own bank's mapping explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence


def mod10(digits: str) -> int:
    """FEBRABAN modulo 10: weights 2,1,2,1… from the right, two-digit products summed digit by digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    remainder = total % 10
    return 0 if remainder == 0 else 10 - remainder


def weighted_sum_from_right(digits: str, weights: Sequence[int]) -> int:
    """Sum of digit × weight, weights applied from the rightmost digit and cycled."""
    return sum(int(char) * weights[i % len(weights)] for i, char in enumerate(reversed(digits)))


def weighted_sum_from_left(digits: str, weights: Sequence[int]) -> int:
    """Sum of digit × weight, weights applied from the leftmost digit and cycled."""
    return sum(int(char) * weights[i % len(weights)] for i, char in enumerate(digits))


WEIGHTS_2_TO_9 = (2, 3, 4, 5, 6, 7, 8, 9)
WEIGHTS_2_TO_7 = (2, 3, 4, 5, 6, 7)
WEIGHTS_9_TO_2 = (9, 8, 7, 6, 5, 4, 3, 2)


def mod11_general_dv(digits43: str) -> int:
    """General DV of a boleto barcode (position 5): 11 − (sum mod 11); 0, 10 and 11 become 1."""
    dv = 11 - weighted_sum_from_right(digits43, WEIGHTS_2_TO_9) % 11
    return 1 if dv in (0, 10, 11) else dv


def mod11_zero_above_nine(digits: str) -> int:
    """11 − (sum mod 11) with weights 2..9; results above 9 become 0 (Caixa, Santander, Sicredi)."""
    dv = 11 - weighted_sum_from_right(digits, WEIGHTS_2_TO_9) % 11
    return 0 if dv > 9 else dv

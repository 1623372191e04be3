"""CPF and CNPJ: validation, normalisation, formatting and generation.

Portfolios arrive from spreadsheets that mask some documents, drop leading zeros from others and, since the
alphanumeric CNPJ (IN RFB nº 2.229/2024), may carry letters in the first 12 positions. Everything is reduced
to one canonical unmasked value (CPF: 11 digits; CNPJ: 14 upper-case characters) so that one person or
company is one key, whatever the source looked like.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from operator import mul
from typing import Literal

__all__ = [
    "Document",
    "InvalidDocument",
    "format_cnpj",
    "format_cpf",
    "generate_cnpj",
    "generate_cpf",
    "is_valid_cnpj",
    "is_valid_cpf",
    "normalise_cnpj",
    "normalise_cpf",
    "parse_document",
]


class InvalidDocument(ValueError):
    """A CPF/CNPJ that cannot be accepted; the message (pt-BR) says why."""


# Separators people and spreadsheets put into documents; anything else is rejected, not silently dropped.
_MASK_CHARS = re.compile(r"[.\-/\s]")
_CNPJ_BODY = re.compile(r"[0-9A-Z]{12}")
_CPF_WEIGHTS_1 = tuple(range(10, 1, -1))  # 10..2
_CPF_WEIGHTS_2 = tuple(range(11, 1, -1))  # 11..2
_CNPJ_WEIGHTS_1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_WEIGHTS_2 = (6, *_CNPJ_WEIGHTS_1)
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _strip_mask(raw: str) -> str:
    return _MASK_CHARS.sub("", raw)


def _mod11_dv(values: list[int], weights: tuple[int, ...]) -> int:
    remainder = sum(map(mul, values, weights)) % 11
    return 0 if remainder < 2 else 11 - remainder


def _cpf_dvs(first9: str) -> str:
    values = list(map(int, first9))
    dv1 = _mod11_dv(values, _CPF_WEIGHTS_1)
    dv2 = _mod11_dv([*values, dv1], _CPF_WEIGHTS_2)
    return f"{dv1}{dv2}"


def _cnpj_dvs(first12: str) -> str:
    # IN RFB 2.229/2024: a character's value is its ASCII code minus 48 (so digits keep their value, A = 17).
    values = [ord(c) - 48 for c in first12]
    dv1 = _mod11_dv(values, _CNPJ_WEIGHTS_1)
    dv2 = _mod11_dv([*values, dv1], _CNPJ_WEIGHTS_2)
    return f"{dv1}{dv2}"


def normalise_cpf(raw: str) -> str:
    """Returns the 11 bare digits of a valid CPF (masks and spaces allowed) or raises InvalidDocument."""
    if not isinstance(raw, str):
        raise InvalidDocument("CPF deve ser texto")
    value = _strip_mask(raw)
    if not value:
        raise InvalidDocument("CPF vazio")
    if not value.isascii() or not value.isdigit():
        raise InvalidDocument("CPF só pode conter dígitos")
    if len(value) != 11:
        raise InvalidDocument(f"CPF deve ter 11 dígitos (tem {len(value)})")
    if len(set(value)) == 1:
        raise InvalidDocument("CPF com todos os dígitos iguais")
    if _cpf_dvs(value[:9]) != value[9:]:
        raise InvalidDocument("CPF com dígito verificador inválido")
    return value


def normalise_cnpj(raw: str) -> str:
    """Returns the 14 upper-case characters of a valid (numeric or alphanumeric) CNPJ or raises."""
    if not isinstance(raw, str):
        raise InvalidDocument("CNPJ deve ser texto")
    value = _strip_mask(raw).upper()
    if not value:
        raise InvalidDocument("CNPJ vazio")
    if len(value) != 14:
        raise InvalidDocument(f"CNPJ deve ter 14 caracteres (tem {len(value)})")
    if not value.isascii() or not _CNPJ_BODY.fullmatch(value[:12]):
        raise InvalidDocument("CNPJ só pode conter dígitos e letras de A a Z nas 12 primeiras posições")
    if not value[12:].isdigit():
        raise InvalidDocument("CNPJ: os dois dígitos verificadores (últimas posições) devem ser números")
    if len(set(value)) == 1:
        raise InvalidDocument("CNPJ com todos os caracteres iguais")
    if _cnpj_dvs(value[:12]) != value[12:]:
        raise InvalidDocument("CNPJ com dígito verificador inválido")
    return value


def is_valid_cpf(raw: str) -> bool:
    try:
        normalise_cpf(raw)
    except InvalidDocument:
        return False
    return True


def is_valid_cnpj(raw: str) -> bool:
    try:
        normalise_cnpj(raw)
    except InvalidDocument:
        return False
    return True


def format_cpf(raw: str) -> str:
    """529.982.247-25; raises InvalidDocument for an invalid CPF."""
    v = normalise_cpf(raw)
    return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"


def format_cnpj(raw: str) -> str:
    """12.ABC.345/01DE-35; raises InvalidDocument for an invalid CNPJ."""
    v = normalise_cnpj(raw)
    return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"


@dataclass(frozen=True)
class Document:
    """A valid CPF or CNPJ, stored unmasked."""

    kind: Literal["cpf", "cnpj"]
    value: str

    @property
    def formatted(self) -> str:
        return format_cpf(self.value) if self.kind == "cpf" else format_cnpj(self.value)

    def __str__(self) -> str:
        return self.formatted


def parse_document(raw: str) -> Document:
    """Decides between CPF and CNPJ and validates.

    Letters or a '/' mean CNPJ; 11 digits mean CPF; 12–14 digits mean CNPJ. Spreadsheets store documents as
    numbers and drop leading zeros, so a digits-only value shorter than expected is left-padded: first to 11
    digits if that is a valid CPF, else to 14 if that is a valid CNPJ. An 11-digit value that is not a valid
    CPF but becomes a valid CNPJ with three leading zeros is accepted as that CNPJ for the same reason.
    """
    if not isinstance(raw, str):
        raise InvalidDocument("CPF/CNPJ deve ser texto")
    value = _strip_mask(raw).upper()
    if not value:
        raise InvalidDocument("CPF/CNPJ vazio")
    if not value.isascii() or not value.isalnum():
        raise InvalidDocument("CPF/CNPJ com caracteres inválidos")
    if not value.isdigit() or "/" in raw or len(value) > 11:
        if value.isdigit() and len(value) < 14:
            value = value.zfill(14)
        return Document("cnpj", normalise_cnpj(value))
    if len(value) == 11:
        try:
            return Document("cpf", normalise_cpf(value))
        except InvalidDocument:
            if is_valid_cnpj(value.zfill(14)):
                return Document("cnpj", value.zfill(14))
            raise
    # Fewer than 11 digits: leading zeros were lost.
    if is_valid_cpf(value.zfill(11)):
        return Document("cpf", value.zfill(11))
    if is_valid_cnpj(value.zfill(14)):
        return Document("cnpj", value.zfill(14))
    raise InvalidDocument(
        f"CPF/CNPJ inválido: {len(value)} dígitos, e nem completando com zeros à esquerda "
        "forma um CPF ou CNPJ válido"
    )


def generate_cpf(rng: random.Random) -> str:
    """A random valid CPF (11 bare digits)."""
    while True:
        body = f"{rng.randrange(10**9):09d}"
        if len(set(body)) > 1:
            return body + _cpf_dvs(body)


def generate_cnpj(rng: random.Random, *, alphanumeric: bool = False) -> str:
    """A random valid CNPJ (14 bare characters); alphanumeric ones have letters in the first 12 positions."""
    while True:
        if alphanumeric:
            body = "".join(rng.choice(_ALNUM) for _ in range(12))
            if body.isdigit():
                continue
        else:
            root = f"{rng.randrange(10**8):08d}"
            branch = "0001" if rng.random() < 0.8 else f"{rng.randint(1, 9999):04d}"
            body = root + branch
        if len(set(body)) > 1:
            return body + _cnpj_dvs(body)

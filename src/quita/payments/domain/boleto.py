"""Boleto de cobrança: barcode (44) ↔ linha digitável (47), check digits and decoding for any bank.

Decoding is bank-agnostic on purpose: the FEBRABAN frame (bank, currency, general DV, due factor, amount)
is the same for every bank, while the 25-digit campo livre is opaque here (see ``banks`` for encoding).
Each failed check is named so that a person typing a linha learns which block to re-type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from quita.payments.domain.checksums import mod10, mod11_general_dv
from quita.payments.domain.due_factor import DueFactorError, decode_due_factor

BARCODE_LENGTH = 44
LINHA_LENGTH = 47
ARRECADACAO_LENGTH = 48
MAX_AMOUNT_CENTS = 99_999_999_99

# Stable names of the checks, used by callers and tests; messages for people are in pt-BR.
CHECK_CHARACTERS = "caracteres"
CHECK_LENGTH = "tamanho"
CHECK_ARRECADACAO = "arrecadacao"
CHECK_CURRENCY = "moeda"
CHECK_FIELD1 = "dv_campo1"
CHECK_FIELD2 = "dv_campo2"
CHECK_FIELD3 = "dv_campo3"
CHECK_GENERAL = "dv_geral"
CHECK_DUE_FACTOR = "fator_vencimento"

_CHECK_LABELS = {
    CHECK_FIELD1: "DV do campo 1",
    CHECK_FIELD2: "DV do campo 2",
    CHECK_FIELD3: "DV do campo 3",
    CHECK_GENERAL: "DV geral (campo 4)",
}

_ALLOWED = re.compile(r"[0-9 .\-\t\r\n]*")


class BoletoError(ValueError):
    """Invalid boleto input; ``check`` names the first failed check, ``checks`` all of them."""

    def __init__(self, message: str, check: str, checks: tuple[str, ...] | None = None) -> None:
        super().__init__(message)
        self.check = check
        self.checks = checks if checks is not None else (check,)


@dataclass(frozen=True, slots=True)
class DecodedBoleto:
    """A validated boleto de cobrança."""

    bank: str
    currency: str
    due_factor: int
    due_date: date | None
    amount: Decimal
    campo_livre: str
    barcode: str
    linha_digitavel: str  # formatted, with dots and spaces

    @property
    def amount_cents(self) -> int:
        return int(self.amount * 100)


def general_dv(barcode_without_dv: str) -> int:
    """General DV for the 43 barcode digits without position 5."""
    return mod11_general_dv(barcode_without_dv)


def assemble_barcode(
    bank: str, due_factor: int, amount_cents: int, campo_livre: str, currency: str = "9"
) -> str:
    """Barcode for the given parts, computing the general DV."""
    if not (len(bank) == 3 and bank.isdigit()):
        raise BoletoError(f"código do banco inválido: {bank!r}", CHECK_CHARACTERS)
    if not (len(campo_livre) == 25 and campo_livre.isdigit()):
        raise BoletoError(f"campo livre deve ter 25 dígitos: {campo_livre!r}", CHECK_LENGTH)
    if not 0 <= amount_cents <= MAX_AMOUNT_CENTS:
        raise BoletoError("valor fora do limite do código de barras (R$ 99.999.999,99)", "valor")
    if not 0 <= due_factor <= 9999:
        raise BoletoError(f"fator de vencimento inválido: {due_factor}", CHECK_DUE_FACTOR)
    head = f"{bank}{currency}"
    tail = f"{due_factor:04d}{amount_cents:010d}{campo_livre}"
    return f"{head}{general_dv(head + tail)}{tail}"


def barcode_to_linha(barcode: str) -> str:
    """47-digit linha digitável (unformatted) for a 44-digit barcode; field DVs computed here."""
    field1 = barcode[0:4] + barcode[19:24]
    field2 = barcode[24:34]
    field3 = barcode[34:44]
    return f"{field1}{mod10(field1)}{field2}{mod10(field2)}{field3}{mod10(field3)}{barcode[4]}{barcode[5:19]}"


def linha_to_barcode(linha: str) -> str:
    """44-digit barcode for a 47-digit linha (DVs of fields 1-3 dropped, not checked)."""
    return linha[0:4] + linha[32] + linha[33:47] + linha[4:9] + linha[10:20] + linha[21:31]


def format_linha(linha: str) -> str:
    """``AAABC.CCCCX DDDDD.DDDDDY EEEEE.EEEEEZ K UUUUVVVVVVVVVV``."""
    return (
        f"{linha[0:5]}.{linha[5:10]} {linha[10:15]}.{linha[15:21]} "
        f"{linha[21:26]}.{linha[26:32]} {linha[32]} {linha[33:47]}"
    )


def _digits_only(value: str) -> str:
    if not _ALLOWED.fullmatch(value):
        bad = next(ch for ch in value if not _ALLOWED.fullmatch(ch))
        raise BoletoError(
            f"caractere inválido {bad!r}: use apenas dígitos, pontos, espaços ou hífens", CHECK_CHARACTERS
        )
    return re.sub(r"\D", "", value)


def _check_barcode_frame(barcode: str) -> None:
    if barcode[0] == "8":
        raise BoletoError(
            "código começando com 8 é de arrecadação/convênio (contas de consumo, tributos), "
            "não um boleto de cobrança",
            CHECK_ARRECADACAO,
        )
    if barcode[3] not in "90":
        raise BoletoError(f"código de moeda {barcode[3]!r} inválido (esperado 9 = Real)", CHECK_CURRENCY)


def _failure_message(failed: list[str]) -> str:
    labels = ", ".join(_CHECK_LABELS[c] for c in failed)
    return f"dígito verificador não confere: {labels}"


def _linha_failures(linha: str) -> list[str]:
    failed = []
    for check, body, dv in (
        (CHECK_FIELD1, linha[0:9], linha[9]),
        (CHECK_FIELD2, linha[10:20], linha[20]),
        (CHECK_FIELD3, linha[21:31], linha[31]),
    ):
        if mod10(body) != int(dv):
            failed.append(check)
    return failed


def decode_boleto(value: str, today: date) -> DecodedBoleto:
    """Validate and decode a barcode or linha digitável (punctuation allowed) of any bank.

    ``today`` places the due factor inside the 3,000/5,500-day window (the factor wraps every 9,000 days).
    """
    digits = _digits_only(value)
    if len(digits) == ARRECADACAO_LENGTH and digits[0] == "8":
        raise BoletoError(
            "linha de 48 dígitos começando com 8 é de arrecadação/convênio (contas de consumo, tributos), "
            "não um boleto de cobrança",
            CHECK_ARRECADACAO,
        )
    failed: list[str] = []
    if len(digits) == BARCODE_LENGTH:
        barcode = digits
        _check_barcode_frame(barcode)
    elif len(digits) == LINHA_LENGTH:
        barcode = linha_to_barcode(digits)
        _check_barcode_frame(barcode)
        failed = _linha_failures(digits)
    else:
        raise BoletoError(
            f"{len(digits)} dígitos: esperado código de barras (44) ou linha digitável (47)", CHECK_LENGTH
        )
    if general_dv(barcode[:4] + barcode[5:]) != int(barcode[4]):
        failed.append(CHECK_GENERAL)
    if failed:
        raise BoletoError(_failure_message(failed), failed[0], tuple(failed))
    factor = int(barcode[5:9])
    try:
        due = decode_due_factor(factor, today)
    except DueFactorError as exc:
        raise BoletoError(str(exc), CHECK_DUE_FACTOR) from exc
    return DecodedBoleto(
        bank=barcode[0:3],
        currency=barcode[3],
        due_factor=factor,
        due_date=due,
        amount=(Decimal(int(barcode[9:19])) / 100).quantize(Decimal("0.01")),
        campo_livre=barcode[19:44],
        barcode=barcode,
        linha_digitavel=format_linha(barcode_to_linha(barcode)),
    )

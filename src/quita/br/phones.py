"""Brazilian phone numbers: normalisation to E.164 and the WhatsApp matching key.

Creditor files write phones in every shape people type them (masks, trunk prefix 0, carrier codes, +55,
8-digit mobiles from before the ninth digit). WhatsApp, in turn, identifies many older accounts by the legacy
12-digit wa_id without the ninth digit. So we store one canonical E.164 form and match inbound messages on a
key that ignores the ninth digit: ``55 + DDD + last 8 digits``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "DDD_TO_UF",
    "UF_TO_DDDS",
    "InvalidPhone",
    "Phone",
    "match_key",
    "normalise_phone",
    "whatsapp_candidates",
]

_DDDS_BY_UF: dict[str, tuple[int, ...]] = {
    "SP": (11, 12, 13, 14, 15, 16, 17, 18, 19),
    "RJ": (21, 22, 24),
    "ES": (27, 28),
    "MG": (31, 32, 33, 34, 35, 37, 38),
    "PR": (41, 42, 43, 44, 45, 46),
    "SC": (47, 48, 49),
    "RS": (51, 53, 54, 55),
    "DF": (61,),
    "GO": (62, 64),
    "TO": (63,),
    "MT": (65, 66),
    "MS": (67,),
    "AC": (68,),
    "RO": (69,),
    "BA": (71, 73, 74, 75, 77),
    "SE": (79,),
    "PE": (81, 87),
    "AL": (82,),
    "PB": (83,),
    "RN": (84,),
    "CE": (85, 88),
    "PI": (86, 89),
    "PA": (91, 93, 94),
    "AM": (92, 97),
    "RR": (95,),
    "AP": (96,),
    "MA": (98, 99),
}

UF_TO_DDDS: Mapping[str, tuple[int, ...]] = MappingProxyType(_DDDS_BY_UF)
DDD_TO_UF: Mapping[int, str] = MappingProxyType(
    {ddd: uf for uf, ddds in sorted(_DDDS_BY_UF.items()) for ddd in ddds}
)

_ALLOWED = re.compile(r"\+?[\d\s().\-/]*")
_NON_DIGITS = re.compile(r"\D")


class InvalidPhone(ValueError):
    """A phone number that cannot be accepted; the message (pt-BR) says why."""


@dataclass(frozen=True)
class Phone:
    """A valid Brazilian phone line in canonical form."""

    e164: str  # '+5511987654321'
    ddd: int
    uf: str
    is_mobile: bool
    match_key: str  # '551187654321': 55 + DDD + last 8 digits

    @property
    def national(self) -> str:
        """DDD + local number, digits only ('11987654321')."""
        return self.e164[3:]


def _split_national(digits: str) -> str:
    """Strips country code, trunk prefix and carrier code; returns the national part (DDD + number)."""
    if len(digits) in (10, 11):
        return digits
    if digits.startswith("00"):  # international dialling prefix, optionally with a carrier code: 00 [CC] 55 …
        rest = digits[2:]
        if rest.startswith("55") and len(rest) in (12, 13):
            return rest[2:]
        if len(rest) in (14, 15) and rest[2:4] == "55":
            return rest[4:]
        raise InvalidPhone("número internacional que não é do Brasil (+55)")
    if digits.startswith("0"):  # trunk prefix 0, optionally followed by a 2-digit carrier code (0 XX DDD …)
        rest = digits[1:]
        if len(rest) in (10, 11):
            return rest
        if len(rest) in (12, 13):
            return rest[2:]
        raise InvalidPhone(_length_reason(len(rest)))
    if digits.startswith("55") and len(digits) in (12, 13):
        return digits[2:]
    raise InvalidPhone(_length_reason(len(digits)))


def _length_reason(count: int) -> str:
    return "número com dígitos de menos" if count < 10 else "número com dígitos demais"


def _check_ddd(ddd: int) -> str:
    uf = DDD_TO_UF.get(ddd)
    if uf is None:
        raise InvalidPhone(f"DDD {ddd:02d} não existe")
    return uf


def _build(ddd: int, local: str) -> Phone:
    uf = _check_ddd(ddd)
    if len(local) == 9:
        if local[0] != "9":
            raise InvalidPhone("celular com 9 dígitos deve começar com 9")
        is_mobile = True
    elif len(local) == 8:
        first = local[0]
        if first in "01":
            raise InvalidPhone("número local não pode começar com 0 ou 1")
        is_mobile = first in "6789"
        if is_mobile:  # pre-2016 mobile: the ninth digit was added in front of every mobile number
            local = "9" + local
    else:
        raise InvalidPhone(_length_reason(len(local) + 2))
    return Phone(
        e164=f"+55{ddd:02d}{local}",
        ddd=ddd,
        uf=uf,
        is_mobile=is_mobile,
        match_key=f"55{ddd:02d}{local[-8:]}",
    )


def normalise_phone(raw: str, *, default_ddd: int | None = None) -> Phone:
    """Parses any common Brazilian way of writing a phone number into a canonical Phone.

    Local numbers (8 or 9 digits, no DDD) are accepted only when ``default_ddd`` is given.
    """
    if not isinstance(raw, str):
        raise InvalidPhone("telefone deve ser texto")
    text = raw.strip()
    if not text:
        raise InvalidPhone("telefone vazio")
    if not _ALLOWED.fullmatch(text):
        raise InvalidPhone("telefone com caracteres inválidos")
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        raise InvalidPhone("telefone sem dígitos")
    if text.startswith("+"):
        if not digits.startswith("55"):
            raise InvalidPhone(
                f"número de outro país (código +{digits[:3]}…), só aceitamos números do Brasil (+55)"
            )
        national = digits[2:]
        if national.startswith("0") and len(national) in (11, 12):  # '+55 (011) …': stray trunk prefix
            national = national[1:]
        if len(national) not in (10, 11):
            raise InvalidPhone(_length_reason(len(national)))
    elif len(digits) in (8, 9):
        if default_ddd is None:
            raise InvalidPhone("número sem DDD (ou com dígitos de menos)")
        national = f"{default_ddd:02d}{digits}"
    else:
        national = _split_national(digits)
    return _build(int(national[:2]), national[2:])


def match_key(number: str) -> str:
    """The matching key ``55 + DDD + last 8 digits`` for an E.164 number, a wa_id (12 or 13 digits) or any
    format normalise_phone accepts; both forms of one mobile line (with and without the ninth digit) give the
    same key."""
    return normalise_phone(number).match_key


def whatsapp_candidates(e164: str) -> tuple[str, ...]:
    """The wa_id forms a line may be registered under: for a mobile, the 13-digit form with the ninth digit
    and the legacy 12-digit form without it; for a landline, its single form."""
    phone = normalise_phone(e164)
    digits = phone.e164[1:]
    if not phone.is_mobile:
        return (digits,)
    return (digits, digits[:4] + digits[5:])

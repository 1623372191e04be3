"""Keys that match a bank's report of a title (CNAB) to the charge Quita issued, and Pix txid rules.

Banks echo the nosso número in their own shape: with or without the check digit, zero-padded to the
field width, with or without the carteira in front (Itaú, Bradesco print ``109/12345678-9``). Comparing
raw strings would miss real payments, so both sides are reduced to a key: the digits of the number
without check digit and without leading zeros. The file side also tries "last character is the DV".
"""

from __future__ import annotations

import re
import secrets
import string

_NON_DIGITS = re.compile(r"\D")
# Banks whose printed nosso número is ``carteira/number-DV``: the carteira is not part of the number.
CARTEIRA_PREFIXED = frozenset({"237", "341"})

TXID_API = re.compile(r"[A-Za-z0-9]{26,35}")  # cob/cobv created through the API Pix
TXID_STATIC = re.compile(r"[A-Za-z0-9]{1,25}")  # BR Code field 62.05 of a static QR
_ALPHABET = string.ascii_lowercase + string.digits


class TxidError(ValueError):
    pass


def charge_key(bank: str, printed: str, dv: str | None) -> str:
    """Key of a nosso número as Quita printed it (``EncodedBoleto.nosso_numero`` and its DV)."""
    text = printed.strip()
    if dv and text.endswith(f"-{dv}"):
        text = text[: -len(dv) - 1]
    if bank in CARTEIRA_PREFIXED and "/" in text:
        text = text.split("/", 1)[1]
    return _NON_DIGITS.sub("", text).lstrip("0")


def file_keys(reported: str) -> list[str]:
    """Candidate keys of a nosso número reported in a return file, most literal first."""
    text = reported.strip()
    keys: list[str] = []
    for candidate in (text, text[:-1]):
        key = _NON_DIGITS.sub("", candidate).lstrip("0")
        if key and key not in keys:
            keys.append(key)
    return keys


def new_txid(length: int = 32) -> str:
    """A random txid for the API Pix (26-35 alphanumerics; unique per receiver)."""
    if not 26 <= length <= 35:
        raise TxidError("txid da API Pix deve ter de 26 a 35 caracteres")
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_static_txid() -> str:
    """A random txid for a static BR Code (at most 25 alphanumerics)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(25))


def check_api_txid(txid: str) -> str:
    if not TXID_API.fullmatch(txid):
        raise TxidError(
            f"txid inválido {txid!r}: a API Pix exige de 26 a 35 caracteres alfanuméricos (A-Z, a-z, 0-9)"
        )
    return txid

"""Who a number is on WhatsApp: the canonical ``wa_id`` and ``wamid`` message ids.

Many Brazilian accounts created before the ninth digit keep the legacy 12-digit id (``55 DD XXXXXXXX``);
sending to either form reaches them but webhooks and ``contacts[].wa_id`` carry the registered form. The
simulator models that with a rule (legacy form for DDD >= a threshold, 31 by default, as the community rule of
thumb says) plus explicit overrides, so Quita's 9th-digit matching is exercised on every demo.
"""

from __future__ import annotations

import base64
import itertools
import re
import secrets
from collections.abc import Collection

_NON_DIGITS = re.compile(r"\D")
_counter = itertools.count(1)


def digits(raw: str) -> str:
    """The digits of a phone as typed (``+55 (11) 98888-7777`` -> ``5511988887777``)."""
    return _NON_DIGITS.sub("", raw)


def is_br_mobile(number: str) -> bool:
    """A Brazilian mobile in either the 13-digit (with 9) or legacy 12-digit form."""
    if not number.startswith("55"):
        return False
    if len(number) == 13:
        return number[4] == "9" and number[5] in "6789"
    return len(number) == 12 and number[4] in "6789"


def br_key(number: str) -> str:
    """``55 + DDD + last 8 digits``: the same for both forms of a Brazilian mobile."""
    return number[:4] + number[-8:] if is_br_mobile(number) else number


def canonical_wa_id(
    number: str,
    *,
    legacy_min_ddd: int | None = 31,
    legacy_numbers: Collection[str] = (),
    modern_numbers: Collection[str] = (),
) -> str:
    """The wa_id WhatsApp would report for ``number`` (digits only).

    ``legacy_numbers``/``modern_numbers`` hold match keys or any form of a number and override the DDD rule.
    ``legacy_min_ddd=None`` disables the rule (every BR mobile keeps its 13-digit form).
    """
    if not is_br_mobile(number):
        return number
    key = br_key(number)
    modern = key[:4] + "9" + key[4:]
    if key in modern_numbers:
        return modern
    if key in legacy_numbers:
        return key
    ddd = int(number[2:4])
    if legacy_min_ddd is not None and ddd >= legacy_min_ddd:
        return key
    return modern


def new_wamid(wa_id: str) -> str:
    """A ``wamid.`` shaped like Meta's: base64 of a small record embedding the counterpart's number."""
    serial = f"{next(_counter):06X}{secrets.token_hex(6).upper()}".encode()
    number = wa_id.encode()
    record = b"\x1c\x18" + bytes([len(number)]) + number + b"\x15\x02\x00\x11\x18" + bytes([len(serial)])
    return "wamid." + base64.b64encode(record + serial + b"\x00").decode()


def new_numeric_id() -> str:
    """A Graph object id (media, template): 15-16 decimal digits."""
    return str(10**14 + next(_counter) * 7919 + secrets.randbelow(7919))

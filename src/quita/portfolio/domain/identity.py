"""Deterministic ids for portfolio rows.

A debtor is unique per tenant by document, a debt by external id, a contact by (debtor, kind, value).
Deriving the primary key from that natural key lets a bulk import know every id before touching
the database, so a batch is written set-based and re-importing the same row is a no-op. The ``*_hex``
forms are what bulk writers put in the database directly (32 hex digits, the UUID without dashes).
"""

from __future__ import annotations

import hashlib
import uuid

_SALT = b"quita.portfolio.v1"


def _derive_hex(key: str) -> str:
    # BLAKE2b instead of uuid5's SHA-1 and no UUID objects: an import derives millions of these.
    digest = bytearray(hashlib.blake2b(key.encode(), digest_size=16, key=_SALT).digest())
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4 layout, so the value is a well-formed UUID
    digest[8] = (digest[8] & 0x3F) | 0x80
    return digest.hex()


def debtor_id_hex(tenant: uuid.UUID | str, document: str) -> str:
    """``tenant`` may be given as ``str(tenant_id)`` by callers that derive millions of ids."""
    return _derive_hex(f"{tenant}:debtor:{document}")


def debt_id_hex(tenant: uuid.UUID | str, external_id: str) -> str:
    return _derive_hex(f"{tenant}:debt:{external_id}")


def contact_id_hex(tenant: uuid.UUID | str, debtor_hex: str, kind: str, value: str) -> str:
    return _derive_hex(f"{tenant}:contact:{debtor_hex}:{kind}:{value}")


def debtor_id(tenant_id: uuid.UUID, document: str) -> uuid.UUID:
    return uuid.UUID(hex=debtor_id_hex(tenant_id, document))


def debt_id(tenant_id: uuid.UUID, external_id: str) -> uuid.UUID:
    return uuid.UUID(hex=debt_id_hex(tenant_id, external_id))


def contact_id(tenant_id: uuid.UUID, debtor: uuid.UUID, kind: str, value: str) -> uuid.UUID:
    return uuid.UUID(hex=contact_id_hex(tenant_id, debtor.hex, kind, value))

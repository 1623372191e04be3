"""Deterministic ids for portfolio rows.

A debtor is unique per tenant by document, a debt by external id, a contact by (debtor, kind, value).
Deriving the primary key from that natural key lets a bulk import know every id before touching
the database, so a batch is written set-based and re-importing the same row is a no-op.
"""

from __future__ import annotations

import hashlib
import uuid

_SALT = b"quita.portfolio.v1"


def _derive(key: str) -> uuid.UUID:
    # BLAKE2b instead of uuid5's SHA-1: the import derives millions of these and this is several times cheaper.
    digest = hashlib.blake2b(key.encode(), digest_size=16, key=_SALT).digest()
    return uuid.UUID(bytes=digest, version=4)


def debtor_id(tenant_id: uuid.UUID, document: str) -> uuid.UUID:
    return _derive(f"{tenant_id}:debtor:{document}")


def debt_id(tenant_id: uuid.UUID, external_id: str) -> uuid.UUID:
    return _derive(f"{tenant_id}:debt:{external_id}")


def contact_id(tenant_id: uuid.UUID, debtor: uuid.UUID, kind: str, value: str) -> uuid.UUID:
    return _derive(f"{tenant_id}:contact:{debtor}:{kind}:{value}")

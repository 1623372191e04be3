"""Deterministic ids for portfolio rows.

A debtor is unique per tenant by document, a debt by external id, a contact by (debtor, kind, value).
Deriving the primary key from that natural key lets a bulk import know every id before touching
the database, so a batch is written set-based and re-importing the same row is a no-op.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c2a7e-3b9d-4c55-9a59-2f4b8e1d0c42")


def debtor_id(tenant_id: uuid.UUID, document: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant_id}:debtor:{document}")


def debt_id(tenant_id: uuid.UUID, external_id: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant_id}:debt:{external_id}")


def contact_id(tenant_id: uuid.UUID, debtor: uuid.UUID, kind: str, value: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{tenant_id}:contact:{debtor}:{kind}:{value}")

"""Cadence definitions per tenant, the planner's recorded deferrals and blocks, identity confirmations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, TenantScoped, UTCDateTime, utcnow


class CadenceDefinition(TenantScoped, Base):
    """One validated cadence; ``definition`` is the mapping as written (YAML/JSON), re-validated on load."""

    __tablename__ = "cadences"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(63), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class PlanDecision(TenantScoped, Base):
    """What the planner decided NOT to send now (deferred or blocked), why, and under which rule set.

    One row per debt, step and local day; a later tick overwrites it (a deferral may become allowed).
    Allowed contacts are recorded as outbox rows instead.
    """

    __tablename__ = "plan_decisions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "debt_id", "step_key", "local_day"),
        Index("ix_plan_decisions_day", "tenant_id", "local_day", "outcome"),
    )

    debt_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cadence: Mapped[str] = mapped_column(String(63), nullable=False)
    step_key: Mapped[str] = mapped_column(String(32), nullable=False)
    local_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    outcome: Mapped[str] = mapped_column(String(12), nullable=False)  # deferred | blocked
    earliest_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False)
    ruleset_version: Mapped[str] = mapped_column(String(80), nullable=False)
    ruleset_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class IdentityConfirmation(TenantScoped, Base):
    """The debtor proved who they are on this contact (ID-02); until then only the identity check goes out.

    Written by whoever runs the identity dialog (the bot) through ``cadence.service.confirm_identity``.
    """

    __tablename__ = "identity_confirmations"
    __table_args__ = (UniqueConstraint("tenant_id", "debtor_id", "contact_id"),)

    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    method: Mapped[str] = mapped_column(String(40), nullable=False)
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)

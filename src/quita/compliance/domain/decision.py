"""What the gate answers: an outcome plus the rules that decided it, so every send can be justified later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DEFERRED = "deferred"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule_id: str
    legal_basis: str
    message_pt: str

    def to_dict(self) -> dict[str, str]:
        return {"rule_id": self.rule_id, "legal_basis": self.legal_basis, "message_pt": self.message_pt}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    earliest_at: datetime | None
    """For DEFERRED: the earliest moment (UTC) every deferring rule is satisfied. None otherwise."""
    reasons: tuple[RuleResult, ...]
    ruleset_version: str
    ruleset_hash: str
    advisories: tuple[RuleResult, ...] = ()
    """Non-deciding notes for the operator (vulnerable debtor, tone warnings, ...)."""

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(r.rule_id for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "earliest_at": self.earliest_at.isoformat() if self.earliest_at else None,
            "reasons": [r.to_dict() for r in self.reasons],
            "advisories": [r.to_dict() for r in self.advisories],
            "ruleset_version": self.ruleset_version,
            "ruleset_hash": self.ruleset_hash,
        }

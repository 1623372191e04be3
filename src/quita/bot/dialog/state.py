"""The persisted state of one conversation: small, JSON-serialisable, versioned by the service."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from quita.bot.dialog.policy import Plan

#: How many sent interactive messages we remember to bind an old tap (context wamid) to its offer.
SENT_MEMORY = 30


class Step(StrEnum):
    AWAITING_IDENTITY = "awaiting_identity"  # the identity template ([Sou eu] [Não sou eu]) was sent
    AWAITING_IDENTITY_ANSWER = "awaiting_identity_answer"  # CPF digits or birth date asked
    IDENTITY_LOCKED = "identity_locked"  # three failures: stopped, a person may help
    MENU = "menu"  # disclosed; the options list is on the screen
    CHOOSING_PLAN = "choosing_plan"
    CONFIRMING_PLAN = "confirming_plan"
    AWAITING_PROMISE_DATE = "awaiting_promise_date"
    AWAITING_RECEIPT = "awaiting_receipt"
    IN_AGREEMENT = "in_agreement"
    HUMAN = "human"  # a person owns the conversation: the bot is silent
    WRONG_PERSON = "wrong_person"  # closed: nothing more is said to this number


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    valid_until: date
    plans: tuple[Plan, ...]

    def plan(self, key: str) -> Plan | None:
        return next((p for p in self.plans if p.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "valid_until": self.valid_until.isoformat(),
            "plans": [p.to_json() for p in self.plans],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Offer:
        return cls(
            id=str(data["id"]),
            valid_until=date.fromisoformat(data["valid_until"]),
            plans=tuple(Plan.from_json(p) for p in data["plans"]),
        )


@dataclass(frozen=True, slots=True)
class ConversationState:
    step: Step = Step.AWAITING_IDENTITY
    identity_verified: bool = False
    identity_failures: int = 0
    misunderstandings: int = 0
    opted_out: bool = False
    offers: tuple[Offer, ...] = ()
    pending_plan: tuple[str, str] | None = None  # (offer id, plan key) awaiting the explicit "confirmo"
    sent: tuple[tuple[str, str], ...] = ()  # (wamid, offer id) of interactive messages sent
    agreement_offer: str | None = None
    offer_seq: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    def offer(self, offer_id: str | None) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)

    @property
    def current_offer(self) -> Offer | None:
        return self.offers[-1] if self.offers else None

    def offer_for_wamid(self, wamid: str | None) -> Offer | None:
        if wamid is None:
            return None
        offer_id = next((o for w, o in self.sent if w == wamid), None)
        return self.offer(offer_id)

    def with_sent(self, wamid: str, offer_id: str) -> ConversationState:
        """Remember that ``wamid`` carried ``offer_id`` (called by the service once Meta gave the id)."""
        return replace(self, sent=((*self.sent, (wamid, offer_id)))[-SENT_MEMORY:])

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step.value,
            "identity_verified": self.identity_verified,
            "identity_failures": self.identity_failures,
            "misunderstandings": self.misunderstandings,
            "opted_out": self.opted_out,
            "offers": [o.to_json() for o in self.offers],
            "pending_plan": list(self.pending_plan) if self.pending_plan else None,
            "sent": [list(pair) for pair in self.sent],
            "agreement_offer": self.agreement_offer,
            "offer_seq": self.offer_seq,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        if not data:
            return cls()
        pending = data.get("pending_plan")
        return cls(
            step=Step(data["step"]),
            identity_verified=bool(data.get("identity_verified")),
            identity_failures=int(data.get("identity_failures", 0)),
            misunderstandings=int(data.get("misunderstandings", 0)),
            opted_out=bool(data.get("opted_out")),
            offers=tuple(Offer.from_json(o) for o in data.get("offers", [])),
            pending_plan=(str(pending[0]), str(pending[1])) if pending else None,
            sent=tuple((str(w), str(o)) for w, o in data.get("sent", [])),
            agreement_offer=data.get("agreement_offer"),
            offer_seq=int(data.get("offer_seq", 0)),
            extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
        )

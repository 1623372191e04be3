"""Forward-only delivery status: webhooks arrive late, twice and out of order.

``sent`` can arrive after ``read``, ``delivered`` may be skipped when a message is read at once, and the
same status is redelivered. The current status therefore only moves up the ladder
accepted < sent < delivered < read < played. ``failed`` ends the story: nothing after it resurrects the
message (a late ``sent`` included). A ``failed`` that arrives after ``delivered``/``read`` is ignored for
the current status, because a delivery receipt already proves the message reached the phone; the caller
still stores the failure event itself for the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

RANK: MappingProxyType[str, int] = MappingProxyType(
    {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "played": 4}
)
FAILED = "failed"


def next_status(current: str | None, incoming: str) -> str | None:
    """The new current status, or ``None`` when ``incoming`` must not change it."""
    incoming = incoming.lower()
    if current == FAILED:
        return None
    if incoming == FAILED:
        if current is not None and RANK.get(current, 0) >= RANK["delivered"]:
            return None
        return FAILED
    if incoming not in RANK:
        return None  # unknown statuses ("deleted", "warning", future ones) never move the ladder
    if current is None or RANK[incoming] > RANK.get(current, -1):
        return incoming
    return None


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """The current status plus the first time each status was seen (for the evidence trail)."""

    status: str | None = None
    seen_at: MappingProxyType[str, datetime] = field(default_factory=lambda: MappingProxyType({}))

    def apply(self, incoming: str, at: datetime) -> DeliveryState:
        incoming = incoming.lower()
        seen = dict(self.seen_at)
        if incoming not in seen or at < seen[incoming]:
            seen[incoming] = at
        new_status = next_status(self.status, incoming)
        return DeliveryState(new_status if new_status is not None else self.status, MappingProxyType(seen))

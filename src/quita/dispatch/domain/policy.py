"""What the dispatcher does with each outcome of a send: pure, so every branch is tested without HTTP.

The split that matters is between "Meta refused it" (safe to send again later) and "it may have been
accepted" (never send again automatically; wait for a status webhook carrying our id).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from quita.whatsapp.domain.errors import (
    InDoubt,
    InvalidMessage,
    PermanentFailure,
    RetryLater,
    RetryNow,
    StopAndAlert,
    WhatsAppError,
)

NOT_ON_WHATSAPP = 131026


class Action(StrEnum):
    RETRY = "retry"  # back to pending, not before ``delay`` seconds
    FAIL = "fail"  # final: failed with a reason
    STOP_CHANNEL = "stop_channel"  # pause the sender number, alert; the row waits (it was not sent)
    IN_DOUBT = "in_doubt"  # leave it 'sending'; reconcile from webhooks


@dataclass(frozen=True, slots=True)
class Plan:
    action: Action
    delay: float = 0.0
    reason: str = ""
    code: int | None = None
    mark_no_whatsapp: bool = False


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 8

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt-1))]."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


def _reason(exc: WhatsAppError) -> str:
    code = f"{exc.code}: " if exc.code is not None else ""
    return f"{code}{exc.message}"[:300]


def plan_for(
    exc: BaseException, attempts: int, policy: RetryPolicy = RetryPolicy(), rng: random.Random | None = None
) -> Plan:
    """``attempts`` counts sends already made for this row, this one included."""
    if isinstance(exc, InDoubt):
        return Plan(Action.IN_DOUBT, reason=_reason(exc), code=exc.code)
    if isinstance(exc, StopAndAlert):
        return Plan(Action.STOP_CHANNEL, reason=_reason(exc), code=exc.code)
    if isinstance(exc, InvalidMessage | PermanentFailure):
        return Plan(
            Action.FAIL, reason=_reason(exc), code=exc.code, mark_no_whatsapp=exc.code == NOT_ON_WHATSAPP
        )
    if isinstance(exc, RetryNow | RetryLater):
        if attempts >= policy.max_attempts:
            return Plan(
                Action.FAIL, reason=f"tentativas esgotadas ({attempts}): {_reason(exc)}"[:300], code=exc.code
            )
        delay = policy.backoff(attempts, rng)
        if isinstance(exc, RetryLater):
            delay = max(delay, exc.retry_after)
        return Plan(Action.RETRY, delay=delay, reason=_reason(exc), code=exc.code)
    # Anything else (a bug, an unexpected library error) may have happened after bytes left: in doubt.
    return Plan(Action.IN_DOUBT, reason=f"erro inesperado: {exc!r}"[:300])

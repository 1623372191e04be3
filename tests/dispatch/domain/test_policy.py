from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quita.dispatch.domain.policy import Action, RetryPolicy, plan_for
from quita.whatsapp.domain.errors import (
    InDoubt,
    InvalidMessage,
    NotSent,
    PermanentFailure,
    RetryLater,
    RetryNow,
    StopAndAlert,
    WindowClosed,
)


@pytest.mark.parametrize(
    ("exc", "action"),
    [
        (RetryNow("throughput", code=130429), Action.RETRY),
        (NotSent("connect refused"), Action.RETRY),
        (RetryLater("pair", code=131056, retry_after=6), Action.RETRY),
        (StopAndAlert("spam", code=131048), Action.STOP_CHANNEL),
        (StopAndAlert("marketing cap", code=131049), Action.STOP_CHANNEL),
        (StopAndAlert("policy", code=368), Action.STOP_CHANNEL),
        (PermanentFailure("undeliverable", code=131026), Action.FAIL),
        (WindowClosed("closed", last_inbound_at=None), Action.FAIL),
        (InvalidMessage("template.name", "bad"), Action.FAIL),
        (InDoubt("read timeout"), Action.IN_DOUBT),
        (RuntimeError("surprise"), Action.IN_DOUBT),
    ],
)
def test_every_error_class_has_an_action(exc: BaseException, action: Action) -> None:
    assert plan_for(exc, 1).action == action


def test_undeliverable_marks_the_contact() -> None:
    plan = plan_for(PermanentFailure("undeliverable", code=131026), 1)
    assert plan.mark_no_whatsapp and plan.reason.startswith("131026: ")
    assert not plan_for(PermanentFailure("bad param", code=131009), 1).mark_no_whatsapp


def test_retry_later_waits_at_least_what_meta_asked_and_retries_end() -> None:
    assert plan_for(RetryLater("pair", code=131056, retry_after=6), 1).delay >= 6
    final = plan_for(RetryNow("throughput", code=130429), RetryPolicy().max_attempts)
    assert final.action == Action.FAIL and "tentativas esgotadas" in final.reason


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_bounded_and_grows(attempt: int, seed: int) -> None:
    policy = RetryPolicy(base=1.0, cap=300.0)
    delay = policy.backoff(attempt, random.Random(seed))
    ceiling = min(300.0, 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling

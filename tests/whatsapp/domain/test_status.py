from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from quita.whatsapp.domain.status import RANK, DeliveryState, next_status

T0 = datetime(2026, 9, 1, 12, tzinfo=UTC)


def _fold(statuses: list[str]) -> str | None:
    current: str | None = None
    for status in statuses:
        new = next_status(current, status)
        if new is not None:
            current = new
    return current


def test_forward_only() -> None:
    assert next_status(None, "sent") == "sent"
    assert next_status("sent", "delivered") == "delivered"
    assert next_status("read", "delivered") is None
    assert next_status("read", "sent") is None
    assert next_status("delivered", "delivered") is None
    assert next_status("sent", "read") == "read"  # delivered skipped when read at once
    assert next_status("sent", "READ") == "read"


def test_failed_is_terminal_and_late_sent_never_resurrects_it() -> None:
    assert next_status("sent", "failed") == "failed"
    assert next_status(None, "failed") == "failed"
    assert next_status("failed", "sent") is None
    assert next_status("failed", "read") is None
    assert _fold(["failed", "sent"]) == "failed"


def test_failed_after_delivery_receipt_is_not_applied() -> None:
    assert next_status("delivered", "failed") is None
    assert next_status("read", "failed") is None


def test_unknown_statuses_are_ignored() -> None:
    assert next_status("sent", "deleted") is None
    assert next_status(None, "warning") is None


_STATUSES = st.lists(st.sampled_from(["sent", "delivered", "read", "failed", "deleted"]), max_size=8)


@given(statuses=_STATUSES, data=st.data())
def test_order_does_not_matter_without_failed(statuses: list[str], data: st.DataObject) -> None:
    """Any arrival order of the non-failed statuses ends at the highest one."""
    plain = [s for s in statuses if s != "failed"]
    shuffled = data.draw(st.permutations(plain))
    known = [s for s in plain if s in RANK]
    expected = max(known, key=RANK.__getitem__) if known else None
    assert _fold(shuffled) == expected


@given(statuses=_STATUSES)
def test_never_moves_backwards(statuses: list[str]) -> None:
    current: str | None = None
    for status in statuses:
        new = next_status(current, status)
        if new is not None and current is not None and new != "failed":
            assert RANK[new] > RANK[current]
        if current == "failed":
            assert new is None
        current = new if new is not None else current


def test_delivery_state_keeps_first_time_of_each_status() -> None:
    state = DeliveryState()
    state = state.apply("read", T0 + timedelta(seconds=5))
    state = state.apply("sent", T0)
    state = state.apply("delivered", T0 + timedelta(seconds=2))
    state = state.apply("delivered", T0 + timedelta(seconds=9))
    assert state.status == "read"
    assert dict(state.seen_at) == {
        "sent": T0,
        "delivered": T0 + timedelta(seconds=2),
        "read": T0 + timedelta(seconds=5),
    }

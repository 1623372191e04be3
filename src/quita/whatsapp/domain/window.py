"""The 24-hour customer-service window: free-form messages only while it is open.

It opens with each inbound message and lasts 24 h from the LAST one (Meta, "Service messages"). Outside
it only approved templates may go out; sending free-form anyway costs a send and comes back as 131047.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def window_closes_at(last_inbound_at: datetime | None) -> datetime | None:
    if last_inbound_at is None:
        return None
    _aware("last_inbound_at", last_inbound_at)
    return last_inbound_at + WINDOW


def is_window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """``None`` (the contact never wrote to us) means closed."""
    _aware("now", now)
    closes = window_closes_at(last_inbound_at)
    return closes is not None and now < closes

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from quita.whatsapp.domain.window import is_window_open, window_closes_at

LAST = datetime(2026, 9, 1, 15, 30, tzinfo=UTC)


def test_open_for_24_hours_after_the_last_inbound() -> None:
    assert is_window_open(LAST, LAST)
    assert is_window_open(LAST, LAST + timedelta(hours=23, minutes=59, seconds=59))
    assert not is_window_open(LAST, LAST + timedelta(hours=24))
    assert not is_window_open(None, LAST)
    assert window_closes_at(LAST) == LAST + timedelta(hours=24)


def test_time_zones_compare_as_instants() -> None:
    brasilia = timezone(timedelta(hours=-3))
    assert is_window_open(LAST.astimezone(brasilia), LAST + timedelta(hours=23))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_window_open(datetime(2026, 9, 1), LAST)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_window_open(LAST, datetime(2026, 9, 1))

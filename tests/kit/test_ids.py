"""Time-ordered ids: valid version-7 UUIDs, ordered by time and then by sequence, unique."""

from __future__ import annotations

import uuid

import pytest

from quita.kit.ids import uuid7, uuid7_batch


def test_layout_is_rfc_9562_version_7() -> None:
    value = uuid7(0x0123_4567_89AB, 0xABC, b"\xff" * 8)
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert value.hex[:12] == "0123456789ab"  # the milliseconds come first, big-endian
    assert value.hex[12:16] == "7abc"  # version, then the sequence
    assert value.hex[16] in "89ab"  # the variant's two bits, then random bits


def test_ids_sort_by_time_then_sequence() -> None:
    later = uuid7(1_000, 0, bytes(8))
    assert uuid7(999, 4095, b"\xff" * 8).hex < later.hex < uuid7(1_000, 1, bytes(8)).hex
    batch = uuid7_batch(500)
    assert [u.hex for u in batch] == sorted(u.hex for u in batch)  # one millisecond: the sequence orders them
    assert len(set(batch)) == 500 and all(u.version == 7 for u in batch)


def test_too_little_randomness_is_refused() -> None:
    with pytest.raises(ValueError):
        uuid7(1, 1, b"short")

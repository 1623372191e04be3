from __future__ import annotations

import random

from quita.importing.keyset import KeySet


def test_keyset_agrees_with_a_python_set_across_merges() -> None:
    rng = random.Random(7)
    keys = KeySet(merge_at=50)
    reference: set[int] = set()
    for _ in range(40):
        batch = [rng.getrandbits(64) for _ in range(30)] + rng.sample(sorted(reference), min(10, len(reference)))
        settled = keys.settled(batch)
        for key, old in zip(batch, settled, strict=True):
            assert (old or key in keys) == (key in reference)
            keys.add(key)
            reference.add(key)
        keys.settle()
    keys.settle(force=True)
    assert len(keys) == len(reference)
    assert all(keys.has(k) for k in reference)
    assert not keys.has(2**64 - 1) and not keys.has(0)


def test_adding_a_key_already_merged_keeps_one_copy() -> None:
    keys = KeySet(merge_at=1)
    keys.add(5)
    keys.settle()
    keys.add(5)
    keys.add(3)
    keys.settle()
    assert len(keys) == 2 and keys.has(3) and keys.has(5) and not keys.has(4)

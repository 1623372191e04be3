"""A set of 64-bit keys in bounded, small memory, for the "seen before in this import?" questions.

A Python set of a million ints costs ~70 MB (an int object plus a hash slot each); a sorted
``uint64`` array costs 8 MB. Keys added during a batch go to a small Python set; ``settle()`` (called
between batches, never while a batch is being checked) merges them into the sorted array once that
set is large. Membership of a whole batch in the array is one vectorised binary search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class KeySet:
    def __init__(self, merge_at: int = 50_000) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)
        self._recent: set[int] = set()
        self.merge_at = merge_at

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def settled(self, keys: Sequence[int]) -> list[bool]:
        """Whether each key is in the merged part; combine with ``in`` for keys added since."""
        if not len(self._sorted) or not keys:
            return [False] * len(keys)
        wanted = np.fromiter(keys, dtype=np.uint64, count=len(keys))
        at = np.searchsorted(self._sorted, wanted)
        np.minimum(at, len(self._sorted) - 1, out=at)
        return (self._sorted[at] == wanted).tolist()

    def __contains__(self, key: int) -> bool:
        """Membership among the keys added since the last merge only."""
        return key in self._recent

    def add(self, key: int) -> None:
        self._recent.add(key)

    def update(self, keys: Iterable[int]) -> None:
        self._recent.update(keys)

    def unsettled_disjoint(self, keys: set[int]) -> bool:
        """Whether none of ``keys`` is among the keys added since the last merge."""
        return self._recent.isdisjoint(keys)

    def settle(self, force: bool = False) -> None:
        if self._recent and (force or len(self._recent) >= self.merge_at):
            fresh = np.unique(np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent)))
            self._recent = set()
            if len(self._sorted):  # a linear merge: insert the new keys where they belong
                at = np.searchsorted(self._sorted, fresh)
                present = self._sorted[np.minimum(at, len(self._sorted) - 1)] == fresh
                fresh, at = fresh[~present], at[~present]
                self._sorted = np.insert(self._sorted, at, fresh)
            else:
                self._sorted = fresh

    def has(self, key: int) -> bool:
        """Single-key membership (slow path for tests and rare checks)."""
        return key in self._recent or self.settled([key])[0]

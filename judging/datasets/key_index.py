"""A compact multimap from 64-bit keys to integers, for the millions of keys an export remembers.

An export's duplicate removal remembers every conversation it kept: its text's digest and one key per
LSH band (dedup.py). In Python dicts that cost about 100 bytes a key (the dict's slots and two int
objects), so at 200,000 conversations the index was the largest part of a chat export's memory
(bench/export.py: 398 MB peak, against 98 MB for the floor). Here the keys live in two sorted numpy
arrays (8 bytes a key plus the value's 4 or 8), and only the keys added lately (at most `RECENT`) in
a dict, merged into the arrays when it fills: about 13-17 bytes a key, and a merge every `RECENT`
keys costs one pass over the arrays (numpy), not a Python loop over them.

Lookups come in two steps, to keep Python's per-key work to one dict lookup: `settled_many` looks a
batch of keys up in the arrays at once (numpy) and says which are there (`settled_values` reads
their values), `recent` is the dict of the rest, read by the caller key by key. Keys added after a
`settled_many` call are only in `recent` until the next `settle`, so a caller that adds keys while
walking a batch sees them there.
"""

from __future__ import annotations

import numpy as np

# The dict of recent keys is merged into the sorted arrays when it holds this many: small enough that
# the dict's memory is a few MB, large enough that merges (one pass over the arrays each) are rare.
RECENT = 1 << 14


class KeyIndex:
    """uint64 key -> the values added with it (one or more, each an integer of `dtype`)."""

    def __init__(self, dtype: type = np.int64) -> None:
        self._keys = np.empty(0, dtype=np.uint64)
        self._values = np.empty(0, dtype=dtype)
        # key -> a value, or a list of values when several share the key (rare: a plain int keeps
        # the dict small).
        self.recent: dict[int, int | list[int]] = {}

    def add(self, key: int, value: int) -> None:
        found = self.recent.get(key)
        if found is None:
            self.recent[key] = value
        elif type(found) is int:
            self.recent[key] = [found, value]
        else:
            found.append(value)

    def settled_many(self, keys: np.ndarray) -> list[int]:
        """The positions, among `keys` (uint64), of those with values in the sorted arrays (read them
        with `settled_values`). One binary search per key, in numpy; most keys find nothing."""
        if not len(self._keys):
            return []
        # In ascending order: each search starts where the last ended, so the arrays (megabytes, out
        # of the cache) are walked forwards, not jumped about (a third of the time at 200,000 keys).
        order = np.argsort(keys)
        ordered = keys[order]
        starts = np.searchsorted(self._keys, ordered)
        found = self._keys[np.minimum(starts, len(self._keys) - 1)] == ordered
        return np.sort(order[found]).tolist()

    def settled_values(self, key: int) -> list[int]:
        """The values of `key` in the sorted arrays."""
        start = int(np.searchsorted(self._keys, np.uint64(key), "left"))
        end = int(np.searchsorted(self._keys, np.uint64(key), "right"))
        return self._values[start:end].tolist()

    def settle(self, *, force: bool = False) -> None:
        """Merge the recent keys into the sorted arrays when there are `RECENT` of them (or any, with
        `force`). Call it between batches, never while reading a batch's `settled_many` positions:
        they move."""
        if not self.recent or (len(self.recent) < RECENT and not force):
            return
        try:  # every value a plain int: read in C
            added = np.fromiter(self.recent.values(), dtype=self._values.dtype, count=len(self.recent))
            keys = np.fromiter(self.recent.keys(), dtype=np.uint64, count=len(self.recent))
        except TypeError:  # some keys have several values (a list)
            pairs = [(key, value) for key, found in self.recent.items()
                     for value in ((found,) if type(found) is int else found)]  # fmt: skip
            keys = np.fromiter((key for key, _ in pairs), dtype=np.uint64, count=len(pairs))
            added = np.fromiter((value for _, value in pairs), dtype=self._values.dtype, count=len(pairs))
        order = np.argsort(keys, kind="stable")
        keys, added = keys[order], added[order]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._values = np.insert(self._values, at, added)
        self.recent = {}

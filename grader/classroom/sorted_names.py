"""A class's file names, sorted, kept in one bytes object: the one part of `grade batch`'s memory that grows
with the class, besides a hash and a mark per student.

100,000 names of 16 characters take 2.4 MB here (the bytes, where each ends, and the sorted order), where
a list of str takes 7.3 MB, and sorting that list by a key as much again. The sort is numpy's, in place, on
the first _WIDTH bytes of each key; the names whose keys tie there (longer keys sharing that start, or one
student's two files) are put in order in Python, only those.

Names are encoded as UTF-8 with surrogates passed through (the ones os.fsdecode makes of bytes that are not
UTF-8): total for any str, given back exactly, and bytes so encoded sort as their str do (UTF-8 keeps code
point order), so bisect on str agrees with the order kept.
"""

import array
from collections.abc import Sequence

import numpy as np

_WIDTH = 16  # bytes of each sort key numpy compares


def _encoded(text):
    return text.encode("utf-8", "surrogatepass")


class SortedNames(Sequence):
    """NAMES (strs) sorted by KEY(name), then by name: a read-only sequence of str."""

    def __init__(self, names, key):
        blob, ends = bytearray(), array.array("q")
        for name in names:  # one at a time: the names are never all str at once
            blob += _encoded(name)
            ends.append(len(blob))
        # 4 bytes for each end and each place in the order, unless a class's names pass 4 GiB
        self._index = np.uint32 if len(blob) < 2**32 else np.int64
        self._blob, self._ends = bytes(blob), np.array(ends, dtype=self._index)
        del blob, ends
        self._order = self._sorted(key)  # position in the sorted sequence -> position in the blob

    def __len__(self):
        return len(self._ends)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._name(int(self._order[index]))

    def _name(self, stored):
        start = int(self._ends[stored - 1]) if stored else 0
        return self._blob[start : int(self._ends[stored])].decode("utf-8", "surrogatepass")

    def _sorted(self, key):
        count = len(self)
        # One array sorted in place (heads, then where each name is stored to break ties): 20 bytes a name.
        table = np.zeros(count, dtype=[("head", f"S{_WIDTH}"), ("stored", self._index)])
        heads = table["head"]
        for stored in range(count):
            heads[stored] = _encoded(key(self._name(stored)))[:_WIDTH]
        table["stored"] = np.arange(count, dtype=self._index)
        table.sort(order=["head", "stored"])
        tied = np.flatnonzero(heads[1:] == heads[:-1])
        order = table["stored"].copy()
        del table, heads

        def whole(stored):
            name = self._name(stored)
            return _encoded(key(name)), _encoded(name)

        for start, stop in equal_runs(tied):
            order[start:stop] = sorted(order[start:stop].tolist(), key=whole)
        return order


def equal_runs(tied):
    """(start, stop) of each run of equal neighbours, from the positions p where item p equals item p + 1."""
    if not len(tied):
        return []
    breaks = np.flatnonzero(np.diff(tied) != 1)
    starts = np.concatenate(([tied[0]], tied[breaks + 1]))
    stops = np.concatenate((tied[breaks], [tied[-1]])) + 2
    return zip(starts.tolist(), stops.tolist(), strict=True)

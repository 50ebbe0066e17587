"""What happened to each student's row in this run, one byte per student, and the students so marked.

A list of the names graded in a run cost 7 MB at 100,000 students: the names are made again from the
class's submissions when someone asks for them (`grade batch` counts them, tests compare them).
"""

from collections.abc import Sequence

GRADED, REUSED, UNREAD = 1, 2, 3  # 0: no row yet; UNREAD is a zero row for a file that was not read (also graded)


class Marked(Sequence):
    """The students whose mark is one of WANTED, in student order; student(index) names one."""

    def __init__(self, marks, wanted, student):
        self._marks, self._wanted, self._student = marks, tuple(wanted), student

    def _indices(self):
        import numpy as np

        return np.flatnonzero(np.isin(np.frombuffer(self._marks, dtype=np.uint8), self._wanted)).tolist()

    def __len__(self):
        return sum(self._marks.count(mark) for mark in self._wanted)

    def __iter__(self):
        return (self._student(index) for index in self._indices())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._student(i) for i in self._indices()[index]]
        return self._student(self._indices()[index])

    def __eq__(self, other):
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self):
        return repr(list(self))

"""SortedNames: a class's file names kept in one bytes object, in the order Python sorts them by
(key, name); numpy sorts the first 16 bytes of each key and Python only the runs that tie there."""

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.classroom.sorted_names import SortedNames, equal_runs


def stem(name):
    return name.rsplit(".", 1)[0]


# Any code point a file name can hold, with surrogates (os.fsdecode's bytes that are not UTF-8)
# and a few long shared starts, so that keys tie past numpy's 16 bytes.
_CHARACTER = st.one_of(
    st.characters(exclude_characters="\0/", exclude_categories=["Cs"]),
    st.sampled_from(["\udc80", "\udcff", "é", "\U0001d538", "a", "."]),
)
_NAME = st.builds(
    lambda start, rest, suffix: start + rest + suffix,
    st.sampled_from(["", "s", "student-0000000000000000-", "é" * 9]),
    st.text(_CHARACTER, min_size=1, max_size=12),
    st.sampled_from([".py", ".ipynb"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME, unique=True, max_size=40))
def test_names_come_back_whole_in_the_order_python_sorts_them(names):
    kept = SortedNames(iter(names), stem)
    expected = sorted(names, key=lambda name: (stem(name), name))
    assert list(kept) == expected and len(kept) == len(names)
    assert [kept[index] for index in range(-len(names), 0)] == expected
    for name in names:  # bisect on str agrees with the order kept
        assert bisect.bisect_left(kept, stem(name), key=stem) == bisect.bisect_left(expected, stem(name), key=stem)


def test_a_name_that_is_not_utf8_sorts_by_its_code_points_as_python_does():
    # os.fsdecode(b"a\x80.py") == "a\udc80.py": U+DC80 sorts after é (U+00E9), before U+1D538.
    names = ["a\U0001d538.py", "a\udc80.py", "a\u00e9.py", "a\udcff.ipynb"]
    assert list(SortedNames(names, stem)) == ["a\u00e9.py", "a\udc80.py", "a\udcff.ipynb", "a\U0001d538.py"]


def test_a_whole_class_sharing_its_first_sixteen_bytes_is_sorted_on_the_rest():
    names = [f"assignment-one-submission-{index:05}.py" for index in range(300)][::-1]
    assert list(SortedNames(names, stem)) == sorted(names)


def test_runs_of_equal_neighbours():
    import numpy as np

    assert list(equal_runs(np.array([], dtype=np.int64))) == []
    # items 1=2, 2=3 (one run 1..3), 5=6, 9=10
    assert list(equal_runs(np.array([1, 2, 5, 9]))) == [(1, 4), (5, 7), (9, 11)]

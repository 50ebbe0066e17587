"""Any bytes in a student's file end as a Submission or a SubmissionError (property-based).

A file the grader cannot read is the student's to fix (score 0, exit 1, a reason);
any other exception would end as "grade: internal error" (exit 3). Set
GRADE_FUZZ_EXAMPLES for a longer hunt than the suite's.
"""

import json
import os

from conftest import run_json
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader.reading.submission import Chunk, Submission, SubmissionError, submission_from_bytes

FUZZ = settings(
    max_examples=int(os.environ.get("GRADE_FUZZ_EXAMPLES", 150)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = st.sampled_from(["softmax.ipynb", "softmax.py", "dir/alice.ipynb", "x.txt", ".ipynb", "softmax"])
DEEP = b"[" * 100_000 + b"]" * 100_000


def read(name, data):
    """submission_from_bytes' answer, which must be a Submission of code chunks or a SubmissionError."""
    try:
        submission = submission_from_bytes(name, data)
    except SubmissionError as error:
        assert str(error)
        return error
    assert isinstance(submission, Submission) and submission.kind in ("py", "ipynb")
    for chunk in submission.chunks:
        assert isinstance(chunk, Chunk) and isinstance(chunk.code, str) and isinstance(chunk.filename, str)
        assert chunk.cell is None or (type(chunk.cell) is int and chunk.cell > 0)
    return submission


scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
code_lines = st.text(st.sampled_from("x=(1)[]{}%!#'\"\\ \n\t"), max_size=40) | st.text(max_size=40)
sources = code_lines | st.lists(code_lines | json_values, max_size=4) | json_values
cells = (
    st.fixed_dictionaries(
        {"cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values},
        optional={
            "source": sources,
            "metadata": json_values
            | st.fixed_dictionaries(
                {"nbgrader": json_values | st.fixed_dictionaries({"grade": json_values, "solution": json_values})}
            ),
        },
    )
    | json_values
)
notebooks = (
    st.fixed_dictionaries(
        {"cells": st.lists(cells, max_size=5) | json_values},
        optional={"metadata": json_values, "nbformat": json_values},
    )
    | json_values
)


@FUZZ
@given(NAMES, st.binary(max_size=300))
@example("softmax.ipynb", DEEP)
@example("softmax.ipynb", b'{"cells": ' + DEEP + b"}")
@example("softmax.ipynb", b'{"cells": [{"cell_type": "code", "source": ' + DEEP + b"}]}")
@example("softmax.py", b"\xff\xfe\x00")
@example("softmax.ipynb", b'\xef\xbb\xbf{"cells": []}')
@example("softmax.ipynb", b'{"cells": 1' + b"0" * 5000 + b"}")
def test_any_bytes_end_in_a_submission_or_a_submission_error(name, data):
    read(name, data)


@FUZZ
@given(notebooks)
@example({"cells": [{"cell_type": "code", "source": {"print": 1}}]})
@example({"cells": [{"cell_type": "code", "source": 12}]})
@example({"cells": [{"cell_type": "code", "source": [["x = 1"], [2]]}]})
@example({"cells": [{"cell_type": "code", "source": ["x = 1\n", None]}]})
@example({"cells": [{"cell_type": ["code"], "source": "x = 1"}, 7, None, "cell"]})
@example({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": []}}]})
@example({"cells": [{"cell_type": "code", "source": "x = 1\n" * 100_000}]})
@example({"cells": {"0": {"cell_type": "code", "source": "x = 1"}}})
def test_any_notebook_json_ends_in_a_submission_or_a_submission_error(notebook):
    read("softmax.ipynb", json.dumps(notebook).encode())


def test_a_source_that_is_not_text_is_refused_with_its_cell_number():
    notebook = {"cells": [{"cell_type": "markdown", "source": "# hi"}, {"cell_type": "code", "source": {"print": 1}}]}
    error = read("softmax.ipynb", json.dumps(notebook).encode())
    assert isinstance(error, SubmissionError) and "cell 2" in str(error) and "not text" in str(error)
    good = read("softmax.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": ["x = ", "1"]}]}).encode())
    assert [chunk.code for chunk in good.chunks] == ["x = 1"]


def test_a_deeply_nested_notebook_scores_zero_with_a_reason_not_an_internal_error(tmp_path):
    path = tmp_path / "softmax.ipynb"
    path.write_bytes(b'{"cells": ' + DEEP + b"}")
    result, report = run_json("check", path)
    assert result.returncode == 1, result.stderr
    assert report["score"] == 0 and "nested too deeply" in report["tasks"][0]["fact"]


def test_magic_lines_inside_an_open_bracket_are_code_however_many_there_are():
    # Each such line once re-read the cell from the top: 4,000 of them took a minute, read before any
    # sandbox or time limit applies. They are read in one pass now.
    code = "x = (1\n" + "% 2\n" * 20_000 + ")\n%time y = 1"
    cell = {"cell_type": "code", "source": code}
    (chunk,) = read("softmax.ipynb", json.dumps({"cells": [cell]}).encode()).chunks
    assert chunk.code == code[: -len("%time y = 1")]

"""Every file in tests/submissions/softmax is graded and its header's verdicts hold.

Each file starts with lines `# expect <task>: pass` or `# expect <task>: fail <codes>`:
mutants carry their bug and the exact diagnosis it must get; correct solutions in
several styles must pass with no diagnosis at all.
"""

import json

import pytest
from conftest import SUBMISSIONS, assert_verdicts, expectations

from grader import exercises
from grader.checking.grading import grade_file
from grader.checking.results import Report

EXERCISE = exercises.load("softmax")
FILES = sorted([*(SUBMISSIONS / "softmax").glob("*.py"), *(SUBMISSIONS / "softmax").glob("*.ipynb")])


def test_the_corpus_covers_every_task_and_every_softmax_code():
    codes = {code for path in FILES for _, (_, wanted, _) in expectations(path).items() for code in wanted}
    assert {
        "missing_keepdims",
        "wrong_axis",
        "transposed",
        "not_averaged",
        "double_averaged",
        "missing_subtract_one",
        "whole_columns",
        "sign_flipped",
        "unstable_softmax",
        "not_normalized",
        "input_mutated",
        "shape_mismatch",
        "nan_or_inf",
        "exception",
        "not_implemented",
        "timeout",
        "crashed",
        "wrong_type",
        "autodiff_used",
    } <= codes
    assert all(set(expectations(path)) == {"forward", "dZ", "dW", "db"} for path in FILES)


def _waits_for_a_time_limit(path):
    """A file graded only once a time limit runs out (a timeout, a top-level experiment cut short)
    spends its 2 s waiting: the fast suite leaves it out."""
    timed_out = any("timeout" in wanted for _, wanted, _ in expectations(path).values())
    return timed_out or "# slow:" in "".join(path.read_text().splitlines(keepends=True)[:10])


CASES = [
    pytest.param(path, id=path.stem, marks=[pytest.mark.slow] if _waits_for_a_time_limit(path) else [])
    for path in FILES
]


@pytest.mark.parametrize("path", CASES)
def test_submission_gets_its_expected_verdicts(path):
    report = grade_file(path, EXERCISE, timeout=2.0)
    assert_verdicts(report, expectations(path))
    # A correct notebook has no cell that raised (the grader's own import is not the student's error).
    assert not (path.stem.startswith("correct") and report.cell_errors), report.cell_errors
    # The plain-data form (JSON, batch rows, stored results) gives back exactly this Report.
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report

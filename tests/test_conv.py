"""The conv exercise: every corpus file gets its header's verdicts, the reference full marks.

The mutants are issue 26's named mistakes of convolution and max pooling; CS231n's naive
version, five nested loops per pass, must pass with no diagnosis within the time limit.
Grading runs in-process through grade_file, one sandbox per file.
"""

import pytest
from conftest import SUBMISSIONS
from layer_exercises import (
    assert_file_verdicts,
    assert_full_marks,
    corpus,
    corpus_codes,
    docs_example,
    docs_task_rows_missing,
    solution_cells_missing,
)

NAME = "conv"
FILES = corpus(NAME)
CODES = {
    "padded_dx",
    "empty_at_pad_0",
    "wrong_axis",
    "flipped_kernel",
    "stride_ignored",
    "off_by_one",
    "padded_all_axes",
    "pool_all_entries",
    "pool_averaged",
    "pool_overwritten",
    "input_mutated",
}


def test_the_corpus_covers_every_task_and_the_issue_mutants():
    codes, every_task = corpus_codes(NAME)
    assert CODES <= codes and every_task


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_submission_gets_its_expected_verdicts(path):
    assert_file_verdicts(NAME, path)


def test_the_reference_solution_gets_full_marks(write):
    assert_full_marks(NAME, write)


@pytest.mark.parametrize("student", [1, 2**40 + 7])
def test_verdicts_hold_on_a_students_own_sizes(student, write):
    # A student's variant draws other sizes, all distinct: the verdicts must not depend on the defaults.
    assert_full_marks(NAME, write, variant=student)
    for file in ["flipped_kernel.py", "pool_window_assigned.py"]:
        assert_file_verdicts(NAME, SUBMISSIONS / NAME / file, variant=student)


def test_the_solution_splits_into_one_nbgrader_cell_per_task():
    assert solution_cells_missing(NAME) == []


def test_docs_list_every_task_with_its_points():
    assert docs_task_rows_missing(NAME) == []


def test_the_docs_example_is_the_graders_output():
    shown, printed = docs_example(NAME, "conv_backward", "conv/dx_pad_minus_pad.py", "dx_pad_minus_pad.py`, dX cut")
    assert shown == printed


def test_a_gradient_wrong_only_on_the_large_batch_is_caught_by_directional_derivatives():
    # The larger case is checked by sampled directional derivatives of the grader's forward, not entry by entry.
    from conftest import solution_text

    from grader import exercises
    from grader.checking.grading import seeded_cases

    namespace = {}
    exec(solution_text(NAME), namespace)
    task, cases = next((t, c) for t, c in seeded_cases(exercises.load(NAME), 0) if t.name == "conv_backward")
    (large,) = [case for case in cases if case.data.get("large")]
    dX, dW, db = namespace["conv_backward"](*large.args)
    assert task.check(large, (dX, dW, db)) == {"dX": None, "dW": None, "db": None}
    dW = dW.copy()
    dW[0, 0, 0, 0] += 1.0  # one entry of 288 off
    verdicts = task.check(large, (dX, dW, db))
    assert verdicts["dX"] is None and verdicts["db"] is None
    assert verdicts["dW"].diagnoses == ("wrong_value",)
    assert verdicts["dW"].fact.startswith("dW does not match finite differences")

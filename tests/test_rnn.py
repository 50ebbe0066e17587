"""The rnn exercise: every corpus file gets its header's verdicts, the reference full marks.

The mutants are issue 26's named mistakes of the vanilla RNN (one step, through time) and
of the LSTM step; a backward that reuses its upstream gradients in place must pass.
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

NAME = "rnn"
FILES = corpus(NAME)
CODES = {
    "wrong_tanh_derivative",
    "swapped_weights",
    "no_carry",
    "upstream_added_twice",
    "wrong_gate_order",
    "missing_tanh_derivative",
    "dprev_c_without_f",
    "forget_gate_without_prev_c",
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
    for file in ["bptt_no_carry.py", "lstm_gates_ifgo.py"]:
        assert_file_verdicts(NAME, SUBMISSIONS / NAME / file, variant=student)


def test_the_solution_splits_into_one_nbgrader_cell_per_task():
    assert solution_cells_missing(NAME) == []


def test_docs_list_every_task_with_its_points():
    assert docs_task_rows_missing(NAME) == []


def test_the_docs_example_is_the_graders_output():
    shown, printed = docs_example(
        NAME, "lstm_step_backward", "rnn/lstm_dprev_c_without_f.py", "lstm_dprev_c_without_f.py`, dprev_c"
    )
    assert shown == printed

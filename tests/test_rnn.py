"""The rnn exercise: every corpus file gets its header's verdicts, the reference full marks.

The mutants are issue 26's named mistakes of the vanilla RNN (one step, through time) and
of the LSTM step; a backward that reuses its upstream gradients in place must pass.
Grading runs in-process through grade_file, one sandbox per file.
"""

import json

import pytest
from conftest import (
    ROOT,
    SUBMISSIONS,
    assert_verdicts,
    docs_example_check,
    docs_task_rows_missing,
    expectations,
    gradescope_errors,
    solution_text,
)

from grader import exercises
from grader.checking.grading import grade_file
from grader.checking.results import Report

EXERCISE = exercises.load("rnn")
TASKS = {task.name for task in EXERCISE.tasks}
FILES = sorted((SUBMISSIONS / "rnn").glob("*.py"))


def test_the_corpus_covers_every_task_and_the_issue_mutants():
    codes = {code for path in FILES for _, (_, wanted, _) in expectations(path).items() for code in wanted}
    assert {
        "wrong_tanh_derivative",
        "swapped_weights",
        "no_carry",
        "upstream_added_twice",
        "wrong_gate_order",
        "missing_tanh_derivative",
        "dprev_c_without_f",
        "forget_gate_without_prev_c",
        "input_mutated",
    } <= codes
    assert all(set(expectations(path)) == TASKS for path in FILES)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_submission_gets_its_expected_verdicts(path):
    report = grade_file(path, EXERCISE, timeout=5.0)
    assert_verdicts(report, expectations(path))
    # The plain-data form (JSON, batch rows, stored results) gives back this Report; Gradescope takes its results.
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert gradescope_errors(report) == []


def test_the_reference_solution_gets_full_marks(write):
    report = grade_file(write("rnn.py", solution_text("rnn")), EXERCISE, timeout=5.0)
    assert_verdicts(report, {task: (True, [], None) for task in TASKS})


@pytest.mark.parametrize("student", [1, 2**40 + 7])
def test_verdicts_hold_on_a_students_own_sizes(student, write):
    # Per-student variants draw other sizes (m != n): the verdicts must not depend on the defaults.
    report = grade_file(write("rnn.py", solution_text("rnn")), EXERCISE, variant=student)
    assert_verdicts(report, {task: (True, [], None) for task in TASKS})
    for name in ("bptt_no_carry.py", "lstm_gates_ifgo.py"):
        path = SUBMISSIONS / "rnn" / name
        assert_verdicts(grade_file(path, EXERCISE, timeout=5.0, variant=student), expectations(path))


def test_the_solution_splits_into_one_nbgrader_cell_per_task():
    # What `grade nbgrader-source` builds the notebook from (nbformat itself is left to test_notebook_feedback).
    from grader.integrations.nbgrader_source import split_solution

    docstring, pieces = split_solution((ROOT / "solutions" / "rnn.py").read_text())
    assert "grade check rnn.py" in docstring
    assert TASKS <= {name for name, code in pieces if name and "### BEGIN SOLUTION" in code}


def test_docs_list_every_task_with_its_points():
    assert docs_task_rows_missing(EXERCISE) == []


def test_the_docs_example_is_the_graders_output():
    shown, printed = docs_example_check(
        "rnn", "lstm_step_backward", "rnn/lstm_dprev_c_without_f.py", "lstm_dprev_c_without_f.py`, dprev_c"
    )
    assert shown == printed

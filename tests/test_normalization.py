"""The normalization exercise: every corpus file gets its header's verdicts, the reference full marks.

The mutants are issue 26's named mistakes of batch and layer normalization and of inverted
dropout; correct files in other styles (batchnorm_backward derived in steps, the upstream
gradient reused in place, a mask drawn in another order as 0/1 floats) must pass with no
diagnosis. Grading runs in-process through grade_file, one sandbox per file.
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

EXERCISE = exercises.load("normalization")
TASKS = {task.name for task in EXERCISE.tasks}
FILES = sorted((SUBMISSIONS / "normalization").glob("*.py"))


def test_the_corpus_covers_every_task_and_the_issue_mutants():
    codes = {code for path in FILES for _, (_, wanted, _) in expectations(path).items() for code in wanted}
    assert {
        "missing_statistics_terms",
        "unbiased_variance",
        "eps_misplaced",
        "wrong_axis",
        "not_summed",
        "not_scaled",
        "scaled_by_keep_prob",
        "mask_shared",
        "mask_inverted",
        "missing_mask",
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
    report = grade_file(write("normalization.py", solution_text("normalization")), EXERCISE, timeout=5.0)
    assert_verdicts(report, {task: (True, [], None) for task in TASKS})


@pytest.mark.parametrize("student", [1, 2**40 + 7])
def test_verdicts_hold_on_a_students_own_sizes(student, write):
    # Per-student variants draw other sizes (m != n): the verdicts must not depend on the defaults.
    report = grade_file(write("normalization.py", solution_text("normalization")), EXERCISE, variant=student)
    assert_verdicts(report, {task: (True, [], None) for task in TASKS})
    for name in ("bn_dx_simplified.py", "dropout_mask_per_feature.py"):
        path = SUBMISSIONS / "normalization" / name
        assert_verdicts(grade_file(path, EXERCISE, timeout=5.0, variant=student), expectations(path))


def test_the_solution_splits_into_one_nbgrader_cell_per_task():
    # What `grade nbgrader-source` builds the notebook from (nbformat itself is left to test_notebook_feedback).
    from grader.integrations.nbgrader_source import split_solution

    docstring, pieces = split_solution((ROOT / "solutions" / "normalization.py").read_text())
    assert "grade check normalization.py" in docstring
    assert TASKS <= {name for name, code in pieces if name and "### BEGIN SOLUTION" in code}


def test_docs_list_every_task_with_its_points():
    assert docs_task_rows_missing(EXERCISE) == []


def test_the_docs_example_is_the_graders_output():
    shown, printed = docs_example_check(
        "normalization", "batchnorm_backward", "normalization/bn_dx_simplified.py", "Example feedback of each"
    )
    assert shown == printed

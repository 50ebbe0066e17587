"""The normalization exercise: every corpus file gets its header's verdicts, the reference full marks.

The mutants are issue 26's named mistakes of batch and layer normalization and of inverted
dropout; correct files in other styles (batchnorm_backward derived in steps, the upstream
gradient reused in place, a mask drawn in another order as 0/1 floats) must pass with no
diagnosis. Grading runs in-process through grade_file, one sandbox per file.
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

NAME = "normalization"
FILES = corpus(NAME)
CODES = {
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
}


def test_the_corpus_covers_every_task_and_the_issue_mutants():
    codes, every_task = corpus_codes(NAME)
    assert CODES <= codes and every_task


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_submission_gets_its_expected_verdicts(path):
    assert_file_verdicts(NAME, path)


def test_the_reference_solution_gets_full_marks(write):
    assert_full_marks(NAME, write)


@pytest.mark.parametrize("student", [2, 2**40 + 7])
def test_verdicts_hold_on_a_students_own_sizes(student, write):
    # A student's variant draws other sizes, all distinct: the verdicts must not depend on the defaults.
    assert_full_marks(NAME, write, variant=student)
    for file in ["bn_dx_simplified.py", "dropout_mask_per_feature.py", "dropout_mask_per_example_broadcast.py"]:
        assert_file_verdicts(NAME, SUBMISSIONS / NAME / file, variant=student)


def test_the_solution_splits_into_one_nbgrader_cell_per_task():
    assert solution_cells_missing(NAME) == []


def test_docs_list_every_task_with_its_points():
    assert docs_task_rows_missing(NAME) == []


def test_the_docs_example_is_the_graders_output():
    shown, printed = docs_example(
        NAME, "batchnorm_backward", "normalization/bn_dx_simplified.py", "Example feedback of each"
    )
    assert shown == printed


def test_only_the_upstream_gradient_may_be_changed_in_place():
    # correct_upstream_in_place.py passes (dY is in may_modify); without may_modify the same writes fail.
    import dataclasses

    from grader import exercises
    from grader.checking.grading import grade_task, seeded_cases
    from grader.sandbox.inprocess import InProcess

    namespace = {}
    exec((SUBMISSIONS / NAME / "correct_upstream_in_place.py").read_text(), namespace)
    for task, cases in seeded_cases(exercises.load(NAME), 0):
        if task.may_modify:
            assert grade_task(InProcess(namespace), task, cases, 5.0).passed
            strict = grade_task(InProcess(namespace), dataclasses.replace(task, may_modify=()), cases, 5.0)
            assert strict.diagnoses == ("input_mutated",) and strict.score == 0

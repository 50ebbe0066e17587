"""The grading loop on small specs: None is a pass, parts are graded independently, the inputs are frozen.

Functions are called in this process (sandbox.inprocess, as a notebook's feedback
does), so these tests cost milliseconds; the sandbox has its own tests.
"""

import numpy as np
import pytest

from grader import exercises
from grader.checking.grading import grade_task, seeded_cases
from grader.checking.spec import Case, Part, Task, Verdict
from grader.integrations.notebook import feedback, grade_one
from grader.sandbox.inprocess import InProcess


def run(task, code, cases=None):
    namespace = {}
    exec(code, namespace)
    return grade_task(InProcess(namespace), task, cases or task.cases(np.random.default_rng(0)), timeout=5.0)


def three_cases(rng):
    return [Case(f"case {i}", (i,)) for i in range(3)]


def test_a_check_returning_none_passes():
    task = Task("f", 1, ("x",), "y", three_cases, lambda case, value: None)
    result = run(task, "def f(x):\n    return x\n")
    assert (result.passed, result.score, result.diagnoses, result.fact) == (True, 1, (), "")


def test_a_verdict_fails_the_task_at_the_first_failing_case_with_its_pieces_apart():
    def check(case, value):
        return Verdict(f"f returned {value}", ("sign_flipped",), ("a detail",)) if case.args[0] == 1 else None

    task = Task("f", 1, ("x",), "y", three_cases, check, hints={"sign_flipped": "no minus"})
    result = run(task, "def f(x):\n    return -x\n")
    assert (result.passed, result.score, result.max_score) == (False, 0, 1)
    assert (result.fact, result.hint, result.diagnoses, result.details, result.case) == (
        "f returned -1",
        "no minus",
        ("sign_flipped",),
        ("a detail",),
        "case 1",
    )


# A task in three parts; the check fails part "a" on case 0, "b" on case 2, never "c".
def parted_check(case, value):
    i = case.args[0]
    return {
        "a": Verdict(f"a wrong on {i}", ("wrong_value",)) if i >= 0 else None,
        "b": Verdict(f"b wrong on {i}", ("transposed",)) if i == 2 else None,
        "c": None,
    }


PARTED = Task("f", 2, ("x",), "y", three_cases, parted_check, parts=(Part("a", 1), Part("b", 0.5), Part("c", 0.5)))


def test_parts_fail_at_their_own_first_failing_case_and_the_others_keep_being_checked():
    result = run(PARTED, "def f(x):\n    return x\n")
    a, b, c = result.parts
    assert (a.passed, a.score, a.fact, a.case) == (False, 0, "a wrong on 0", "case 0")
    assert (b.passed, b.score, b.fact, b.case, b.diagnoses) == (False, 0, "b wrong on 2", "case 2", ("transposed",))
    assert (c.passed, c.score, c.max_score) == (True, 0.5, 0.5)
    assert (result.passed, result.score, result.max_score) == (False, 0.5, 2)
    assert result.diagnoses == ("wrong_value", "transposed") and result.fact == ""  # no failure shared by all


def test_a_single_verdict_fails_every_part_once_and_is_the_tasks():
    result = run(PARTED, "def f(x):\n    raise ValueError('no')\n")
    assert result.score == 0 and [part.passed for part in result.parts] == [False, False, False]
    assert result.fact == "f raised ValueError: no" and result.diagnoses == ("exception",)
    assert all(part.fact == result.fact for part in result.parts)


def test_a_part_no_case_checks_is_a_spec_error():
    task = Task("f", 2, ("x",), "y", three_cases, lambda case, value: {"a": None}, parts=(Part("a", 1), Part("b", 1)))
    with pytest.raises(ValueError, match="no case checked part b"):
        run(task, "def f(x):\n    return x\n")


def test_a_check_naming_an_unknown_part_is_a_spec_error():
    task = Task("f", 1, ("x",), "y", three_cases, lambda case, value: {"z": None})
    with pytest.raises(ValueError, match="its check returned verdicts for"):
        run(task, "def f(x):\n    return x\n")


@pytest.mark.parametrize(
    "parts, message",
    [
        ((Part("a", 1), Part("b", 1)), "add up to 2, not 3"),
        ((Part("a", 1), Part("a", 2)), "part names repeat"),
    ],
)
def test_parts_must_add_up_to_the_task_and_have_distinct_names(parts, message):
    with pytest.raises(ValueError, match=message):
        Task("f", 3, ("x",), "y", three_cases, lambda case, value: None, parts=parts)


def test_artifacts_come_from_the_task_hook_whatever_the_verdict():
    kept = {}
    task = Task(
        "f",
        1,
        ("x",),
        "y",
        three_cases,
        lambda case, value: Verdict("no"),
        artifacts=lambda case, value: {"last": value},
    )
    namespace = {}
    exec("def f(x):\n    return x * 10\n", namespace)
    grade_task(InProcess(namespace), task, three_cases(None), timeout=5.0, artifacts=kept)
    assert kept == {"last": 0}  # the check failed case 0, so no other case was called


def test_the_seeded_inputs_are_read_only_for_every_exercise():
    for spec in exercises.all_exercises():
        for task, cases in seeded_cases(spec, 0):
            arrays = [
                value for case in cases for value in (*case.args, *case.data.values()) if isinstance(value, np.ndarray)
            ]
            assert arrays, task.name
            assert not any(array.flags.writeable for array in arrays), task.name
            with pytest.raises(ValueError, match="read-only"):
                arrays[0][...] = 0


# -- the built-in splits, in this process ------------------------------------------------------------
LAYERS = """
import numpy as np

def affine_backward(dZ, A_prev, W):
    return dZ @ W.T, {dW}, {db}
"""


@pytest.mark.parametrize(
    "dW, db, score, wrong",
    [
        ("A_prev.T @ dZ", "dZ.sum(axis=0, keepdims=True)", 2, ()),
        ("(A_prev.T @ dZ).T", "dZ.sum(axis=0, keepdims=True)", 1.5, ("dW",)),
        ("A_prev.T @ dZ", "dZ.sum(axis=0)", 1.5, ("db",)),
        ("A_prev.T @ dZ / len(dZ)", "dZ.sum(axis=1)", 1, ("dW", "db")),
    ],
)
def test_affine_backward_gives_each_gradient_its_own_points(dW, db, score, wrong, capsys):
    namespace = {}
    exec(LAYERS.format(dW=dW, db=db), namespace)
    result = grade_one("two_layer", "affine_backward", namespace)
    assert result.score == score
    assert [part.name for part in result.parts if not part.passed] == list(wrong)
    assert feedback("two_layer", "affine_backward", namespace) == score
    out = capsys.readouterr().out
    assert out.startswith(f"  {'PASS' if score == 2 else 'FAIL'}  affine_backward  {score:g}/2")
    for part in result.parts if wrong else ():  # a passed task shows only its score line
        assert f"{'PASS' if part.passed else 'FAIL'}  {part.name:<7}  {part.score:g}/{part.max_score:g}" in out

"""A hostile student against the verdicts: what a submission returns or does inside its own sandbox
must never crash the grader, hang it, earn points it does not deserve, or cost a classmate theirs.

Each attack runs through the real command line (`grade check FILE --json`, `grade batch`), on a
reference solution with one function replaced, so that every task the attack does not touch must
still pass. An attack the grader withstands asserts the verdict it gets; one it does not yet
withstand is marked xfail with the reason.
"""

import json
import textwrap

import pytest
from conftest import ROOT, run_grade

from grader.stubs import strip_markers


def solution(exercise):
    return strip_markers((ROOT / "solutions" / f"{exercise}.py").read_text())


# The ReLU exercises' reference, with train left undone: it is not what these attacks are about,
# and training costs seconds per run.
NO_TRAIN = "\n\ndef train(X, y, hidden_sizes, seed):\n    raise NotImplementedError\n"


def check(tmp_path, exercise, attack, *options, base=None):
    """`grade check --json` on the reference solution of `exercise` followed by `attack` (which
    redefines what it attacks): (exit code, the JSON report, {task: task dict})."""
    text = (solution(exercise) if base is None else base) + textwrap.dedent(attack)
    path = tmp_path / f"{exercise}.py"
    path.write_text(text)
    done = run_grade("check", path, "--json", *options)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(done.stdout)
    return done.returncode, report, {task["name"]: task for task in report["tasks"]}


def part(task, name):
    return next(item for item in task["parts"] if item["name"] == name)


def others_pass(tasks, *attacked):
    return all(task["passed"] for name, task in tasks.items() if name not in attacked)


# == the gradient checks cannot be fooled by what the gradients hold ============================
HUGE_ENTRY = """
_right = loss_and_grads

def loss_and_grads(X, y, params, reg):
    loss, _ = _right(X, y, params, reg)
    grads = {key: np.zeros_like(value) for key, value in params.items()}
    grads["b2"][0, 0] = 1e200  # finite, but its square overflows
    return loss, grads
"""


def test_a_gradient_whose_norm_overflows_is_not_the_gradient(tmp_path):
    """All zeros but one finite entry so large that its square overflows: a denominator built from
    the submission's own gradient became inf, and every directional probe then agreed."""
    _, _, tasks = check(tmp_path, "two_layer", HUGE_ENTRY, base=solution("two_layer") + NO_TRAIN)
    task = tasks["loss_and_grads"]
    assert part(task, "loss")["passed"]
    grads = part(task, "grads")
    assert not grads["passed"] and grads["score"] == 0 and grads["diagnoses"] == ["wrong_value"], grads
    assert "grads['b2']" in grads["fact"]


WRONG_SHAPE_HUGE = """
_right = loss_and_grads

def loss_and_grads(X, y, params, reg):
    loss, grads = _right(X, y, params, reg)
    grads["b2"] = np.full(params["b2"].shape[1], 1e200)  # the shape of a missing keepdims, not its values
    return loss, grads
"""


def test_a_wrong_shape_full_of_huge_entries_is_not_named_as_a_known_mistake(tmp_path):
    _, _, tasks = check(tmp_path, "two_layer", WRONG_SHAPE_HUGE, base=solution("two_layer") + NO_TRAIN)
    grads = part(tasks["loss_and_grads"], "grads")
    assert not grads["passed"] and grads["diagnoses"] == ["shape_mismatch"], grads

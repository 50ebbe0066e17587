"""train's time: each call gets its own limit, a call that runs out fails its own parts only.

The calls are scripted (a box that returns set Outcomes and records each call's limit), so no
training runs here except one short one that makes usable params.
"""

import numpy as np
import pytest
from conftest import solution_text

from grader import defaults, exercises
from grader.checking.grading import grade_task, seeded_cases
from grader.checking.spec import Case, Task
from grader.exercises.relu_tasks import TRAIN_SECONDS
from grader.sandbox.base import Outcome


class Scripted:
    """A sandbox whose calls return OUTCOMES in turn; `limits` records each call's time limit."""

    def __init__(self, *outcomes):
        self.outcomes, self.limits = list(outcomes), []

    def call(self, function, args, timeout=None, names=None):
        self.limits.append(timeout)
        return self.outcomes.pop(0)


@pytest.fixture(scope="module")
def spiral_params():
    """Params for [2, 100, 3] that classify the public spiral: a [24] net trained (1 s), padded with zeros."""
    namespace = {}
    exec(solution_text("two_layer"), namespace)
    (_, cases) = next(
        plan for plan in seeded_cases(exercises.load("two_layer"), defaults.SEED) if plan[0].name == "train"
    )
    X, y, _, seed = cases[0].args
    small = namespace["train"](X, y, [24], seed)
    W1, b1, W2 = np.zeros((2, 100)), np.zeros((1, 100)), np.zeros((100, 3))
    W1[:, :24], b1[:, :24], W2[:24] = small["W1"], small["b1"], small["W2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": small["b2"]}


def train_plan():
    exercise = exercises.load("two_layer")
    return next(plan for plan in seeded_cases(exercise, defaults.SEED) if plan[0].name == "train")


def test_a_second_call_that_runs_out_of_time_keeps_the_first_calls_accuracy(spiral_params):
    task, cases = train_plan()
    box = Scripted(Outcome("ok", value=spiral_params), Outcome("timeout"))
    result = grade_task(box, task, cases, timeout=defaults.TIMEOUT)
    assert box.limits == [TRAIN_SECONDS, TRAIN_SECONDS]  # each call its own, not what the first left
    accuracy, hidden = result.parts
    assert (accuracy.passed, accuracy.score) == (True, 1)
    assert (hidden.passed, hidden.diagnoses) == (False, ("timeout",))
    assert hidden.fact == f"train did not return within {TRAIN_SECONDS:g} s"
    assert hidden.case == cases[1].label and "hidden_sizes=[24]" in hidden.case  # the call that ran out
    assert result.score == 1


def test_a_first_call_that_runs_out_of_time_fails_both_parts_and_is_not_called_again():
    task, cases = train_plan()
    box = Scripted(Outcome("timeout"))
    result = grade_task(box, task, cases, timeout=defaults.TIMEOUT)
    assert box.limits == [TRAIN_SECONDS]  # no second minute spent: its only part has failed already
    assert result.score == 0 and result.diagnoses == ("timeout",) and result.case == cases[0].label


def test_a_task_without_its_own_limit_shares_the_timeout_between_its_calls():
    task = Task("f", 1, ("x",), "y", lambda rng: [Case("a", (1,)), Case("b", (2,))], lambda case, value: None)
    box = Scripted(Outcome("ok", value=1), Outcome("ok", value=2))
    grade_task(box, task, task.cases(None), timeout=5.0)
    assert box.limits[0] <= 5.0 and box.limits[1] <= box.limits[0]


def test_the_timeout_option_says_what_train_gets():
    from click.testing import CliRunner

    from grader.cli import cli

    said = " ".join(CliRunner().invoke(cli, ["check", "--help"]).output.split())
    assert f"train is not bound by it: each of its calls (a training run) gets {TRAIN_SECONDS:g} s" in said

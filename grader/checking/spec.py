"""The declarative shape of an exercise: tasks, their points, inputs and checks.

An exercise module defines EXERCISE = Exercise(...). Each Task names the learner's
function, the grader-made input sets (Cases) it is called on, and one `check`
function that turns (case, returned value) into a Verdict using checks.py.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    """Passed or not, why (one line), which named mistakes apply, and where (extra lines).

    artifacts: things the grader made while checking that outlive the verdict (e.g. the
    trained params behind `grade check --plot`); they go to Report.artifacts, not to JSON.
    """

    passed: bool
    message: str = ""
    diagnoses: tuple = ()
    details: tuple = ()
    artifacts: dict = field(default_factory=dict, compare=False)


PASS = Verdict(True)


@dataclass(frozen=True)
class Case:
    """One input set. `args` go to the learner; `data` stays in the grader (e.g. Z for dZ)."""

    label: str
    args: tuple
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    name: str  # the learner's function
    points: float
    params: tuple  # argument names, for messages ("P was modified")
    returns: str  # e.g. "G (m,k)"
    cases: Callable  # (numpy Generator) -> list of Case
    check: Callable  # (Case, value) -> Verdict
    hints: dict = field(default_factory=dict)  # code -> hint, overriding diagnoses.HINTS
    timeout: float = None  # seconds; None means the grader's --timeout

    @property
    def signature(self):
        return f"{self.name}({', '.join(self.params)}) -> {self.returns}"


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    tasks: tuple

    @property
    def max_score(self):
        return sum(task.points for task in self.tasks)

    def task(self, name):
        return next(task for task in self.tasks if task.name == name)


# The grader's answers, kept apart from the Cases and computed once per process. The
# learner's process never holds them: it is forked from a clean fork server, not from here.
_ANSWERS = {}


def answer(case, name, compute):
    """compute() once per process and case: the expected value of `name` for `case`.

    Checks call this after the learner's function has returned, never while making
    cases, so a Case never carries its own answer.
    """
    key = (id(case), name)
    hit = _ANSWERS.get(key)
    if hit is None or hit[0] is not case:  # the case is kept in the value, so its id cannot be reused
        hit = _ANSWERS[key] = (case, compute())
    return hit[1]

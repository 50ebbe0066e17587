"""The declarative shape of an exercise: tasks, their points (maybe split into parts), inputs and checks.

An exercise module defines EXERCISE = Exercise(...). Each Task names the learner's
function, the grader-made input sets (Cases) it is called on, and one `check`
function that turns (case, returned value) into None (passed) or a Verdict (failed),
built from the checks in checks.py.

A task's points may be split over named parts, graded independently:

    Task("loss_and_grads", 3, ..., parts=(Part("loss", 1), Part("grads", 2)))

Its check then returns {part: None | Verdict} (a part left out is not checked on
that case), a single Verdict (every part fails on that case) or None (every part
passes). Each part fails at its first failing case; the others keep being checked.

An exercise may declare the sizes of its inputs, each a default and a range:

    Exercise(..., sizes={"m": Size(5, 4, 12), "d": Size(4, 3, 9), "k": Size(7, 3, 9)})

Then every task's cases are called as cases(rng, sizes), sizes a dict of ints: the
defaults on the public inputs, and per student (a variant) values drawn from the
ranges, no two equal, so a transpose or a wrong axis never goes unseen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np


@dataclass(frozen=True)
class Verdict:
    """A failed check: what was observed (one line), the named mistakes, and where (extra lines).

    A check that passes returns None; there is no passing Verdict. The hint that fixes
    a mistake comes from its codes (the task's own Task.hints, else diagnoses.HINTS),
    unless `hint` gives one ("" for none).
    """

    fact: str
    diagnoses: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    hint: str | None = None


# What Task.check returns: None (passed), a Verdict (failed; with parts: every part failed),
# or, for a task with parts, {part name: None or Verdict} for the parts this case checks.
CheckResult = Verdict | Mapping[str, Verdict | None] | None


# Automatic differentiation libraries: a backprop task done by hand forbids them (Task.forbidden_imports).
AUTODIFF = ("torch", "jax", "autograd", "tensorflow", "keras", "mxnet", "theano", "chainer")


@dataclass(frozen=True)
class Case:
    """One input set. `args` go to the learner; `data` stays in the grader (e.g. Z for dZ).

    `parts`: the parts of its task this case checks (None: all of them). A call that fails
    on it (a timeout, an exception) fails those parts only, and a case whose parts have all
    failed already is not called.
    """

    label: str
    args: tuple[Any, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    parts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Part:
    """A named share of a task's points, e.g. Part("grads", 2) of loss_and_grads."""

    name: str
    points: float


@dataclass(frozen=True)
class Size:
    """A dimension of an exercise's inputs: `default` on the public inputs, low..high (inclusive) per student."""

    default: int
    low: int
    high: int

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"Size({self.default}, {self.low}, {self.high}): the default is outside low..high")


# A task's cases: cases(rng), or cases(rng, sizes) when its exercise declares sizes.
CasesFunction = Callable[..., Sequence[Case]]


@dataclass(frozen=True)
class Task:
    name: str  # the learner's function
    points: float
    params: tuple[str, ...]  # argument names, for messages ("P was modified")
    returns: str  # e.g. "G (m,k)"
    cases: CasesFunction
    check: Callable[[Case, Any], CheckResult]
    hints: Mapping[str, str] = field(default_factory=dict)  # code -> hint, overriding diagnoses.HINTS
    # Seconds each call may run (train: each training run gets its own); None: the grader's --timeout, for
    # all of the task's calls together.
    timeout: float | None = None
    parts: tuple[Part, ...] = ()  # the points split over named parts; () means one score for the task
    # (case, returned value) -> things to keep that are not verdicts, e.g. train's decision boundary for
    # `grade check --plot`; called after each call that returned a value, whatever the check said.
    artifacts: Callable[[Case, Any], Mapping[str, Any]] | None = None
    # The cases on the public inputs (the default seed, no course secret), when they are not `cases`: train's
    # public spiral, which students see in their plot, while every other seed draws one no one has seen.
    public_cases: CasesFunction | None = None
    # Top-level modules the submission may not import, anywhere, for this task (e.g. AUTODIFF): read from its
    # source by the grader; the task then scores 0 (autodiff_used) and is not called.
    forbidden_imports: tuple[str, ...] = ()
    # Arguments the function may change in place (upstream gradients: a real backward often adds to dnext_c);
    # writing into any other argument fails the task (input_mutated). The learner works on copies either way.
    may_modify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.parts:
            return
        names = [part.name for part in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"task {self.name}: part names repeat: {names}")
        total = sum(part.points for part in self.parts)
        if not math.isclose(total, self.points):
            raise ValueError(f"task {self.name}: its parts' points add up to {total:g}, not {self.points:g}")

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)}) -> {self.returns}"


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    tasks: tuple[Task, ...]
    sizes: Mapping[str, Size] = field(default_factory=dict)  # dimensions that vary per student

    def __post_init__(self) -> None:
        defaults = [size.default for size in self.sizes.values()]
        if len(set(defaults)) != len(defaults):
            raise ValueError(f"exercise {self.name}: two sizes have the same default: {dict(self.default_sizes())}")
        self.draw_sizes(np.random.default_rng(0))  # a spec whose ranges cannot all differ fails here

    def default_sizes(self) -> dict[str, int]:
        return {name: size.default for name, size in self.sizes.items()}

    def draw_sizes(self, rng: np.random.Generator) -> dict[str, int]:
        """One value per size within its range, no two equal (drawn again until they differ)."""
        for _ in range(1000):
            drawn = {name: int(rng.integers(size.low, size.high + 1)) for name, size in self.sizes.items()}
            if len(set(drawn.values())) == len(drawn):
                return drawn
        raise ValueError(f"exercise {self.name}: its size ranges rarely allow distinct values: widen them")

    @property
    def max_score(self) -> float:
        return sum(task.points for task in self.tasks)

    def task(self, name: str) -> Task:
        return next(task for task in self.tasks if task.name == name)


# The grader's answers, kept apart from the Cases and computed once per process. The
# learner's process never holds them: it is forked from a clean fork server, not from here.
# Bounded: with per-student inputs a batch worker makes new cases for every submission.
_ANSWERS: dict[tuple[int, str], tuple[Case, Any]] = {}
_ANSWERS_KEPT = 512

T = TypeVar("T")


def answer(case: Case, name: str, compute: Callable[[], T]) -> T:
    """compute() once per process and case: the expected value of `name` for `case`.

    Checks call this after the learner's function has returned, never while making
    cases, so a Case never carries its own answer.
    """
    key = (id(case), name)
    hit = _ANSWERS.get(key)
    if hit is None or hit[0] is not case:  # the case is kept in the value, so its id cannot be reused
        while len(_ANSWERS) >= _ANSWERS_KEPT:
            del _ANSWERS[next(iter(_ANSWERS))]  # the oldest first (dicts keep insertion order)
        hit = _ANSWERS[key] = (case, compute())
    value: T = hit[1]
    return value

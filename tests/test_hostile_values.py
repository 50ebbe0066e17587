"""Whatever a learner's function returns, and whatever its process says, grading ends in a verdict.

Values are made the way a hostile or confused learner would: the right answer of each task, taken
apart and with its leaves swapped for huge ints, NaN, odd dtypes, 0-d and empty arrays, strings,
deep nesting, or its containers changed; then sent through the wire's encoding as a sandboxed
process would. Every check must return its verdict (never raise: an exception is exit 3, "a bug in
the grader"), and every text made from it must be safe to read (tests/safe_text.py).
"""

import json
import os
import re
import struct
import threading
import time

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from safe_text import assert_safe
from test_wire_fuzz import cell_records, json_values, value_trees

from grader import exercises, report
from grader.checking.grading import grade_task, outcome_verdict, seeded_cases
from grader.checking.results import Report
from grader.integrations.gradescope_results import results as gradescope_results
from grader.sandbox import wire
from grader.sandbox.base import Outcome, Sandbox
from grader.sandbox.inprocess import InProcess
from grader.stubs import strip_markers

FUZZ = settings(
    max_examples=int(os.environ.get("GRADE_FUZZ_EXAMPLES", 40)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXERCISES = ("softmax", "two_layer")
ODD = [
    10**400,
    -(10**400),
    2**64,
    2**53 + 1,
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    5e-324,
    True,
    None,
    "0.5",
    "\u202e\x1b]52;c;aGk=\x07\ud800",
    [[[[[[[[[[[[1.0]]]]]]]]]]]],
    np.float16(3.0),
    np.longdouble(1e300) * np.longdouble(1e300),
    np.array(10**400, dtype=object),
    np.array([1 + 2j]),
    np.array(["a", "b"]),
    np.zeros((0, 3)),
    np.zeros(()),
    np.datetime64("2020-01-01"),
]


def _reference(exercise):
    """[(task, case, the right value)] for the first case of every task, from the solution, in process
    (train is left out: training is slow, and its value is a params dict as loss_and_grads' grads is)."""
    namespace = {"__name__": "solution"}
    exec(
        compile(strip_markers((ROOT / "solutions" / f"{exercise.name}.py").read_text()), "solution", "exec"), namespace
    )
    found = []
    for task, cases in seeded_cases(exercise, 0):
        if task.name == "train":
            continue
        case = cases[0]
        outcome = InProcess(namespace, 30).call(task.name, case.args, names=task.params)
        assert outcome.status == "ok", (task.name, outcome)
        found.append((task, case, outcome.value))
    return found


REFERENCES = {name: _reference(exercises.load(name)) for name in EXERCISES}


def _leaf_swaps(value):
    """A strategy of values like VALUE with some leaves swapped for odd ones, or its containers changed."""
    if isinstance(value, dict):
        keys = sorted(value)
        changed = st.fixed_dictionaries({key: _leaf_swaps(value[key]) for key in keys})
        return st.one_of(
            changed,
            changed.map(lambda d: {k: v for k, v in list(d.items())[1:]}),  # a key missing
            changed.map(lambda d: {**d, "\u202eextra": 1.0}),
            changed.map(lambda d: list(d.values())),
        )
    if isinstance(value, (tuple, list)):
        changed = st.tuples(*(_leaf_swaps(item) for item in value))
        return st.one_of(changed, changed.map(list), changed.map(lambda t: t[:-1]), changed.map(lambda t: (t,)))
    array = np.asarray(value)
    return st.one_of(
        st.just(value),
        st.sampled_from(ODD),
        st.sampled_from(["float16", "float32", "int8", "uint64", "bool", "longdouble"]).map(
            lambda dtype: np.asarray(array, dtype=np.float64).astype(dtype)
        ),
        st.just(array.T),
        st.just(array.reshape(-1)),
        st.just(array.tolist()),
        st.just(-array),
        st.just(array * 1e300),
    )


def _through_the_wire(value):
    """VALUE as a sandboxed process would send it and the grader would read it back."""
    tree, arrays = wire.encode(value)
    specs = wire.array_specs(tree)
    return wire.decode(tree, [wire.array_from_bytes(spec, array.tobytes()) for spec, array in zip(specs, arrays)])


def _graded(task, case, value, outcome=None):
    class Box:  # the sandbox, having received VALUE from the learner's function (or said OUTCOME)
        def call(self, *args, **kwargs):
            return outcome if outcome is not None else Outcome("ok", value=value)

    return grade_task(Box(), task, [case], timeout=10)


def _assert_rendered_safely(exercise, results):
    result = Report(exercise.name, exercise.title, "x.py", 0, exercise.max_score, tuple(results))
    assert_safe(report.render_text(result))
    assert_safe(gradescope_results(result))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
@FUZZ
@given(data=st.data())
def test_any_returned_value_gets_a_verdict(name, data):
    exercise = exercises.load(name)
    results = []
    for task, case, right in REFERENCES[name]:
        sent = data.draw(_leaf_swaps(right), label=task.name)
        results.append(_graded(task, case, _through_the_wire(sent)))
    _assert_rendered_safely(exercise, results)


@pytest.mark.parametrize("value", ODD, ids=lambda value: re.sub(r"\W", "_", repr(value))[:30])
def test_each_odd_value_as_the_whole_answer_gets_a_verdict(value):
    for name in EXERCISES:
        exercise = exercises.load(name)
        results = [_graded(task, case, _through_the_wire(value)) for task, case, _ in REFERENCES[name]]
        assert not any(result.passed for result in results)
        _assert_rendered_safely(exercise, results)


def test_a_loss_of_10_to_the_400_is_the_learners_wrong_answer():
    task, case, (_, grads) = next(item for item in REFERENCES["two_layer"] if item[0].name == "loss_and_grads")
    result = _graded(task, case, _through_the_wire((10**400, grads)))
    loss, grads_part = result.parts
    assert not loss.passed and loss.diagnoses == ("wrong_type",) and "too large" in loss.fact
    assert grads_part.passed


@FUZZ
@given(detail=st.text(), at_load=st.booleans())
def test_any_detail_of_a_too_large_reply_is_said_safely(detail, at_load):
    """The size in a too_large reply is the sandboxed process's word: `int("²")` raised (isdigit takes it)."""
    task = exercises.load("softmax").tasks[0]
    verdict = outcome_verdict(task, Outcome("too_large", detail=detail, at_load=at_load), 10)
    assert verdict.diagnoses == ("shape_mismatch",) and "MiB a result may hold" in verdict.fact
    if not (detail.isascii() and detail.isdigit()):
        assert "returned arrays" in verdict.fact


def test_a_too_large_reply_says_its_size_when_it_is_a_number():
    task = exercises.load("softmax").tasks[0]
    assert "returned 100 MiB of arrays" in outcome_verdict(task, Outcome("too_large", detail=str(100 << 20)), 10).fact
    assert "returned arrays" in outcome_verdict(task, Outcome("too_large", detail="²"), 10).fact
    huge = outcome_verdict(task, Outcome("too_large", detail="9" * 300), 10)
    assert huge.diagnoses == ("shape_mismatch",)


# -- reply frames: whatever the sandboxed process writes on its pipe -------------------------------
class _Reader(Sandbox):
    """The grader's side of a sandbox, reading one reply from a pipe (no process behind it)."""

    def __init__(self, fd):
        self._resp, self.memory_mb, self._live = fd, 1024, False
        self._over_memory = threading.Event()


def _reply_outcome(data):
    """What the grader makes of DATA written on the sandbox's reply pipe (base.Sandbox._receive)."""
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write, data), os.close(write)))
    writer.start()
    try:
        return _Reader(read)._receive(time.monotonic() + 10)
    finally:
        writer.join()
        os.close(read)


_texts = st.text(st.characters(blacklist_categories=()), max_size=20) | json_values
replies = st.fixed_dictionaries(
    {"status": st.sampled_from(sorted(wire.STATUSES))},
    optional={
        "arrays": st.just(0),
        "value": value_trees,
        "detail": _texts,
        "error": st.dictionaries(st.sampled_from(["type", "message", "where", "text"]), _texts),
        "cell_errors": cell_records,
    },
)


@FUZZ
@given(header=replies, at_load=st.booleans())
@example(header={"status": "too_large", "detail": "\u00b2"}, at_load=False)
@example(header={"status": "exception", "error": {"message": "\udce9\u202e\x1b]52;c;aGk=\x07"}}, at_load=True)
def test_any_reply_frame_ends_in_a_verdict_said_safely(header, at_load):
    payload = json.dumps(header).encode()
    outcome = _reply_outcome(struct.pack("<Q", len(payload)) + payload)
    outcome.at_load = at_load
    for name in EXERCISES:
        exercise = exercises.load(name)
        results = [_graded(task, case, None, outcome) for task, case, _ in REFERENCES[name]]
        _assert_rendered_safely(exercise, results)

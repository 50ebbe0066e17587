"""Grade one submission against one exercise: every task, every case, in one sandbox.

Tasks are independent: each is called on inputs the grader makes (seeded per task),
so a bug in one costs that task only. The first failing case fails its task; the
verdict's message is the fact that broke followed by the hint that fixes it.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..defaults import MEMORY_MB as DEFAULT_MEMORY_MB
from ..defaults import TIMEOUT as DEFAULT_TIMEOUT
from ..sandbox import Sandbox, wire
from ..sandbox.layers import describe as describe_layers
from ..submission import SubmissionError, read_submission
from . import diagnoses
from .checks import unchanged_inputs
from .spec import Verdict


@dataclass
class TaskResult:
    name: str
    score: float
    max_score: float
    passed: bool
    message: str = ""
    diagnoses: list = field(default_factory=list)
    details: list = field(default_factory=list)


@dataclass
class Report:
    exercise: str
    title: str
    path: str
    score: float
    max_score: float
    tasks: list
    output: str = ""  # what the submission printed, bounded (sandbox.OUTPUT_LIMIT)
    cell_errors: list = field(default_factory=list)
    seconds: float = 0.0
    artifacts: dict = field(default_factory=dict)  # from checks (Verdict.artifacts), e.g. "boundary"; not in JSON
    sandbox: dict = field(default_factory=dict)  # backend and its layers (sandbox.layers.Layer); not in JSON

    @property
    def full_marks(self):
        return self.score >= self.max_score

    def to_dict(self):
        """The JSON shape `grade check --json` prints."""
        return {
            "exercise": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "tasks": [asdict(task) for task in self.tasks],
        }


def grade_file(path, exercise, timeout=DEFAULT_TIMEOUT, seed=0, memory_mb=DEFAULT_MEMORY_MB):
    """Read and grade PATH. A file that cannot be read as a submission scores 0 on every task."""
    try:
        submission = read_submission(path)
    except SubmissionError as error:
        return zero_report(exercise, str(path), str(error), "import_error")
    return grade(submission, exercise, timeout=timeout, seed=seed, memory_mb=memory_mb)


def zero_report(exercise, path, reason, code):
    tasks = [TaskResult(task.name, 0, task.points, False, reason, [code]) for task in exercise.tasks]
    return Report(exercise.name, exercise.title, path, 0, exercise.max_score, tasks)


def grade(submission, exercise, timeout=DEFAULT_TIMEOUT, seed=0, memory_mb=DEFAULT_MEMORY_MB):
    start = time.perf_counter()
    plans = _plans(exercise, seed)
    load_timeout = max([timeout] + [task.timeout for task in exercise.tasks if task.timeout is not None])
    with Sandbox(
        submission, timeout=timeout, memory_mb=memory_mb, shared_bytes=_shared_bytes(plans), load_timeout=load_timeout
    ) as box:
        artifacts = {}
        results = [grade_task(box, task, cases, timeout, artifacts) for task, cases in plans]
        output, cell_errors = box.output, list(box.cell_errors)
        sandbox = {"backend": box.backend, "layers": describe_layers(box.layers, box.backend)}
    score = sum(result.score for result in results)
    return Report(
        exercise.name,
        exercise.title,
        submission.path,
        score,
        exercise.max_score,
        results,
        output,
        cell_errors,
        time.perf_counter() - start,
        artifacts,
        sandbox,
    )


def grade_task(box, task, cases, timeout, artifacts=None):
    """Call the task on each case until one fails; its verdict is the task's.

    `artifacts`, when given, collects what the checks kept (Verdict.artifacts).
    """
    budget = task.timeout if task.timeout is not None else timeout
    deadline = time.monotonic() + budget
    for case in cases:
        remaining = max(deadline - time.monotonic(), 0.01)
        outcome = box.call(task.name, case.args, timeout=remaining, names=task.params)
        verdict = outcome_verdict(task, outcome, budget)
        if verdict is None:
            verdict = unchanged_inputs(outcome.mutated, task.name) or task.check(case, outcome.value)
        if artifacts is not None:
            artifacts.update(verdict.artifacts)
        if not verdict.passed:
            return _failed(task, verdict, case, outcome)
    return TaskResult(task.name, task.points, task.points, True)


def outcome_verdict(task, outcome, budget):
    """A failing Verdict when the call itself went wrong, None when it returned a value."""
    name, error = task.name, outcome.error or {}
    when = " while loading the file" if outcome.at_load else ""
    status = outcome.status
    if status == "ok":
        return None
    if status == "not_implemented":
        return Verdict(False, f"{name} still raises NotImplementedError", ("not_implemented",))
    if status == "missing_function":
        return Verdict(False, f"no function {task.signature} found in the submission", ("missing_function",))
    if status == "timeout":
        said = outcome.detail if outcome.at_load else f"{name} did not return within {budget:g} s"
        return Verdict(False, said, ("timeout",))
    if status == "exception":
        return Verdict(False, f"{name} raised {_error_text(error)}", ("exception",), _where(error))
    if status == "import_error":
        return Verdict(False, f"the file does not run: {_error_text(error)}", ("import_error",), _where(error))
    if status == "exited":
        return Verdict(
            False,
            f"the code called sys.exit({error.get('message', '')}){when or ' in ' + name}",
            ("crashed",),
            _where(error),
        )
    if status == "too_large":
        size = int(outcome.detail) if outcome.detail.isdigit() else 0
        return Verdict(
            False,
            f"{name} returned {size / 2**20:.0f} MiB of arrays, more than the "
            f"{wire.MAX_ARRAY_BYTES >> 20} MiB a result may hold: check its shape",
            ("shape_mismatch",),
        )
    if status == "memory":
        said = "the file ran out of memory while loading" if outcome.at_load else f"{name} ran out of memory"
        return Verdict(False, f"{said} {outcome.detail}", ("out_of_memory",))
    if status == "killed":  # not the learner's doing: say so, and let batch grade it again
        return Verdict(False, f"{name} was not graded: {outcome.detail}", ("killed",))
    detail = outcome.detail or "the process died"
    return Verdict(
        False, f"{'the file crashed while loading' if outcome.at_load else name + ' crashed'}: {detail}", ("crashed",)
    )


def _error_text(error):
    message = error.get("message") or ""
    return f"{error.get('type', 'an error')}: {message}" if message else str(error.get("type", "an error"))


def _where(error):
    if not error.get("where"):
        return ()
    text = f"at {error['where']}"
    return (text + (f": {error['text']}" if error.get("text") else ""),)


def _failed(task, verdict, case, outcome):
    codes = list(verdict.diagnoses) or ["wrong_value"]
    hints = [diagnoses.hint(code, task, outcome.at_load) for code in codes]
    message = verdict.message + (": " + "; ".join(h for h in hints if h) if any(hints) else "")
    details = list(verdict.details)
    if not outcome.at_load and outcome.status not in ("missing_function", "not_implemented"):
        details.append(f"input: {case.label}")
    return TaskResult(task.name, 0, task.points, False, message, codes, details)


_PLANS = {}


def _plans(exercise, seed):
    """Each task's cases, made once per (exercise, seed) in a process.

    Inputs and expected values are the same for every submission, so a batch worker
    pays for the finite differences once, not per student. The arrays are made
    read-only so that no check can change them for the next submission.
    """
    key = (id(exercise), seed)
    cached = _PLANS.get(key)
    if cached is None or cached[0] is not exercise:
        plans = [(task, task.cases(np.random.default_rng([seed, index]))) for index, task in enumerate(exercise.tasks)]
        for _, cases in plans:
            for case in cases:
                _freeze((case.args, case.data))
        cached = _PLANS[key] = (exercise, plans)
    return cached[1]


def _freeze(value):
    for _, array in wire.arrays_in(value):
        if isinstance(array, np.ndarray):
            array.flags.writeable = False


def _shared_bytes(plans):
    """Room for the largest single call's inputs (each placed 64-byte aligned)."""
    need = 0
    for _, cases in plans:
        for case in cases:
            need = max(need, sum(_nbytes(arg) + 64 for arg in case.args))
    return need + 4096


def _nbytes(value):
    if isinstance(value, (np.ndarray, np.generic)):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(item) + 64 for item in value)
    if isinstance(value, dict):
        return sum(_nbytes(item) + 64 for item in value.values())
    return 0

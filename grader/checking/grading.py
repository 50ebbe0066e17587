"""Grade one submission against one exercise: every task, every case, in one sandbox.

Tasks are independent: each is called on inputs the grader makes (seeded per task,
`seeded_cases`), so a bug in one costs that task only. A task fails at its first
failing case; a task split into parts fails each part at that part's first failing
case, and keeps checking the others on the next cases.
"""

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from .. import defaults
from ..reading.submission import SubmissionError, read_submission
from ..sandbox import Sandbox, wire
from . import diagnoses, signatures
from .checks import unchanged_inputs
from .results import CellError, CutShort, PartResult, Report, TaskResult
from .spec import Verdict


def grade_file(
    path, exercise, timeout=defaults.TIMEOUT, seed=defaults.SEED, memory_mb=defaults.MEMORY_MB, variant=None
):
    """Read and grade PATH. A file that cannot be read as a submission scores 0 on every task."""
    try:
        submission = read_submission(path)
    except SubmissionError as error:
        return zero_report(exercise, str(path), str(error), "import_error", unreadable=True)
    return grade(submission, exercise, timeout=timeout, seed=seed, memory_mb=memory_mb, variant=variant)


def zero_report(exercise, path, reason, code, unreadable=False, grader_failure=False):
    """Every task 0 for one reason, e.g. the file is not UTF-8 (unreadable) or its grading process died."""
    verdict = Verdict(reason, (code,), hint="")  # no hint: nothing the learner wrote was run
    tasks = tuple(_result(task, dict.fromkeys(_part_names(task), (verdict, "", False))) for task in exercise.tasks)
    return Report(
        exercise.name,
        exercise.title,
        path,
        0,
        exercise.max_score,
        tasks,
        unreadable=reason if unreadable else None,
        grader_failure=grader_failure,
    )


def grade(
    submission, exercise, timeout=defaults.TIMEOUT, seed=defaults.SEED, memory_mb=defaults.MEMORY_MB, variant=None
):
    """Grade a Submission on the inputs of SEED, or of a student's VARIANT of them (seeded_cases).
    Its source is read first: a task whose forbidden modules it imports scores 0
    (autodiff_used) and is not called, and those imports are removed so that the other tasks can load.
    When running the file times out, it is run again with only its definitions (cut_short)."""
    if not any(chunk.code.strip() for chunk in submission.chunks):  # nothing to run: said once, not per task
        return zero_report(exercise, submission.path, _nothing_to_grade(submission), "missing_function")
    start = time.perf_counter()
    forbidden = {module for task in exercise.tasks for module in task.forbidden_imports}
    imported = {}
    if any(module in chunk.code for module in forbidden for chunk in submission.chunks):
        from ..reading import forbidden_imports  # (ast: only for a file that names a forbidden module at all)

        imported = forbidden_imports.find(submission, forbidden)
    runnable = _without(submission, imported) if imported else submission
    report, failure = _grade_in_sandbox(runnable, exercise, timeout, seed, memory_mb, imported, variant)
    # A file that runs too long, or that needed a removed import at its top level: its definitions are graded.
    status = failure.status if failure else None
    if status == "timeout" or (imported and status in ("import_error", "exited")):
        from ..reading.definitions import defined_functions, definitions_only

        definitions, skipped = definitions_only(runnable)
        # Worth it only when something was left out and a task's function is still there to grade.
        if skipped and defined_functions(definitions) & {task.name for task in exercise.tasks}:
            if status == "timeout":
                reason = failure.detail
            else:
                cause = _error_text(failure.error or {}) if status == "import_error" else "it called sys.exit"
                reason = f"the file does not run without its import of {_and(list(imported))} ({cause})"
            report, _ = _grade_in_sandbox(definitions, exercise, timeout, seed, memory_mb, imported, variant)
            report = replace(report, cut_short=CutShort(reason, tuple(skipped)))
    return replace(report, path=submission.path, seconds=time.perf_counter() - start)


def _nothing_to_grade(submission):
    name = Path(submission.path).name
    if submission.is_notebook:
        return f"{name} has no code to grade: its code cells are empty (or only ask for feedback)"
    return f"{name} is empty: there is no code to grade"


def longest_grading(exercise, timeout):
    """The most seconds grade() spends on one submission by its own limits, whatever the code does:
    each task's time, and before each task a fresh load of the file (a call that timed out or crashed
    ends its process); twice, when the file is graded again on its definitions (cut_short)."""
    load = _load_timeout(exercise, timeout)
    budgets = [task.timeout if task.timeout is not None else timeout for task in exercise.tasks]
    return 2 * sum(load + budget for budget in budgets)


def _load_timeout(exercise, timeout):
    return max([timeout] + [task.timeout for task in exercise.tasks if task.timeout is not None])


def _without(submission, imported):
    from ..reading import forbidden_imports

    return forbidden_imports.without_imports(submission, imported)


def _and(items):
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class _LoadWatch:
    """The sandbox, keeping the Outcome of a file that failed to run (then no task could be called)."""

    def __init__(self, box):
        self.box, self.load_failure = box, None

    def call(self, *args, **kwargs):
        outcome = self.box.call(*args, **kwargs)
        if outcome.at_load:
            self.load_failure = outcome
        return outcome


def _grade_in_sandbox(submission, exercise, timeout, seed, memory_mb, imported, variant=None):
    """(Report, the Outcome of running the file when that failed, else None).

    Tasks forbidding a module in `imported` are not called: they score 0 (autodiff_used)."""
    plans = seeded_cases(exercise, seed, variant)
    load_timeout = _load_timeout(exercise, timeout)
    with Sandbox(
        submission, timeout=timeout, memory_mb=memory_mb, shared_bytes=_shared_bytes(plans), load_timeout=load_timeout
    ) as box:
        artifacts = {}
        watch = _LoadWatch(box)
        functions = signatures.defined_functions(submission)  # the learner's parameters, from the source
        nested = signatures.nested_definitions(submission) if len(functions) < len(plans) else {}
        results = tuple(
            forbidden_result(task, imported)
            or signatures.with_misplaced_definition(
                signatures.with_parameter_mistake(
                    grade_task(watch, task, cases, timeout, artifacts),
                    task,
                    functions.get(task.name),
                    whole_failure(task),
                ),
                task,
                nested,
                whole_failure(task),
            )
            for task, cases in plans
        )
        output = box.output
        cell_errors = tuple(CellError.from_dict(record) for record in box.cell_errors)
        from ..sandbox.layers import describe as describe_layers

        sandbox = {
            "backend": box.backend,
            "layers": [asdict(layer) for layer in describe_layers(box.layers, box.backend)],
        }
    score = sum(result.score for result in results)
    report = Report(
        exercise.name,
        exercise.title,
        submission.path,
        score,
        exercise.max_score,
        results,
        output,
        cell_errors,
        artifacts=artifacts,
        sandbox=sandbox,
    )
    return report, watch.load_failure


def whole_failure(task):
    """verdict -> the TaskResult of TASK failing wholly (every part) with it."""
    return lambda verdict: _result(task, dict.fromkeys(_part_names(task), (verdict, "", False)))


def forbidden_result(task, imported):
    """The TaskResult of a task whose forbidden modules the submission imports (0, autodiff_used), else None.

    imported: {module: [where it is imported]} (forbidden_imports.find)."""
    used = [module for module in task.forbidden_imports if module in imported]
    if not used:
        return None
    where = _and([f"{module} ({', '.join(imported[module])})" for module in used])
    verdict = Verdict(
        f"the file imports {where}: {task.name} must compute its gradients by hand, so it was not graded",
        ("autodiff_used",),
    )
    return whole_failure(task)(verdict)


def grade_task(box, task, cases, timeout, artifacts=None):
    """Call the task on its cases until every part has failed or the cases run out; its TaskResult.

    `box` is a Sandbox (or InProcess); `artifacts`, when given, collects what Task.artifacts keeps.
    """
    per_call = task.timeout is not None  # a task's own limit is each call's; --timeout is the whole task's
    budget = task.timeout if per_call else timeout
    deadline = time.monotonic() + budget
    names = _part_names(task)
    failed = {}  # part -> (Verdict, the failing case's label or "", whether it failed while loading the file)
    checked = set()
    for case in cases:
        mine = _case_parts(task, names, case)
        if all(name in failed for name in mine):
            continue
        remaining = budget if per_call else max(deadline - time.monotonic(), 0.01)
        outcome = box.call(task.name, case.args, timeout=remaining, names=task.params)
        verdict = outcome_verdict(task, outcome, budget)
        if verdict is None:
            if artifacts is not None and task.artifacts is not None:
                artifacts.update(task.artifacts(case, outcome.value))
            mutated = [path for path in outcome.mutated if path not in task.may_modify]
            verdict = unchanged_inputs(mutated, task.name) or task.check(case, outcome.value)
        # A case label locates a wrong value, not a file that does not load or a function that is not there.
        located = not outcome.at_load and outcome.status not in ("missing_function", "not_implemented")
        for name, part_verdict in _per_part(task, mine, verdict).items():
            checked.add(name)
            if part_verdict is not None and name not in failed:
                failed[name] = (part_verdict, case.label if located else "", outcome.at_load)
    unchecked = [name for name in names if name not in failed and name not in checked]
    if unchecked:  # a spec bug, not the learner's: the grader stops with an internal error
        raise ValueError(f"task {task.name}: no case checked part {', '.join(map(str, unchecked))}")
    return _result(task, {name: failed.get(name) for name in names})


def _part_names(task):
    """The names a check's verdicts are kept under; a task without parts is one unnamed part."""
    return [part.name for part in task.parts] or [None]


def _case_parts(task, names, case):
    """The parts CASE checks: its own list (Case.parts), else every part of the task."""
    if case.parts is None or not task.parts:
        return names
    unknown = [name for name in case.parts if name not in names]
    if unknown:  # a spec bug: the grader stops with an internal error
        raise ValueError(f"task {task.name}: case {case.label!r} checks parts {unknown}, which it does not have")
    return list(case.parts)


def _per_part(task, names, verdict):
    """{part: None or Verdict} for the parts this case checked (NAMES: those it checks)."""
    if verdict is None or isinstance(verdict, Verdict):
        return dict.fromkeys(names, verdict)
    if not task.parts or not set(verdict) <= set(names):
        raise ValueError(
            f"task {task.name}: its check returned verdicts for {sorted(verdict)}, but the case checks {names}"
        )
    return dict(verdict)


def _result(task, failures):
    """The TaskResult from each part's failure, (Verdict, case label, at load), or None when it passed."""
    if not task.parts:
        failure = failures[None]
        if failure is None:
            return TaskResult(task.name, task.points, task.points, True)
        return TaskResult(task.name, 0, task.points, False, **_failure_fields(task, *failure))
    parts = []
    for part in task.parts:
        failure = failures[part.name]
        if failure is None:
            parts.append(PartResult(part.name, part.points, part.points, True))
        else:
            parts.append(PartResult(part.name, 0, part.points, False, **_failure_fields(task, *failure)))
    score = sum(part.score for part in parts)
    codes = tuple(dict.fromkeys(code for part in parts for code in part.diagnoses))
    shared = {}
    first = failures[task.parts[0].name]
    if first is not None and all(failure is not None and failure[:2] == first[:2] for failure in failures.values()):
        shared = _failure_fields(task, *first)  # one failure took every part: it is the task's
    return TaskResult(
        task.name,
        score,
        task.points,
        all(part.passed for part in parts),
        **{**shared, "diagnoses": codes},
        parts=tuple(parts),
    )


def _failure_fields(task, verdict, case, at_load):
    """fact, hint, diagnoses, details and case of a failed task or part."""
    codes = verdict.diagnoses or ("wrong_value",)
    hint = verdict.hint
    if hint is None:
        hint = "; ".join(text for text in (diagnoses.hint(code, task, at_load) for code in codes) if text)
    return {"fact": verdict.fact, "hint": hint, "diagnoses": codes, "details": verdict.details, "case": case}


def outcome_verdict(task, outcome, budget):
    """A failing Verdict when the call itself went wrong, None when it returned a value."""
    name, error = task.name, outcome.error or {}
    when = " while loading the file" if outcome.at_load else ""
    status = outcome.status
    if status == "ok":
        return None
    if status == "not_implemented":
        return Verdict(f"{name} still raises NotImplementedError", ("not_implemented",))
    if status == "missing_function":
        return Verdict(f"no function {task.signature} found in the submission", ("missing_function",))
    if status == "timeout":
        said = outcome.detail if outcome.at_load else f"{name} did not return within {budget:g} s"
        return Verdict(said, ("timeout",))
    if status == "exception":
        # A task may say what an error of one type most likely means in it (Task.hints["exception IndexError"]).
        hint = _assert_hint(error) or task.hints.get(f"exception {error.get('type')}")
        return Verdict(f"{name} raised {_error_text(error)}", ("exception",), _where(error), hint)
    if status == "import_error":
        said = f"the file does not run: {_error_text(error)}"
        return Verdict(said, ("import_error",), _where(error), diagnoses.LOAD_ERRORS.get(error.get("type")))
    if status == "exited":
        return Verdict(
            f"the code called sys.exit({error.get('message', '')}){when or ' in ' + name}", ("crashed",), _where(error)
        )
    if status == "too_large":
        # Its size is the sandboxed process's word: ASCII digits, or it is not said (int() takes "²" too).
        said = outcome.detail
        size = f"{(int(said) + (1 << 19)) >> 20} MiB of arrays" if said.isascii() and said.isdigit() else "arrays"
        return Verdict(
            f"{name} returned {size}, more than the {wire.MAX_ARRAY_BYTES >> 20} MiB a result may hold: "
            "check its shape",
            ("shape_mismatch",),
        )
    if status == "memory":
        said = "the file ran out of memory while loading" if outcome.at_load else f"{name} ran out of memory"
        return Verdict(f"{said} {outcome.detail}", ("out_of_memory",))
    if status == "killed":  # not the learner's doing: say so, and let batch grade it again
        return Verdict(f"{name} was not graded: {outcome.detail}", ("killed",))
    detail = outcome.detail or "the process died"
    return Verdict(
        f"{'the file crashed while loading' if outcome.at_load else name + ' crashed'}: {detail}", ("crashed",)
    )


def _error_text(error):
    message = error.get("message") or ""
    if not message and _bare_assert(error):
        message = error["text"]  # `assert x.shape == y.shape` says nothing else: show the line itself
    return f"{error.get('type', 'an error')}: {message}" if message else str(error.get("type", "an error"))


def _bare_assert(error):
    """An AssertionError without a message, raised at the learner's line `text`."""
    return error.get("type") == "AssertionError" and not error.get("message") and bool(error.get("text"))


def _assert_hint(error):
    if not _bare_assert(error):
        return None  # the code's own hint
    return (
        "an assert in your code failed on the grader's input: its condition does not hold for every input the "
        "docstring allows; check what it assumes (shapes, sizes, values) against the docstring"
    )


def _where(error):
    if not error.get("where"):
        return ()
    text = f"at {error['where']}"
    return (text + (f": {error['text']}" if error.get("text") else ""),)


_SEEDED = {}
_SEEDED_KEPT = 8  # (exercise, seed, variant)s kept: a batch worker moves on from one student to the next


def seeded_cases(exercise, seed, variant=None):
    """[(task, its cases)] for every task of `exercise`: the inputs every path grades on.

    `grade check`, `grade batch`, GradeTasks and a notebook's feedback() all take their
    inputs from here, so the same seed means the same arrays everywhere. Public inputs
    (VARIANT None): task i's cases come from numpy's Generator seeded with [seed, i], and
    the exercise's sizes are their defaults. A student's variant (variants.student_seed):
    the sizes and each task's cases come from streams spawned from SeedSequence([seed, variant]).
    A task with public_cases (train) uses them on the public inputs only: seed defaults.SEED
    without a variant; any other seed, or any variant, gives it inputs drawn from its stream.
    Seeds and variants are ints of any size (a Gradescope zip's seed has 128 bits).
    Made once per (exercise, seed, variant) in a process: a batch worker pays for the finite
    differences once per variant, not per call. The arrays are made read-only so that no
    check can change them for the next submission.
    """
    key = (id(exercise), seed, variant)
    cached = _SEEDED.get(key)
    if cached is None or cached[0] is not exercise:
        if variant is None:
            sizes = exercise.default_sizes()
            rngs = [np.random.default_rng([seed, index]) for index in range(len(exercise.tasks))]
        else:
            *streams, for_sizes = np.random.SeedSequence([seed, variant]).spawn(len(exercise.tasks) + 1)
            sizes = exercise.draw_sizes(np.random.default_rng(for_sizes))
            rngs = [np.random.default_rng(stream) for stream in streams]
        public = variant is None and seed == defaults.SEED
        plans = []
        for task, rng in zip(exercise.tasks, rngs):
            make = task.public_cases if public and task.public_cases is not None else task.cases
            plans.append((task, make(rng, dict(sizes)) if exercise.sizes else make(rng)))
        for _, cases in plans:
            for case in cases:
                _freeze((case.args, case.data))
        while len(_SEEDED) >= _SEEDED_KEPT:
            del _SEEDED[next(iter(_SEEDED))]
        cached = _SEEDED[key] = (exercise, plans)
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

"""Feedback inside a learner's notebook: what an nbgrader test cell calls.

    from grader import feedback
    feedback("softmax", "db", globals())

grades that one task on the kernel's own function, prints the verdict, fact, hint and
details on stdout, and returns the score (a part's points included) as a float, the
cell's last expression. nbgrader reads a test cell's points from that result, and gives
0 for anything on stderr and full points for a cell with no number: so nothing may reach
stderr here (numpy warnings, the learner's own prints to stderr) and every path ends in
a float. Under nbgrader (it sets $NBGRADER_EXECUTION) that is a plain float, shown as the
cell's result; anywhere else a float that IPython does not show, since the report above
already says it (a student saw `Out: 0.0` under every report).

This only informs the learner, who is the only one it could be fooled for: graded
scores come from grader.integrations.nbgrader.GradeTasks, which runs the sandbox outside the kernel.
"""

import contextlib
import os
import sys
import types
import warnings

import numpy as np

from .. import defaults
from ..reading.submission import UsageError


def feedback(exercise, task, namespace, seed=defaults.SEED, timeout=defaults.TIMEOUT):
    """Grade `task` of `exercise` on the function of that name in `namespace`; print why; return its points."""
    out = sys.stdout
    try:
        with contextlib.redirect_stderr(out), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = grade_one(exercise, task, namespace, seed, timeout)
    except KeyboardInterrupt:
        print(f"  {task}: interrupted", file=out)
        return _points(0.0)
    except UsageError as error:  # a misspelt exercise or task: what the names are
        print(f"  {task}: {error}", file=out)
        return _points(0.0)
    except Exception as error:  # a grader fault: say so on stdout, score nothing
        from ..shown import escaped

        print(f"  {task}: the grader could not check this task ({type(error).__name__}: {escaped(error)})", file=out)
        return _points(0.0)
    from ..report import render_task

    out.write(render_task(result))
    return _points(result.score)


class Points(float):
    """A task's points that a notebook does not show as the cell's result: the report is printed above it."""

    def _ipython_display_(self):
        pass  # IPython then shows nothing (no `Out[n]: 0.0`)


def _points(score):
    return float(score) if os.environ.get("NBGRADER_EXECUTION") else Points(score)


def grade_one(exercise, task, namespace, seed=defaults.SEED, timeout=defaults.TIMEOUT):
    """One task's TaskResult, on the same seeded inputs as `grade check --seed` (grading.seeded_cases)."""
    from .. import exercises
    from ..checking.grading import forbidden_result, grade_task, seeded_cases, whole_failure
    from ..checking.signatures import with_parameter_mistake
    from ..exercises.registry import close_match
    from ..sandbox.inprocess import InProcess

    plans = {t.name: (t, c) for t, c in seeded_cases(exercises.load(exercise), seed)}
    if task not in plans:
        close = close_match(task, plans)
        said = f" (did you mean {close}?)" if close else ""
        raise UsageError(f"exercise {exercise} has no task {task!r}{said}; its tasks: {', '.join(plans)}")
    chosen, cases = plans[task]
    return forbidden_result(chosen, _modules_in(namespace, chosen.forbidden_imports)) or with_parameter_mistake(
        grade_task(InProcess(namespace, timeout), chosen, cases, timeout),
        chosen,
        _definition(namespace.get(task)),
        whole_failure(chosen),
    )


def _definition(function):
    """The `def` of the kernel's FUNCTION, parsed from its source (Jupyter keeps each cell's), or None."""
    import ast
    import inspect
    import textwrap

    try:
        node = ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError, ValueError, RecursionError, IndexError):
        return None  # not a function, or its source is gone: the values alone are judged
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def _modules_in(namespace, modules):
    """{module: ["this notebook"]} for each of `modules` whose module, or something from it, the kernel holds
    (the kernel has no source to read: GradeTasks reads the notebook's, and decides the score)."""
    found = {}
    for value in list(namespace.values()):
        name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        top = name.split(".")[0] if isinstance(name, str) else None
        if top in modules:
            found[top] = ["this notebook"]
    return found

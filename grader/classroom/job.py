"""The unit of work of `grade batch`: a submission's name and bytes in, a plain dict out.

Bytes rather than paths, and a dict of JSON types (Report.to_dict) rather than a
Report, so the same function runs in a local worker process or on a remote (Dask)
worker that shares no file system with the instructor's machine; the client turns it
back with Report.from_dict. The exercise travels the same way: a built-in's (or an installed
package's) name, or a course exercise's spec files (exercises.registry.Shipped), which a
worker writes out and imports once.
"""

import json
from dataclasses import replace

from .. import defaults, report
from ..checking.grading import grade, zero_report
from ..checking.results import Report
from ..reading.submission import SubmissionError, submission_from_bytes

# variant: the student's seed (variants.student_seed), None for the public inputs of `seed`.
DEFAULT_OPTIONS = {"timeout": defaults.TIMEOUT, "seed": defaults.SEED, "memory_mb": defaults.MEMORY_MB, "variant": None}


def grade_bytes(name, data, exercise, options=None):
    """Grade one submission; `name` ends in .py or .ipynb; `exercise` a name or a Shipped course
    exercise (Registry.shippable). Never raises for the learner's faults.

    Returns Report.to_dict() of the result, without what the submission printed
    (grade batch keeps no output: it would only make every stored row larger).
    """
    from .. import exercises

    options = {**DEFAULT_OPTIONS, **(options or {})}
    exercise = exercises.load_shipped(exercise)
    try:
        submission = submission_from_bytes(name, data)
    except SubmissionError as error:
        report = zero_report(exercise, name, str(error), "import_error", unreadable=True)
    else:
        report = grade(
            submission,
            exercise,
            timeout=options["timeout"],
            seed=options["seed"],
            memory_mb=options["memory_mb"],
            variant=options["variant"],
        )
    return replace(report, output="").to_dict()


class Rendered:
    """A work function (grade_bytes, or a test's stand-in) whose row comes back ready to write:
    its JSON text, its feedback text and its Gradescope results.json, made on the worker.

    The client of a large class only writes files: rendering a row costs about as much as
    storing it, and it is done where the grading is, on as many workers as there are.
    A module-level class, so a Dask worker unpickles it by name; `function` travels with it.
    """

    def __init__(self, function):
        self.function = function

    def __call__(self, *args):
        return rendered(self.function(*args))


def rendered(row):
    """{"json", "feedback", "gradescope", "killed"} of a row (Report.to_dict()); "killed": a grading
    process was killed from outside, which batch does not keep (it marks the row and grades it again)."""
    result = Report.from_dict(row)
    feedback, gradescope = student_files(result)
    return {
        "json": json.dumps(row, separators=(",", ":")),
        "feedback": feedback,
        "gradescope": gradescope,
        "killed": any("killed" in task.diagnoses for task in result.tasks),
    }


def student_files(result):
    """The texts of a student's feedback/<student>.txt and gradescope/<student>/results.json."""
    return report.render_text(result), report.render_gradescope(result) + "\n"

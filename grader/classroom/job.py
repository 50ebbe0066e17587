"""The unit of work of `grade batch`: a submission's name and bytes in, a plain dict out.

Bytes rather than paths, and a dict of JSON types (Report.to_dict) rather than a
Report, so the same function runs in a local worker process or on a remote (Dask)
worker that shares no file system with the instructor's machine; the client turns it
back with Report.from_dict. The exercise travels the same way: a built-in's (or an installed
package's) name, or a course exercise's spec files (exercises.registry.Shipped), which a
worker writes out and imports once.
"""

from dataclasses import replace

from .. import defaults
from ..checking.grading import grade, zero_report
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

"""The unit of work of `grade batch`: a submission's name and bytes in, a plain dict out.

Bytes rather than paths, and a dict of JSON types rather than a Report, so the same
function runs in a local worker process or on a remote (Dask) worker that shares no
file system with the instructor's machine. `report_from_row` turns the dict back
into a Report for the text and Gradescope renderers.
"""

from ..checking.grading import Report, TaskResult, grade, zero_report
from ..defaults import MEMORY_MB as DEFAULT_MEMORY_MB
from ..defaults import TIMEOUT as DEFAULT_TIMEOUT
from ..submission import SubmissionError, submission_from_bytes

DEFAULT_OPTIONS = {"timeout": DEFAULT_TIMEOUT, "seed": 0, "memory_mb": DEFAULT_MEMORY_MB}


def grade_bytes(name, data, exercise_name, options=None):
    """Grade one submission; `name` ends in .py or .ipynb. Never raises for the learner's faults.

    Returns the dict `grade check --json` prints plus what the feedback and
    Gradescope files need: title, path, cell_errors, seconds, and `unreadable`
    (why the file could not be read as a submission, or None).
    """
    from .. import exercises

    options = {**DEFAULT_OPTIONS, **(options or {})}
    exercise = exercises.load(exercise_name)
    try:
        submission = submission_from_bytes(name, data)
    except SubmissionError as error:
        report, unreadable = zero_report(exercise, name, str(error), "import_error"), str(error)
    else:
        report = grade(
            submission, exercise, timeout=options["timeout"], seed=options["seed"], memory_mb=options["memory_mb"]
        )
        unreadable = None
    return row_from_report(report, unreadable)


def row_from_report(report, unreadable=None):
    return {
        **report.to_dict(),
        "title": report.title,
        "path": report.path,
        "cell_errors": list(report.cell_errors),
        "seconds": round(report.seconds, 4),
        "unreadable": unreadable,
    }


def failed_row(exercise, name, message, code):
    """A row for a submission that produced no result of its own (its worker died, it could not be read)."""
    return row_from_report(zero_report(exercise, name, message, code), message if code == "import_error" else None)


def report_from_row(row):
    tasks = [
        TaskResult(
            task["name"],
            task["score"],
            task["max_score"],
            task["passed"],
            task.get("message", ""),
            list(task.get("diagnoses", [])),
            list(task.get("details", [])),
        )
        for task in row["tasks"]
    ]
    return Report(
        row["exercise"],
        row.get("title", ""),
        row.get("path", ""),
        row["score"],
        row["max_score"],
        tasks,
        "",
        list(row.get("cell_errors", [])),
        row.get("seconds", 0.0),
    )

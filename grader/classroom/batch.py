"""`grade batch`: grade a class's submissions in parallel, resumably, into files instructors use.

Layouts of DIR:
- flat: DIR/<student>.py or DIR/<student>.ipynb, the student id is the file's stem;
- nbgrader: DIR/submitted/<student>/<assignment>/<exercise>.ipynb (DIR is the course
  directory), the student id is the directory name.

Each submission is read here and sent to a worker as bytes (job.grade_bytes); the
row that comes back (Report.to_dict) becomes a Report again (Report.from_dict), is
stored (results_store) and its feedback and Gradescope files written as soon as it
comes back, so Ctrl-C loses only the submissions still being graded. grades.csv and
the summary are written at the end from every Report, the reused ones included;
after Ctrl-C, from the finished ones, and the summary says how many are missing.

A submission is read only if it is a regular file reached without a symbolic link
(regular_files); anything else gets a zero row saying why.
"""

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import report
from ..checking.grading import longest_grading, zero_report
from ..checking.results import Report
from ..exercises.registry import BUILTIN
from ..reading.submission import UsageError, file_too_large, max_file_bytes
from ..shown import escaped_name
from ..variants import student_seed
from .job import grade_bytes
from .names import file_stem
from .regular_files import NotRegularFile, read_regular_file
from .results_store import ResultStore, ctrl_c_held, result_key, write_atomic

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Item:
    student: str
    path: Path
    root: Path = None  # the directory path is read below (no links from there on); default: its parent

    def read(self):
        root = self.root if self.root is not None else self.path.parent
        return read_regular_file(root, self.path.relative_to(root), max_file_bytes(self.path))


@dataclass
class Outcome:
    reports: dict = field(default_factory=dict)  # student -> Report, in student order
    graded: list = field(default_factory=list)  # students graded in this run
    reused: list = field(default_factory=list)  # students whose stored row still held
    missing: list = field(default_factory=list)  # students without a Report (the run was interrupted)
    identical: list = field(default_factory=list)  # groups of students whose files are byte for byte the same
    interrupted: bool = False


def discover(directory, exercise_name, assignment=None):
    """The submissions under `directory`, one Item per student, sorted by student."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    submitted = directory / "submitted"
    if submitted.is_dir():
        items = _nbgrader_items(submitted, exercise_name, assignment)
        where = f"{submitted}/<student>/{assignment or '<assignment>'}/{exercise_name}.ipynb"
    else:
        items = _flat_items(directory)
        where = f"{directory} (expected <student>.py or <student>.ipynb)"
    if not items:
        raise UsageError(f"no submissions found in {where}")
    return sorted(items, key=lambda item: item.student)


def _flat_items(directory):
    found = {}
    for path in sorted(directory.iterdir()):
        # Links are listed whatever they point to (even nowhere): each gets a row saying it was refused.
        if path.suffix not in SUFFIXES or path.name.startswith(".") or not (path.is_file() or path.is_symlink()):
            continue
        if path.stem in found:
            raise UsageError(f"two submissions for {path.stem}: {found[path.stem].name} and {path.name}")
        found[path.stem] = path
    return [Item(student, path, directory) for student, path in found.items()]


def _nbgrader_items(submitted, exercise_name, assignment):
    items = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        pattern = f"{assignment or '*'}/{exercise_name}.ipynb"
        paths = sorted(p for p in student_dir.glob(pattern) if p.is_file() or p.is_symlink())
        if len(paths) > 1:
            names = ", ".join(p.parent.name for p in paths)
            raise UsageError(
                f"{student_dir.name} has {exercise_name}.ipynb in several assignments ({names}): "
                f"choose one with --assignment"
            )
        if paths:
            items.append(Item(student_dir.name, paths[0], submitted))
    return items


def require_writable(outdir):
    """OUTDIR made if needed and writable, else a usage error (before any grading is spent)."""
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        probe = outdir / ".grade-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UsageError(f"cannot write to {outdir}: {error.strerror or error}") from None


def run(items, exercise, outdir, options, jobs, progress=None, work=grade_bytes, pool=None, shipped=None, secret=None):
    """Grade what changed, reuse the rest, write every output file; return an Outcome.

    `progress`, if given, has start(count) (called once the workers run) and
    advance(), both on the calling thread; `work` is the
    per-submission function (job.grade_bytes; tests swap in others); `pool` makes the
    pool that runs it, called as WorkerPool is (default; dask_pool.DaskPool for a cluster); `shipped`
    what workers load the exercise from (Registry.shippable; default: its name, a built-in); `secret`
    the course secret: each student is graded on their own inputs (variants), else on the public ones.
    After Ctrl-C the Outcome is `interrupted`, with the finished Reports and the `missing` students.
    """
    from .worker_pool import WorkerPool

    outdir = Path(outdir)
    store, outcome = ResultStore(outdir), Outcome()
    try:
        shipped = shipped if shipped is not None else exercise.name
        _grade(
            items, exercise, shipped, outdir, options, jobs, progress, work, pool or WorkerPool, store, outcome, secret
        )
    except KeyboardInterrupt:  # every finished Report is stored: write what there is, marked incomplete
        outcome.interrupted = True
    outcome.missing = sorted(item.student for item in items if item.student not in outcome.reports)
    outcome.reports = {student: outcome.reports[student] for student in sorted(outcome.reports)}
    write_grades(outdir / "grades.csv", outcome.reports, exercise)
    return outcome


def _grade(items, exercise, shipped, outdir, options, jobs, progress, work, pool, store, outcome, secret):
    todo, keys, digests = [], {}, {}

    def unread(item, reason, code):  # a zero row with the reason, not stored: looked at again next run
        result = zero_report(exercise, str(item.path), reason, code, unreadable=True)
        _finish(store, outdir, item, None, result, outcome)

    def prepare(item):
        try:
            data = item.read()
        except NotRegularFile as refused:  # never read
            return unread(item, str(refused), "refused")
        except OSError as error:  # unreadable on disk
            return unread(item, f"cannot read {item.path.name}: {error.strerror}", "import_error")
        if len(data) > max_file_bytes(item.path):  # only its first bytes were read: refused here, not sent
            return unread(item, str(file_too_large(item.path.name)), "import_error")
        digests.setdefault(hashlib.sha256(data).hexdigest(), []).append(item.student)
        # Only the student's seed travels to the worker, never the secret; it is part of the key,
        # so a changed secret regrades. A course's spec is the instructor's: a changed spec regrades.
        mine = {**options, "variant": student_seed(secret, item.student) if secret is not None else None}
        keys[item.student] = result_key(data, _exercise_id(shipped), mine)
        result = store.fresh_report(item.student, keys[item.student])
        if result is not None:
            outcome.reports[item.student] = result
            outcome.reused.append(item.student)
            _write_student_files(outdir, item.student, result, only_if_missing=True)
        else:
            todo.append((item.student, (str(item.path), data, shipped, mine)))

    for item in items:
        try:
            prepare(item)
        except Exception as error:  # a grader bug on one row costs that row only
            _failed(store, outdir, exercise, item, error, outcome)
    outcome.identical = sorted(sorted(group) for group in digests.values() if len(group) > 1)
    by_student = {item.student: item for item in items}

    def done(student, status, value):
        item = by_student[student]
        try:
            if status == "ok":
                _finish(store, outdir, item, keys[student], Report.from_dict(value), outcome)
            else:  # the grading process failed, not the learner's code: 0 for now, regraded next run
                result = zero_report(exercise, str(item.path), f"not graded: {value}", "crashed", grader_failure=True)
                _finish(store, outdir, item, None, result, outcome)
        except Exception as error:  # a grader bug on one row costs that row only
            _failed(store, outdir, exercise, item, error, outcome)
        if progress:
            progress.advance()

    if todo:
        # A submission's own limits bound its grading (longest_grading): past them, and a minute for
        # starting its processes on a busy machine, the grading process itself is stuck.
        deadline = longest_grading(exercise, options["timeout"]) + 60
        # Built-ins are imported before workers fork; a course's spec is already imported here.
        preload = [f"grader.exercises.{shipped}"] if shipped in BUILTIN else []
        with pool(work, jobs, deadline=deadline, preload=preload) as workers:
            if progress:
                progress.start(len(todo))
            workers.run(todo, done)


def _exercise_id(shipped):
    return shipped if isinstance(shipped, str) else f"{shipped.name}@{shipped.digest}"


def _finish(store, outdir, item, key, result, outcome):
    if any("killed" in task.diagnoses for task in result.tasks):
        result, key = replace(result, grader_failure=True), None  # killed from outside: regraded next run
    # Feedback files first, the stored row last: a stored row means its files exist. Ctrl-C waits
    # for the whole step, so grades.csv written after it holds exactly the stored rows.
    with ctrl_c_held():
        _write_student_files(outdir, item.student, result)
        store.save(item.student, key, str(item.path), result)
        outcome.reports[item.student] = result
        outcome.graded.append(item.student)


def _failed(store, outdir, exercise, item, error, outcome):
    """The row of a submission whose grading hit a bug of the grader: 0, saying so, regraded next run.
    Its files are written if they can be; the row is in grades.csv whatever happens."""
    reason = f"not graded: the grader failed ({type(error).__name__}: {error})"
    result = zero_report(exercise, str(item.path), reason, "crashed", grader_failure=True)
    if item.student in outcome.reused:  # its stored row was found, then the grader failed on it
        outcome.reused.remove(item.student)
    try:
        _finish(store, outdir, item, None, result, outcome)
    except Exception:  # noqa: BLE001 (not even its files could be written: the row still counts)
        outcome.reports[item.student] = result
        outcome.graded.append(item.student)


def _write_student_files(outdir, student, result, only_if_missing=False):
    feedback = outdir / "feedback" / f"{file_stem(student)}.txt"
    gradescope = outdir / "gradescope" / file_stem(student) / "results.json"
    if only_if_missing and feedback.exists() and gradescope.exists():
        return
    write_atomic(feedback, report.render_text(result))
    write_atomic(gradescope, report.render_gradescope(result) + "\n")


def write_grades(path, reports, exercise):
    """grades.csv: student, one column per task (its score, a part's points included), total, then one
    column per task with its diagnosis codes (`db_codes`: "missing_keepdims", space-separated; empty when
    it passed), so that a spreadsheet can filter who made which mistake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # csv quotes a cell holding the line terminator (\n) but not one holding \r, which readers
    # take for a line break: such a row is written with every cell quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    names = [task.name for task in exercise.tasks]
    writer.writerow(["student", *names, "total", *(f"{name}_codes" for name in names)])
    for student, result in reports.items():
        scores = {task.name: task.score for task in result.tasks}
        codes = {task.name: " ".join(task.diagnoses) for task in result.tasks}
        cells = inert_cells(
            [
                escaped_name(student),
                *(report.points(scores.get(name, 0)) for name in names),
                report.points(result.score),
                *(codes.get(name, "") for name in names),
            ]
        )
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    write_atomic(path, buffer.getvalue())


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert_cells(cells):
    """Cells a spreadsheet will not run as formulas (OWASP, CSV injection): a text cell starting
    with = + - @, a tab or a carriage return gets a leading single quote; plain numbers stay numbers."""
    return [
        f"'{cell}"
        if isinstance(cell, str) and cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell)
        else cell
        for cell in cells
    ]


def write_class_report(outdir, outcome, items, exercise, **options):
    """report.html and similarity.csv beside grades.csv (class_report.write_report's options), from the
    Outcome's rows and the submissions' files read again from disk; returns the page's data."""
    from .class_report import write_report

    return write_report(outdir, outcome.reports, exercise, items, outcome.missing, outcome.interrupted, **options)


def write_summary(outdir, reports, exercise, identical=(), missing=(), inputs=None):
    """summary.txt, summary.json and summary.png; returns the text.

    identical: groups of students with byte-identical files; missing: students without a
    Report yet (an interrupted run), which makes the summary say it is incomplete; inputs:
    "per-student" (a course secret) or "public seed N".
    """
    from . import summary

    data = summary.summarize(reports, exercise, identical, missing, inputs)
    text = summary.render(data)
    outdir = Path(outdir)
    write_atomic(outdir / "summary.txt", text)
    write_atomic(outdir / "summary.json", json.dumps(data, indent=1) + "\n")
    temporary = outdir / ".summary.png.tmp"
    summary.plot(data, temporary)
    os.replace(temporary, outdir / "summary.png")
    return text

"""`grade batch`: grade a class's submissions in parallel, resumably, into files instructors use.

Layouts of DIR:
- flat: DIR/<student>.py or DIR/<student>.ipynb, the student id is the file's stem;
- nbgrader: DIR/submitted/<student>/<assignment>/<exercise>.ipynb (DIR is the course
  directory), the student id is the directory name.

Each submission is read here when a worker is ready for it, hashed, and sent to the
worker as bytes (job.grade_bytes): the client holds the files in flight only. The row
comes back ready to write (job.Rendered: its JSON, feedback and Gradescope texts, made
on the worker); its feedback and Gradescope files are written and then it is stored
(results_store) as soon as it comes back, so Ctrl-C loses only the submissions still
being graded.
grades.csv and the summary are written at the end from every stored row, the reused
ones included, read back one at a time (StoredReports); after Ctrl-C, from the
finished ones, and the summary says how many are missing.

A submission is read only if it is a regular file reached without a symbolic link
(regular_files); anything else gets a zero row saying why.
"""

import bisect
import csv
import hashlib
import itertools
import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import report
from ..checking.grading import longest_grading, zero_report
from ..checking.results import Report
from ..exercises.registry import BUILTIN
from ..reading.submission import UsageError, file_too_large, max_file_bytes
from ..shown import escaped_name
from ..variants import student_seed
from .job import Rendered, grade_bytes, student_files
from .names import file_stem
from .regular_files import NotRegularFile, read_regular_file
from .results_store import ResultStore, atomic_file, ctrl_c_held, result_key, write_atomic, write_new
from .row_marks import GRADED, REUSED, UNREAD, Marked
from .sorted_names import SortedNames, equal_runs

SUFFIXES = (".py", ".ipynb")
_DIGEST = 16  # bytes of each file's sha256 kept to name identical files (a collision: ~n^2 / 2^129)


@dataclass(frozen=True)
class Item:
    student: str
    path: Path
    root: Path | None = None  # the directory path is read below (no links from there on); default: its parent

    def read(self):
        root = self.root if self.root is not None else self.path.parent
        return read_regular_file(root, self.path.relative_to(root), max_file_bytes(self.path))


class Submissions(Sequence):
    """A class's submissions in student order, kept as the path of each below `root` (a SortedNames).

    An Item (with its Path) is made only when it is looked at: 100,000 students cost about
    2.4 MB here, where a list of Items costs 45 MB (measured with tracemalloc).
    """

    def __init__(self, root, relatives, nested):
        self.root, self.nested = Path(root), nested
        # nbgrader: <student>/<assignment>/<exercise>.ipynb; flat: <student>.py
        self._relatives = relatives if isinstance(relatives, SortedNames) else SortedNames(relatives, self._student)

    def _student(self, relative):
        return _nested_student(relative) if self.nested else _flat_student(relative)

    def __len__(self):
        return len(self._relatives)

    def position(self, student):
        """Where `student` is or would be (bisect), without making an Item."""
        return bisect.bisect_left(self._relatives, student, key=self._student)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        relative = self._relatives[index]
        # The name is decoded afresh from the SortedNames, so pathlib's interning of each part keeps
        # nothing alive past the Item (a kept str once stayed interned: 5 MB at 100,000 names).
        return Item(self._student(relative), Path(os.path.join(self.root, relative)), self.root)

    def student(self, index):
        """items[index].student, without making the Item (a Path costs more than the rest of a row's bookkeeping)."""
        return self._student(self._relatives[index])


def _student_at(items, index):
    return items.student(index) if isinstance(items, Submissions) else items[index].student


@dataclass
class Outcome:
    reports: Mapping = field(default_factory=dict)  # student -> Report, in student order (read from the store)
    # Sequences of students in student order (row_marks.Marked: names made when asked for)
    graded: Sequence = field(default_factory=list)  # students graded in this run
    reused: Sequence = field(default_factory=list)  # students whose stored row still held
    missing: list = field(default_factory=list)  # students without a Report (the run was interrupted)
    unread: Sequence = field(default_factory=list)  # of the graded, those whose file was not read (refused, unreadable)
    identical: list = field(default_factory=list)  # groups of students whose files are byte for byte the same
    interrupted: bool = False
    seconds: float = 0.0  # grading time: from the workers' start to the last row stored
    workers: int = 0  # the pool's size (a cluster's worker threads) while it graded


def discover(directory, exercise_name, assignment=None):
    """The submissions under `directory`, one Item per student, sorted by student (a Submissions)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    submitted = directory / "submitted"
    if submitted.is_dir():
        items = Submissions(submitted, _nbgrader_items(submitted, exercise_name, assignment), nested=True)
        where = f"{submitted}/<student>/{assignment or '<assignment>'}/{exercise_name}.ipynb"
    else:
        items = Submissions(directory, _flat_items(directory), nested=False)
        where = f"{directory} (expected <student>.py or <student>.ipynb)"
    if not items:
        raise UsageError(f"no submissions found in {where}")
    return items


def _flat_items(directory):
    """The flat layout's file names, sorted by student (SortedNames: a student's two files side by side)."""
    names = SortedNames(_flat_names(directory), _flat_student)
    for before, after in itertools.pairwise(names):
        if _flat_student(before) == _flat_student(after):
            raise UsageError(f"two submissions for {Path(before).stem}: {before} and {after}")
    return names


def _flat_student(name):
    return name.rsplit(".", 1)[0]


def _flat_names(directory):
    with os.scandir(directory) as entries:
        for entry in entries:
            # Links are listed whatever they point to (even nowhere): each gets a row saying it was refused.
            if (
                entry.name.endswith(SUFFIXES)
                and not entry.name.startswith(".")
                and (entry.is_file() or entry.is_symlink())
            ):
                yield entry.name


def _nbgrader_items(submitted, exercise_name, assignment):
    """<student>/<assignment>/<exercise>.ipynb of each student who has one (a student is a folder)."""
    return SortedNames(_nbgrader_relatives(submitted, exercise_name, assignment), _nested_student)


def _nested_student(relative):
    return relative.split("/", 1)[0]


def _nbgrader_relatives(submitted, exercise_name, assignment):
    pattern = f"{assignment or '*'}/{exercise_name}.ipynb"
    with os.scandir(submitted) as entries:
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            student_dir = submitted / entry.name
            paths = sorted(p for p in student_dir.glob(pattern) if p.is_file() or p.is_symlink())
            if len(paths) > 1:
                names = ", ".join(p.parent.name for p in paths)
                raise UsageError(
                    f"{entry.name} has {exercise_name}.ipynb in several assignments ({names}): "
                    f"choose one with --assignment"
                )
            if paths:
                yield paths[0].relative_to(submitted).as_posix()


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

    The submissions are read one at a time, as the workers take them: the client holds
    the bytes of those in flight only, and of each student about 40 bytes: the name (in
    items, a SortedNames), a 16-byte hash (to name identical files) and a mark (row_marks).
    outcome.reports reads each Report back from the store when asked.

    `progress`, if given, has start(total) (called once the workers run) and
    advance(count=1, graded=True) (graded False: reused or not readable), both on the
    calling thread; `work` is the per-submission function (job.grade_bytes; tests swap
    in others); `pool` makes the pool that runs it, called as WorkerPool is (default;
    dask_pool.DaskPool for a cluster); `shipped` what workers load the exercise from
    (Registry.shippable; default: its name, a built-in); `secret` the course secret:
    each student is graded on their own inputs (variants), else on the public ones.
    After Ctrl-C the Outcome is `interrupted`, with the finished Reports and the
    `missing` students.
    """
    from .worker_pool import WorkerPool

    if not isinstance(items, Submissions):
        items = sorted(items, key=lambda item: item.student)
    outdir = Path(outdir)
    outcome = Outcome()
    rows = _Rows(items, ResultStore(outdir), outdir, exercise, outcome, progress)
    outcome.graded, outcome.reused, outcome.unread = (
        rows.reports.marked(GRADED, UNREAD),
        rows.reports.marked(REUSED),
        rows.reports.marked(UNREAD),
    )
    digests = bytearray(_DIGEST * len(items))  # the files' hashes, in student order; zeros: not read
    shipped = shipped if shipped is not None else exercise.name
    try:
        pending = _pending(items, shipped, options, secret, rows, digests)
        _grade(pending, exercise, shipped, options, jobs, pool or WorkerPool, work, rows, outcome)
    except KeyboardInterrupt:  # every finished Report is stored: write what there is, marked incomplete
        outcome.interrupted = True
    outcome.reports = rows.reports
    outcome.missing = rows.reports.missing()
    outcome.identical = _identical(items, digests)
    write_grades(outdir / "grades.csv", outcome.reports, exercise)
    return outcome


def _pending(items, shipped, options, secret, rows, digests):
    """The submissions to grade, as (tag, args) for the pool, read as it asks for them.

    Each file is read once: hashed, then either its stored row is reused or these same
    bytes are graded, so a row's key always names the bytes that were graded.
    """
    exercise_id = _exercise_id(shipped)
    for index, item in enumerate(items):
        try:
            job = _prepare(index, item, shipped, exercise_id, options, secret, rows, digests)
        except Exception as error:  # a grader bug on one row costs that row only
            rows.failed(index, error)
            continue
        if job is not None:
            yield job


def _prepare(index, item, shipped, exercise_id, options, secret, rows, digests):
    """(tag, args) to grade ITEM, or None when its row is written already (unread, or reused)."""
    try:
        data = item.read()
    except NotRegularFile as refused:  # never read
        return rows.unread(index, str(refused), "refused")
    except OSError as error:  # unreadable on disk
        return rows.unread(index, f"cannot read {item.path.name}: {error.strerror}", "import_error")
    if len(data) > max_file_bytes(item.path):  # only its first bytes were read: refused here, not sent
        return rows.unread(index, str(file_too_large(item.path.name)), "import_error")
    digest = hashlib.sha256(data).digest()
    digests[index * _DIGEST : (index + 1) * _DIGEST] = digest[:_DIGEST]
    # Only the student's seed travels to the worker, never the secret; it is part of the key,
    # so a changed secret regrades. A course's spec is the instructor's: a changed spec regrades.
    mine = {**options, "variant": student_seed(secret, item.student) if secret is not None else None}
    key = result_key(data, exercise_id, mine, digest)
    if rows.reuse(index, key):
        return None
    rows.in_flight[index] = item
    return (index, key), (str(item.path), data, shipped, mine)


def _grade(pending, exercise, shipped, options, jobs, pool, work, rows, outcome):
    first = next(pending, None)  # a rerun with nothing new starts no worker (nor a cluster)
    if first is None:
        return
    # A submission's own limits bound its grading (longest_grading): past them, and a minute for
    # starting its processes on a busy machine, the grading process itself is stuck.
    deadline = longest_grading(exercise, options["timeout"]) + 60
    # Built-ins are imported before workers fork; a course's spec is already imported here.
    preload = [f"grader.exercises.{shipped}"] if shipped in BUILTIN else []
    with pool(Rendered(work), jobs, deadline=deadline, preload=preload) as workers:
        outcome.workers = getattr(workers, "capacity", jobs)
        rows.start()
        started = time.perf_counter()
        try:
            workers.run(itertools.chain([first], pending), rows.done)
        finally:
            outcome.seconds = time.perf_counter() - started
            outcome.workers = getattr(workers, "capacity", outcome.workers)


class _Rows:
    """Where each submission's row goes: its feedback files, then the store (a stored row means its files exist)."""

    def __init__(self, items, store, outdir, exercise, outcome, progress):
        self.items, self.store, self.outdir, self.exercise = items, store, outdir, exercise
        self.outcome, self.progress = outcome, progress
        self.reports = StoredReports(items, store, exercise)
        self.before_start = 0  # rows done before the workers ran (reused ones): shown once the bar starts
        self.started = False
        self.in_flight = {}  # index -> Item, of the submissions sent to be graded

    def start(self):
        self.started = True
        if self.progress:
            self.progress.start(len(self.items))
            if self.before_start:
                self.progress.advance(self.before_start, graded=False)

    def _advance(self, graded):
        if not self.started:
            self.before_start += 1
        elif self.progress:
            self.progress.advance(1, graded=graded)

    def unread(self, index, reason, code):
        """A zero row with the reason, stored without a key: looked at again next run."""
        item = self.items[index]
        self._finish(index, item, None, zero_report(self.exercise, str(item.path), reason, code, unreadable=True))
        self.reports.add(index, UNREAD)
        self._advance(graded=False)

    def reuse(self, index, key):
        item = self.items[index]
        result = self.store.fresh_report(item.student, key)
        if result is None:
            return False
        self.reports.add(index, REUSED)
        _write_student_files(self.outdir, item.student, result, only_if_missing=True)
        self._advance(graded=False)
        return True

    def done(self, tag, status, value):
        index, key = tag
        item = self.in_flight.pop(index, None) or self.items[index]
        try:
            if status == "ok":  # value: the row made ready to write on the worker (job.rendered)
                self._finish_rendered(index, item, key, value)
            else:  # the grading process failed, not the learner's code: 0 for now, regraded next run
                reason = f"not graded: {value}"
                self._finish(
                    index,
                    item,
                    None,
                    zero_report(self.exercise, str(item.path), reason, "crashed", grader_failure=True),
                )
        except Exception as error:  # a grader bug on one row costs that row only
            self.failed(index, error, advance=False)
        self._advance(graded=True)

    def failed(self, index, error, advance=True):
        """The row of a submission whose grading hit a bug of the grader: 0, saying so, regraded next run.
        Its files are written if they can be; the row is in grades.csv whatever happens."""
        item = self.items[index]
        reason = f"not graded: the grader failed ({type(error).__name__}: {error})"
        result = zero_report(self.exercise, str(item.path), reason, "crashed", grader_failure=True)
        try:  # marked graded (not reused, if its stored row was found before the grader failed on it)
            self._finish(index, item, None, result)
        except Exception:  # noqa: BLE001 (not even its files could be written: the row still counts)
            self.reports.keep(index, result)
        if advance:
            self._advance(graded=False)

    def _finish(self, index, item, key, result):
        if any("killed" in task.diagnoses for task in result.tasks):
            result, key = replace(result, grader_failure=True), None  # killed from outside: regraded
        self._store(index, item, key, *student_files(result), result)

    def _finish_rendered(self, index, item, key, ready):
        if ready["killed"]:  # rendered again as the grader's failure, not the learner's
            return self._finish(index, item, key, Report.from_dict(json.loads(ready["json"])))
        self._store(index, item, key, ready["feedback"], ready["gradescope"], row_json=ready["json"])

    def _store(self, index, item, key, feedback, gradescope, result=None, row_json=None):
        # Feedback files first, the stored row last: a stored row means its files exist. Ctrl-C waits
        # for the whole step, so grades.csv written after it holds exactly the stored rows.
        with ctrl_c_held():
            _write_files(self.outdir, item.student, feedback, gradescope, new=self.store.empty)
            self.store.save(item.student, key, str(item.path), result, row_json=row_json)
            self.reports.add(index, GRADED)


class StoredReports(Mapping):
    """student -> Report of every student given a row in this run, in student order, each read from the
    store when asked: nothing of a class's rows stays in memory but one mark per student (row_marks)."""

    def __init__(self, items, store, exercise):
        self._items, self._store, self._exercise = items, store, exercise
        self._marks = bytearray(len(items))  # each student's mark: 0, no row; else how it got one
        self._count = 0
        self._kept = {}  # index -> Report that could not be stored (a grader bug while writing it)

    def keep(self, index, result):
        self._kept[index] = result
        self.add(index, GRADED)

    def add(self, index, mark=GRADED):
        if not self._marks[index]:
            self._count += 1
        self._marks[index] = mark

    def marked(self, *marks):
        """The students marked one of MARKS, in student order (a live view)."""
        return Marked(self._marks, marks, lambda index: _student_at(self._items, index))

    def __len__(self):
        return self._count

    def __iter__(self):
        return (_student_at(self._items, index) for index in range(len(self._items)) if self._marks[index])

    def __getitem__(self, student):
        index = self._position(student)
        if index is None:
            raise KeyError(student)
        return self._report(index, student)

    def __contains__(self, student):
        return self._position(student) is not None

    def items(self):  # type: ignore[override]  # one pass in order, no lookup per student
        return ((student, self._report(index, student)) for index, student in self._indexed() if self._marks[index])

    def values(self):  # type: ignore[override]
        return (result for _, result in self.items())

    def missing(self):
        return [student for index, student in self._indexed() if not self._marks[index]]

    def _indexed(self):
        return ((index, _student_at(self._items, index)) for index in range(len(self._items)))

    def _report(self, index, student):
        return self._kept[index] if index in self._kept else self._load(index, student)

    def _position(self, student):
        if not isinstance(student, str):
            return None
        if isinstance(self._items, Submissions):
            index = self._items.position(student)
        else:
            index = bisect.bisect_left(self._items, student, key=lambda item: item.student)
        found = index < len(self._items) and _student_at(self._items, index) == student and self._marks[index]
        return index if found else None

    def _load(self, index, student):
        record = self._store.load(student)
        try:
            return Report.from_dict(record["row"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError):  # gone or spoilt since it was stored this run: regraded next run
            reason = "not graded: its stored row could not be read back; rerun to grade it again"
            return zero_report(self._exercise, str(self._items[index].path), reason, "crashed", grader_failure=True)


def _identical(items, digests):
    """Groups of students whose files have the same hash, each sorted, sorted.

    Sorted in place on each hash's first 8 bytes (16 bytes a student: 1.6 MB at 100,000); only
    students whose first 8 bytes repeat are compared on the whole hash, in Python.
    """
    import numpy as np

    count = len(digests) // _DIGEST
    table = np.zeros(count, dtype=[("first", np.uint64), ("index", np.int64)])
    table["first"] = np.frombuffer(digests, dtype=np.uint64)[::2]
    for start in range(0, count, 1 << 16):  # not np.arange(count) at once: the peak is the table alone
        table["index"][start : start + (1 << 16)] = np.arange(start, min(start + (1 << 16), count))
    table.sort(order=["first", "index"])
    firsts = table["first"]
    groups = []
    for start, stop in equal_runs(np.flatnonzero(firsts[1:] == firsts[:-1])):
        by_hash = {}
        for index in table["index"][start:stop].tolist():
            digest = bytes(digests[index * _DIGEST : (index + 1) * _DIGEST])
            if any(digest):  # all zeros: not read
                by_hash.setdefault(digest, []).append(index)
        groups += [group for group in by_hash.values() if len(group) > 1]
    return sorted(sorted(_student_at(items, index) for index in group) for group in groups)


def _exercise_id(shipped):
    return shipped if isinstance(shipped, str) else f"{shipped.name}@{shipped.digest}"


def _write_student_files(outdir, student, result, only_if_missing=False):
    if only_if_missing and all(os.path.exists(path) for path in _student_paths(outdir, student)):
        return
    _write_files(outdir, student, *student_files(result))


def _student_paths(outdir, student):
    """feedback/<student>.txt and gradescope/<student>/results.json (strings: pathlib costs more than the write)."""
    stem, outdir = file_stem(student), os.fspath(outdir)
    return os.path.join(outdir, "feedback", stem + ".txt"), os.path.join(outdir, "gradescope", stem, "results.json")


def _write_files(outdir, student, feedback_text, gradescope_text, new=False):
    """new: no stored row existed when the run began, so none can vouch for a file a kill cut short
    (results_store): the files are created in place, else replaced whole."""
    feedback, gradescope = _student_paths(outdir, student)
    write = write_new if new else write_atomic
    write(feedback, feedback_text)
    with suppress(OSError):  # one new folder per student: made at once, not after a failed write into it
        os.mkdir(os.path.dirname(gradescope))
    write(gradescope, gradescope_text)


def write_grades(path, reports, exercise):
    """grades.csv: student, one column per task (its score, a part's points included), total, then one
    column per task with its diagnosis codes (`db_codes`: "missing_keepdims", space-separated; empty when
    it passed), so that a spreadsheet can filter who made which mistake. Streamed: one row in memory."""
    with atomic_file(path) as handle:
        _write_grade_rows(handle, reports, exercise)


def _write_grade_rows(handle, reports, exercise):
    writer = csv.writer(handle, lineterminator="\n")
    # csv quotes a cell holding the line terminator (\n) but not one holding \r, which readers
    # take for a line break: such a row is written with every cell quoted.
    quoted = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_ALL)
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

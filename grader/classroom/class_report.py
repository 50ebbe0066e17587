"""The class report of `grade batch` as data: what to teach again, who needs help, whose code is alike.

`class_data` turns the class's Reports (the rows grades.csv was written from) and, unless
similarity is off, a similarity.Comparison of their files into plain data; report_page
renders it as report.html, and similarity.csv lists the same pairs. Similarity is computed
here from the files read again from disk after grading (write_report, called by grade batch once
grades.csv and the summary are written), not from bytes kept while grading, and it never
touches a score. `grade report DIR` rebuilds both from a finished batch folder: the stored
rows (results/), grades.csv for a row whose stored result is missing or unreadable, and the
submissions' paths recorded in the stored rows.
"""

import bisect
import csv
import io
import json
from collections import Counter
from pathlib import Path

from ..checking.results import Report, TaskResult
from ..reading.submission import UsageError, max_file_bytes
from ..report import points, task_lines
from . import similarity
from .regular_files import NotRegularFile, read_regular_file
from .results_store import write_atomic
from .summary import CODE_FAILURES, percent, summarize

HELP_BELOW = 0.5  # a student scoring under this share of the points is listed under "who needs help"
SHOWN_PAIRS = 100  # pairs shown side by side on the page; similarity.csv has every listed pair
SHOWN_CODE_CHARS = 20_000  # of each side of a pair, on the page
MAX_KNOWN_FILES = 5_000


def class_data(reports, exercise, comparison=None, missing=(), similarity_note=""):
    """Plain data for the page: reports {student: Report} as in grades.csv; comparison: a
    similarity.Comparison with its pairs' shown code (shown_pairs), or None with similarity_note
    saying why there is none.

    One pass over reports.items() (batch's are read back from its store as they are iterated): what
    the page needs of each row is taken on the way (_Tally), no Report is kept.
    """
    tally = _Tally(exercise)
    base = summarize(tally.counting(reports), exercise, missing=missing)
    n = base["count"]
    tasks = []
    for spec in exercise.tasks:
        mistakes = []
        for code, count in base["diagnoses"].get(spec.name, []):
            student, hint, example = tally.examples[spec.name].get(code, ("", "", ""))
            mistakes.append(
                {
                    "code": code,
                    "count": count,
                    "share": percent(count, n),
                    "did_not_run": code in CODE_FAILURES,
                    "hint": hint,
                    "example": example,
                    "example_student": student,
                }
            )
        tasks.append(
            {
                "name": spec.name,
                "max_score": spec.points,
                "passed": base["passed"].get(spec.name, 0),
                "passed_share": percent(base["passed"].get(spec.name, 0), n),
                "distribution": sorted(tally.task_scores[spec.name].items()),
                "mistakes": mistakes,
            }
        )
    return {
        "exercise": exercise.name,
        "title": exercise.title,
        "max_score": exercise.max_score,
        "count": n,
        "mean": base["mean"],
        "median": base["median"],
        "distribution": base["distribution"],
        "missing": base["missing"],
        "tasks": tasks,
        "help": needs_help(tally, exercise, base),
        "scores": tally.scores,
        "similarity": comparison_data(comparison) if comparison is not None else None,
        "similarity_note": similarity_note,
    }


class _Tally:
    """What the page takes of each row as summarize reads it: per task, the scores' counts and, per
    code, the example of the first student (in name order) with it; every (student, score); the
    scores of the students who may be listed under "who needs help"."""

    def __init__(self, exercise):
        self.exercise = exercise
        self.task_scores = {spec.name: Counter() for spec in exercise.tasks}
        self.examples = {spec.name: {} for spec in exercise.tasks}  # code -> (student, hint, feedback text)
        self.scores, self.below, self.score_of = [], [], {}

    def counting(self, reports):
        tally = self

        class Counted:  # what summarize iterates: reports.items(), each row taken on the way
            def items(self):
                for student, report in reports.items():
                    tally.add(student, report)
                    yield student, report

        return Counted()

    def add(self, student, report):
        self.scores.append((student, report.score))
        top = self.exercise.max_score
        below = report.score < HELP_BELOW * top and not report.unreadable and not report.grader_failure
        if below:
            self.below.append(student)
        hung = any("timeout" in task.diagnoses or "crashed" in task.diagnoses for task in report.tasks)
        if below or hung or report.cut_short or report.unreadable or report.grader_failure:
            self.score_of[student] = report.score
        for spec in self.exercise.tasks:
            if not _has(report, spec.name):
                continue
            task = report.task(spec.name)
            self.task_scores[spec.name][task.score] += 1
            examples = self.examples[spec.name]
            for code in task.diagnoses or (("wrong_value",) if not task.passed else ()):
                if code not in examples or student < examples[code][0]:
                    examples[code] = _example(student, task, code)


def _has(report, name):
    return any(task.name == name for task in report.tasks)


def _example(student, task, code):
    """(student, hint, feedback text) of a student's task diagnosed `code`."""
    part = next((part for part in task.parts if code in part.diagnoses), None)
    hint = task.hint or (part.hint if part else "")
    text = "\n".join(line for _, line in task_lines(task, len(task.name)))
    return student, hint, text


def needs_help(tally, exercise, base):
    """[{student, score, reasons}] for students under HELP_BELOW of the points, or whose code timed
    out, crashed, was cut short, or whose file was refused or could not be read or graded."""
    reasons = {}

    def add(student, reason):
        reasons.setdefault(student, []).append(reason)

    for student in tally.below:
        add(student, f"scored {points(tally.score_of[student])}/{points(exercise.max_score)}")
    for student, names in base["timeout"]:
        add(student, f"timed out: {', '.join(names)}")
    for student, names in base["crashed"]:
        add(student, f"crashed: {', '.join(names)}")
    for student, reason in base["cut_short"]:
        add(student, f"cut short: {reason}")
    for student, reason in base["unreadable"]:
        add(student, f"file refused or unreadable: {reason}")
    for student, reason in base["grader_failures"]:
        add(student, f"not graded (the grading process failed; regraded on the next run): {reason}")
    score = tally.score_of
    return [
        {"student": student, "score": score[student], "reasons": reasons[student]}
        for student in sorted(reasons, key=lambda s: (score[s], s))
    ]


# -- similarity -----------------------------------------------------------------------------


def compare_class(items, known_dir=None, stub_path=None):
    """similarity.Comparison of the class's files (read again from disk, each once) and the files under
    known_dir, without the stub at stub_path; returns (comparison, loaders) where loaders[name]() reads
    a listed file's Source again for showing."""
    known = _known_loaders(known_dir) if known_dir is not None else {}
    stub = _load_path(stub_path, "stub") if stub_path is not None else None
    comparison = similarity.compare(
        (source for source in (_item_loader(item)() for item in items) if source is not None),
        (source for source in (load() for load in known.values()) if source is not None),
        stub,
    )
    return comparison, _Loaders(items, known)


class _Loaders:
    """name -> loader of a student's file (its Item looked up when asked: the class's Items are not all
    kept) or of a known file."""

    def __init__(self, items, known):
        self.items, self.known = items, known

    def __getitem__(self, name):
        if name in self.known:
            return self.known[name]
        items = self.items
        at = bisect.bisect_left(items, name, key=lambda item: item.student)
        if at < len(items) and items[at].student == name:
            return _item_loader(items[at])
        return _item_loader(next(item for item in items if item.student == name))  # items not in student order


def _item_loader(item):
    def load():
        try:
            data = item.read()
        except (NotRegularFile, OSError):
            return None  # its row says why; nothing to compare
        if len(data) > max_file_bytes(item.path):
            return None
        return similarity.read_source(item.student, item.path.name, data)

    return load


def _known_loaders(directory):
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"--known {directory}: not a directory")
    paths = sorted(
        path
        for suffix in (".py", ".ipynb")
        for path in directory.rglob(f"*{suffix}")
        if path.is_file() and not path.is_symlink()
    )
    if len(paths) > MAX_KNOWN_FILES:
        raise UsageError(f"--known {directory}: {len(paths)} files, more than the {MAX_KNOWN_FILES} compared")
    return {_known_name(path, directory): _path_loader(path, _known_name(path, directory)) for path in paths}


def _known_name(path, directory):
    return f"known: {path.relative_to(directory).as_posix()}"


def _path_loader(path, name):
    def load():
        try:
            data = read_regular_file(path.parent, Path(path.name), max_file_bytes(path))
        except (NotRegularFile, OSError):
            return None
        return similarity.read_source(name, path.name, data)

    return load


def _load_path(path, name):
    source = _path_loader(Path(path), name)()
    if source is None:
        raise UsageError(f"cannot read the stub {path}")
    return source


def find_stub(exercise_name, class_dir=None, course=None):
    """The exercise's template as students got it: nbgrader's release notebook of the class, the
    course's exercises/<name>.py, or the project's; None when there is none (an installed wheel)."""
    candidates = []
    if class_dir is not None:
        candidates += sorted(Path(class_dir).glob(f"release/*/{exercise_name}.ipynb"))
    if course is not None:
        candidates.append(Path(course) / "exercises" / f"{exercise_name}.py")
    installed = Path(__file__).resolve().parents[2]  # a checkout, or an editable install's
    candidates += [Path("exercises") / f"{exercise_name}.py", installed / "exercises" / f"{exercise_name}.py"]
    return next((path for path in candidates if path.is_file()), None)


def shown_pairs(comparison, loaders):
    """[(Pair, first Source, second Source)] of the pairs shown side by side on the page."""
    cache = {}

    def source(name):
        if name not in cache:
            cache[name] = loaders[name]()
        return cache[name]

    shown = []
    for pair in comparison.pairs[:SHOWN_PAIRS]:
        first, second = source(pair.first), source(pair.second)
        if first is not None and second is not None:  # a file changed since: not shown
            shown.append((comparison.with_shared(pair, first, second), first, second))
    return shown


def comparison_data(comparison):
    """The page's data of a Comparison, with the code of its shown pairs."""
    sides = []
    for pair, first, second in comparison.shown:
        a_regions, b_regions = similarity.matched_regions(first, second, pair)
        sides.append(
            {
                "first": pair.first,
                "second": pair.second,
                "first_text": first.text[:SHOWN_CODE_CHARS],
                "second_text": second.text[:SHOWN_CODE_CHARS],
                "first_regions": [r for r in a_regions if r[1] <= SHOWN_CODE_CHARS],
                "second_regions": [r for r in b_regions if r[1] <= SHOWN_CODE_CHARS],
                "cut": len(first.text) > SHOWN_CODE_CHARS or len(second.text) > SHOWN_CODE_CHARS,
            }
        )
    return {
        "groups": groups(comparison.pairs),
        "pairs": [
            {
                "first": pair.first,
                "second": pair.second,
                "known": pair.known,
                "first_share": pair.first_share,
                "second_share": pair.second_share,
                "matched_tokens": pair.matched_tokens,
            }
            for pair in comparison.pairs
        ],
        "shown": sides,
        "compared": comparison.compared,
        "known": comparison.known,
        "common": comparison.common,
        "limit": comparison.limit,
        "stub": comparison.stub,
        "notes": sorted(comparison.notes.items()),
        "threshold": similarity.THRESHOLD,
        "min_tokens": similarity.MIN_MATCHED_TOKENS,
        "k": similarity.K,
        "window": similarity.WINDOW,
    }


def groups(pairs):
    """The listed pairs joined into groups (connected components), largest first: six copies of one
    file are 15 pairs and one group. A known file is in the group of every student it matched."""
    root = {}

    def find(name):
        while root.get(name, name) != name:
            name = root[name]
        return name

    for pair in pairs:
        a, b = find(pair.first), find(pair.second)
        if a != b:
            root[max(a, b)] = min(a, b)
    found = {}
    for pair in pairs:
        for name in (pair.first, pair.second):
            found.setdefault(find(name), set()).add(name)
    return sorted((sorted(group) for group in found.values()), key=lambda group: (-len(group), group))


def similarity_csv(comparison):
    """similarity.csv: one row per listed pair; a known file's second column is "known: PATH"."""
    from .batch import inert_cells

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["first", "second", "second_is_known", "first_similarity", "second_similarity", "matched_tokens"])
    for pair in comparison.pairs if comparison is not None else ():
        writer.writerow(
            inert_cells(
                [
                    _csv_text(pair.first),
                    _csv_text(pair.second),
                    "yes" if pair.known else "no",
                    f"{pair.first_share:.3f}",
                    f"{pair.second_share:.3f}",
                    str(pair.matched_tokens),
                ]
            )
        )
    return buffer.getvalue()


def _csv_text(name):
    from ..shown import escaped_name

    return escaped_name(name)


# -- writing --------------------------------------------------------------------------------


def write_report(outdir, reports, exercise, items, missing=(), interrupted=False, known=None, similar=True, stub=None):
    """report.html and similarity.csv in OUTDIR; returns the page's data. items: what grade batch
    graded (each with .student, .path and .read()); stub: the template's path, or None."""
    from .report_page import render

    outdir = Path(outdir)
    comparison, note = None, ""
    if not similar:
        note = "not compared (--no-similarity)"
    elif interrupted:
        note = "not compared: the run was interrupted; `grade report` compares once every file is graded"
    else:
        comparison, loaders = compare_class(items, known, stub)
        comparison.shown = shown_pairs(comparison, loaders)
        if stub is None:
            note = "no stub found to take out (exercises/<name>.py): code every student shares counts as common code"
    data = class_data(reports, exercise, comparison, missing, note)
    write_atomic(outdir / "report.html", render(data))
    if comparison is not None:
        write_atomic(outdir / "similarity.csv", similarity_csv(comparison))
    else:  # a file from an earlier run would contradict the page
        (outdir / "similarity.csv").unlink(missing_ok=True)
    return data


def stored_exercise(outdir):
    """The exercise a batch folder's stored rows were graded for; UsageError when none says."""
    for path in sorted((Path(outdir) / "results").glob("*.json")):
        try:
            name = json.loads(path.read_text(encoding="utf-8"))["row"]["exercise"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(name, str):
            return name
    raise UsageError(f"{outdir} holds no stored results that name their exercise: give it with --exercise")


def stored_class(outdir, exercise):
    """(reports, items) of a finished batch folder: the stored rows and their files, and for each
    student of grades.csv without a stored row (a refused or unreadable file), a row of zeros."""
    from ..checking.grading import zero_report
    from ..shown import escaped_name
    from .batch import Item
    from .results_store import ResultStore

    outdir = Path(outdir)
    grades = outdir / "grades.csv"
    if not grades.is_file():
        raise UsageError(f"{outdir} holds no grades.csv: not a folder written by grade batch")
    store, reports, items = ResultStore(outdir), {}, []
    for path in sorted(store.directory.glob("*.json")) if store.directory.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            report = Report.from_dict(record["row"])
            student, source = record["student"], record["source"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if report.exercise != exercise.name:
            raise UsageError(f"{outdir} was graded for {report.exercise}, not {exercise.name}")
        reports[student] = report
        if isinstance(source, str):
            items.append(Item(student, Path(source)))
    shown = {escaped_name(student) for student in reports} | set(reports)
    with grades.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, names = rows[0] if rows else [], [task.name for task in exercise.tasks]
    for row in rows[1:]:
        cells = dict(zip(header, row))
        student = cells.get("student", "")
        student = student[1:] if student.startswith("'") else student  # inert_cells' quote
        if not student or student in shown:  # grades.csv shows each id escaped (shown.escaped_name)
            continue
        codes = [cells.get(f"{name}_codes", "") for name in names]
        reason = next((code for code in " ".join(codes).split()), "import_error")
        report = zero_report(exercise, student, "not stored: see this student's feedback file", reason, unreadable=True)
        reports[student] = _with_scores(report, cells)
    return {student: reports[student] for student in sorted(reports)}, sorted(items, key=lambda item: item.student)


def _with_scores(report, cells):
    """A row of grades.csv as a Report: its tasks' scores and codes."""
    from dataclasses import replace

    tasks = []
    for task in report.tasks:
        score = float(cells.get(task.name) or 0)
        codes = tuple((cells.get(f"{task.name}_codes") or "").split())
        tasks.append(TaskResult(task.name, score, task.max_score, score >= task.max_score, task.fact, "", codes))
    return replace(report, tasks=tuple(tasks), score=float(cells.get("total") or 0))

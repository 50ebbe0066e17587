"""The class picture after `grade batch`: score distribution and the mistakes per task.

Percentages are of all graded submissions, so "db: missing_keepdims 41%" reads as
"41% of the class lost db to missing keepdims" (after an interrupted run, of the rows
graded so far, and the summary says how many are missing). A share is never rounded
to a whole number it is not: 1 of 40 is 2.5%, 1 of 3 is 33.3%. Per task, mistakes in
the math come first, then the code that did not run (CODE_FAILURES). The students whose tasks
timed out or crashed, whose notebook cells raised, whose files could not be read, and whose files are identical are
named. The chart is drawn with matplotlib's Agg backend, imported only here (it
costs half a second).
"""

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from statistics import mean, median

from ..shown import cell_error_text, escaped, escaped_name, points

# Codes that say the code gave no value to check (it did not load, hung, raised, died, or was not graded),
# kept apart from the mistakes in the math in the text and the chart.
CODE_FAILURES = (
    "timeout",
    "crashed",
    "import_error",
    "refused",
    "out_of_memory",
    "killed",
    "not_implemented",
    "missing_function",
    "exception",
    "autodiff_used",
)


# Codes that take a whole file when every task has them with one reason (it was refused, did not run,
# defines none of the functions): the chart counts such a file once, not once per task.
_PER_FUNCTION = ("not_implemented", "exception", "autodiff_used")


def whole_file_code(report):
    """The code every task of REPORT failed with when the file failed as a whole, else None."""
    tasks = report.tasks
    codes = {task.diagnoses for task in tasks}
    if len(tasks) < 2 or len(codes) != 1 or any(task.score for task in tasks):
        return None
    (diagnoses,) = codes
    code = diagnoses[0] if len(diagnoses) == 1 else None
    if code not in CODE_FAILURES or code in _PER_FUNCTION:
        return None
    # Each task has its own "no function f(...)" fact; the other codes say one reason for the file.
    return code if code == "missing_function" or len({task.fact for task in tasks}) == 1 else None


def _failure(report):
    """Why a Report was not graded: the fact of its task that the grading (not the code) lost."""
    lost = [task for task in report.tasks if "killed" in task.diagnoses]
    return (lost or list(report.tasks))[0].fact


def summarize(reports, exercise, identical=(), missing=(), inputs=None):
    """reports: {student: Report}; identical: groups of students with the same file; missing:
    students not graded yet; inputs: "per-student" or "public seed N" (None: not said).
    Returns plain data for the text and the chart.

    One pass over reports.items(): batch's reports are read back from its store as they are
    iterated, so each further pass would read the whole class again.
    """
    scores = []
    diagnoses = {task.name: Counter() for task in exercise.tasks}
    passed, whole_file = Counter(), Counter()
    unreadable, grader_failures, cut_short, cell_errors = [], [], [], []
    tasks_with = {"timeout": [], "crashed": []}
    for student, report in reports.items():
        scores.append(report.score)
        for task in report.tasks:
            if task.passed:
                passed[task.name] += 1
            else:
                diagnoses.setdefault(task.name, Counter()).update(task.diagnoses or ["wrong_value"])
        if report.unreadable:
            unreadable.append((student, report.unreadable))
        if report.grader_failure:
            grader_failures.append((student, _failure(report)))
        if report.cut_short:
            cut_short.append((student, report.cut_short.reason))
        code = whole_file_code(report)
        if code is not None:
            whole_file[code] += 1
        if report.cell_errors:
            cell_errors.append([student, [cell_error_text(error) for error in report.cell_errors]])
        for diagnosis, found in tasks_with.items():  # grader failures are listed apart
            names = [task.name for task in report.tasks if diagnosis in task.diagnoses]
            if names and not report.grader_failure:
                found.append([student, names])
    return {
        "exercise": exercise.name,
        "max_score": exercise.max_score,
        "count": len(scores),
        "mean": mean(scores) if scores else 0.0,
        "median": median(scores) if scores else 0.0,
        "distribution": _distribution(scores, exercise.max_score),
        "passed": {task.name: passed[task.name] for task in exercise.tasks},
        "diagnoses": {name: counts.most_common() for name, counts in diagnoses.items()},
        "unreadable": sorted(unreadable),
        "grader_failures": sorted(grader_failures),
        "cut_short": sorted(cut_short),
        "whole_file": whole_file.most_common(),
        "cell_errors": sorted(cell_errors),
        "timeout": sorted(tasks_with["timeout"]),
        "crashed": sorted(tasks_with["crashed"]),
        "identical": sorted(sorted(group) for group in identical),
        "missing": sorted(missing),
        "inputs": inputs,
    }


def _distribution(scores, max_score):
    counts = Counter(scores)
    values = set(counts)
    if float(max_score).is_integer():
        values |= set(range(int(max_score) + 1))
    return [(value, counts.get(value, 0)) for value in sorted(values)]


def percent(count, total):
    """count of total as a share, exact when whole, else to one decimal rounded half up ("2.5%" for 1 of 40),
    and never shown as 0% or 100% when it is not."""
    if not total:
        return "0%"
    share = Fraction(100 * count, total)
    if share.denominator == 1:
        return f"{share.numerator}%"
    tenths = Decimal(share.numerator) / Decimal(share.denominator)
    shown = tenths.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if shown == 0:
        return "<0.1%"
    if shown == 100:
        return ">99.9%"
    return f"{shown.normalize():f}%"


def split_codes(counts):
    """(mistakes in the math, code failures): the (code, count) pairs of one task, each in its order."""
    return [pair for pair in counts if pair[0] not in CODE_FAILURES], [
        pair for pair in counts if pair[0] in CODE_FAILURES
    ]


def render(summary):
    n, top = summary["count"], summary["max_score"]
    missing = len(summary["missing"])
    lines = [
        f"{summary['exercise']}: {n} submission{'s' if n != 1 else ''}, "
        f"mean {summary['mean']:.2f}/{points(top)}, median {points(summary['median'])}/{points(top)}"
    ]
    if summary.get("inputs") == "per-student":
        lines.append("inputs: each student's own, from the course secret")
    elif summary.get("inputs"):
        lines.append(
            f"inputs: the same for every student ({summary['inputs']}): no course secret "
            "(--secret-file or $GRADE_SECRET)"
        )
    if missing:
        lines.append(f"incomplete: {missing} of {n + missing} submissions not graded yet; rerun to finish")
    lines.append("score distribution:")
    widest = max((count for _, count in summary["distribution"]), default=0)
    for value, count in reversed(summary["distribution"]):
        bar = "#" * (round(30 * count / widest) if widest else 0)
        lines.append(f"  {points(value):>4}/{points(top)}  {count:>4}  {percent(count, n):>4}  {bar}")
    lines.append(
        "diagnoses per task: none yet, no submission is graded"
        if not n
        else f"diagnoses per task (share of the {n} graded submissions):"
        if missing
        else "diagnoses per task (share of all submissions):"
    )
    for task, counts in summary["diagnoses"].items() if n else ():
        said = [f"passed {percent(summary['passed'].get(task, 0), n)}"]
        mistakes, failures = split_codes(counts)
        if mistakes:
            said.append(", ".join(f"{code} {percent(count, n)}" for code, count in mistakes))
        if failures:
            said.append("did not run: " + ", ".join(f"{code} {percent(count, n)}" for code, count in failures))
        lines.append(f"  {task}: " + "; ".join(said))
    every = len(summary["passed"])
    for key, heading in (("timeout", "timed out"), ("crashed", "crashed")):
        if summary[key]:
            lines.append(f"{heading} (0 for those tasks): {len(summary[key])}")
            lines.extend(
                f"  {escaped_name(student)}: {'every task' if len(names) == every > 1 else ', '.join(names)}"
                for student, names in summary[key]
            )
    if summary.get("cell_errors"):
        lines.append(f"notebook cells that raised (the other cells still ran): {len(summary['cell_errors'])}")
        # A learner's exception message: its control characters shown as escapes.
        lines.extend(
            f"  {escaped_name(student)}: {error}" for student, errors in summary["cell_errors"] for error in errors
        )
    if summary.get("cut_short"):
        lines.append(f"top-level code cut short, graded on the definitions: {len(summary['cut_short'])}")
        lines.extend(f"  {escaped_name(student)}: {reason}" for student, reason in summary["cut_short"])
    if summary["unreadable"]:
        lines.append(f"unreadable or refused files (scored 0, looked at again each run): {len(summary['unreadable'])}")
        lines.extend(f"  {escaped_name(student)}: {reason}" for student, reason in summary["unreadable"])
    if summary["grader_failures"]:
        lines.append(
            f"not graded, the grading process failed (scored 0, regraded on the next run): "
            f"{len(summary['grader_failures'])}"
        )
        lines.extend(f"  {escaped_name(student)}: {reason}" for student, reason in summary["grader_failures"])
    if summary["identical"]:
        groups = len(summary["identical"])
        lines.append(f"identical submissions (same sha256): {groups} group{'s' if groups != 1 else ''}")
        lines.extend(
            f"  {', '.join(map(escaped_name, others))}: identical to {escaped_name(first)}"
            for first, *others in summary["identical"]
        )
    # Each line holds students' names and their code's messages: a line break or a control character
    # in them is shown escaped, never obeyed.
    return "\n".join(escaped(line) for line in lines) + "\n"


def plot(summary, path):
    """Save the chart: the score histogram on the left; on the right, per task, the mistakes in the math
    and, below them, the code that did not run; every bar labelled with its count (and share)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    n = summary["count"]
    groups = [[], []]  # (label, count) of the mistakes in the math, of the code failures
    whole = dict(summary.get("whole_file", ()))  # files that failed as a whole: one bar each code, not one per task
    for task, counts in summary["diagnoses"].items():
        for group, pairs in zip(groups, split_codes(counts)):
            pairs = [(code, count - whole.get(code, 0)) for code, count in pairs]
            group.extend((f"{task}: {code}", count) for code, count in pairs if count)
    groups[1].extend((f"whole file: {code}", count) for code, count in whole.items())
    titles = ("mistakes in the math", "code that did not run (or was not graded)")
    shown = [(title, group) for title, group in zip(titles, groups) if group]
    rows = sum(len(group) for _, group in shown)
    figure = Figure(figsize=(12, max(4, 0.32 * rows + 2)), layout="constrained")
    grid = figure.add_gridspec(
        max(len(shown), 1), 2, width_ratios=(1, 1.4), height_ratios=[len(group) + 1.5 for _, group in shown] or [1]
    )
    left = figure.add_subplot(grid[:, 0])
    values = [points(value) for value, _ in summary["distribution"]]
    counts = [count for _, count in summary["distribution"]]
    missing = f" ({len(summary['missing'])} not graded yet)" if summary["missing"] else ""
    left.set_title(f"{summary['exercise']}: scores of {n} submissions{missing}")
    left.set_xlabel(f"score (out of {points(summary['max_score'])})")
    left.set_ylabel("submissions")
    bars = left.bar(values, counts, color="#4878a8")
    left.bar_label(bars, labels=[str(count) if count else "" for count in counts], padding=2)
    left.margins(y=0.12)
    if not shown:
        right = figure.add_subplot(grid[0, 1])
        right.set_axis_off()
        right.set_title("no mistakes")
    for row, ((title, group), colour) in enumerate(zip(shown, ("#c8553d", "#8c8c8c"))):
        right = figure.add_subplot(grid[row, 1])
        right.set_title(title)
        right.set_xlabel(f"submissions (of {n})")
        labels, counts = zip(*reversed(group))
        bars = right.barh(labels, counts, color=colour)
        right.bar_label(bars, labels=[f"{count} ({percent(count, n)})" for count in counts], padding=3)
        right.set_xlim(0, max(counts) * 1.3)
        right.xaxis.get_major_locator().set_params(integer=True)
    figure.savefig(path, dpi=100, format="png")

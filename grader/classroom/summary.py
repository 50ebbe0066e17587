"""The class picture after `grade batch`: score distribution and the mistakes per task.

Percentages are of all graded submissions, so "db: missing_keepdims 41%" reads as
"41% of the class lost db to missing keepdims" (after an interrupted run, of the rows
graded so far, and the summary says how many are missing). The students whose tasks
timed out or crashed, whose files could not be read, and whose files are identical are
named. The chart is drawn with matplotlib's Agg backend, imported only here (it
costs half a second).
"""

from collections import Counter
from statistics import mean, median

from ..report import points


def _failure(report):
    """Why a Report was not graded: the fact of its task that the grading (not the code) lost."""
    lost = [task for task in report.tasks if "killed" in task.diagnoses]
    return (lost or list(report.tasks))[0].fact


def summarize(reports, exercise, identical=(), missing=(), inputs=None):
    """reports: {student: Report}; identical: groups of students with the same file; missing:
    students not graded yet; inputs: "per-student" or "public seed N" (None: not said).
    Returns plain data for the text and the chart."""
    scores = [report.score for report in reports.values()]
    diagnoses = {task.name: Counter() for task in exercise.tasks}
    passed = Counter()
    for report in reports.values():
        for task in report.tasks:
            if task.passed:
                passed[task.name] += 1
            else:
                diagnoses.setdefault(task.name, Counter()).update(task.diagnoses or ["wrong_value"])
    return {
        "exercise": exercise.name,
        "max_score": exercise.max_score,
        "count": len(scores),
        "mean": mean(scores) if scores else 0.0,
        "median": median(scores) if scores else 0.0,
        "distribution": _distribution(scores, exercise.max_score),
        "passed": {task.name: passed[task.name] for task in exercise.tasks},
        "diagnoses": {name: counts.most_common() for name, counts in diagnoses.items()},
        "unreadable": sorted((student, report.unreadable) for student, report in reports.items() if report.unreadable),
        "grader_failures": sorted(
            (student, _failure(report)) for student, report in reports.items() if report.grader_failure
        ),
        "timeout": _tasks_with(reports, "timeout"),
        "crashed": _tasks_with(reports, "crashed"),
        "identical": sorted(sorted(group) for group in identical),
        "missing": sorted(missing),
        "inputs": inputs,
    }


def _tasks_with(reports, code):
    """[student, [task, ...]] for each Report with tasks diagnosed `code` (grader failures are listed apart)."""
    found = []
    for student in sorted(reports):
        report = reports[student]
        if report.grader_failure:
            continue
        names = [task.name for task in report.tasks if code in task.diagnoses]
        if names:
            found.append([student, names])
    return found


def _distribution(scores, max_score):
    counts = Counter(scores)
    values = set(counts)
    if float(max_score).is_integer():
        values |= set(range(int(max_score) + 1))
    return [(value, counts.get(value, 0)) for value in sorted(values)]


def percent(count, total):
    return f"{100 * count / total:.0f}%" if total else "0%"


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
        f"diagnoses per task (share of the {n} graded submissions):"
        if missing
        else "diagnoses per task (share of all submissions):"
    )
    for task, counts in summary["diagnoses"].items():
        passed = f"passed {percent(summary['passed'].get(task, 0), n)}"
        mistakes = ", ".join(f"{code} {percent(count, n)}" for code, count in counts)
        lines.append(f"  {task}: {passed}" + (f"; {mistakes}" if mistakes else ""))
    every = len(summary["passed"])
    for key, heading in (("timeout", "timed out"), ("crashed", "crashed")):
        if summary[key]:
            lines.append(f"{heading} (0 for those tasks): {len(summary[key])}")
            lines.extend(
                f"  {student}: {'every task' if len(names) == every > 1 else ', '.join(names)}"
                for student, names in summary[key]
            )
    if summary["unreadable"]:
        lines.append(f"unreadable files (scored 0): {len(summary['unreadable'])}")
        lines.extend(f"  {student}: {reason}" for student, reason in summary["unreadable"])
    if summary["grader_failures"]:
        lines.append(
            f"not graded, the grading process failed (scored 0, regraded on the next run): "
            f"{len(summary['grader_failures'])}"
        )
        lines.extend(f"  {student}: {reason}" for student, reason in summary["grader_failures"])
    if summary["identical"]:
        groups = len(summary["identical"])
        lines.append(f"identical submissions (same sha256): {groups} group{'s' if groups != 1 else ''}")
        lines.extend(f"  {', '.join(others)}: identical to {first}" for first, *others in summary["identical"])
    return "\n".join(lines) + "\n"


def plot(summary, path):
    """Save the chart: score histogram on the left, mistake frequencies per task on the right."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    n = summary["count"] or 1
    bars = [
        (f"{task}: {code}", 100 * count / n) for task, counts in summary["diagnoses"].items() for code, count in counts
    ]
    figure = Figure(figsize=(11, max(4, 0.3 * len(bars) + 1.5)), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1, 1.4))
    values = [points(value) for value, _ in summary["distribution"]]
    left.bar(values, [count for _, count in summary["distribution"]], color="#4878a8")
    left.set_xlabel(f"score (out of {points(summary['max_score'])})")
    left.set_ylabel("submissions")
    missing = f" ({len(summary['missing'])} not graded yet)" if summary["missing"] else ""
    left.set_title(f"{summary['exercise']}: scores of {summary['count']} submissions{missing}")
    if bars:
        labels, shares = zip(*reversed(bars))
        right.barh(labels, shares, color="#c8553d")
        right.set_xlabel("% of submissions")
        right.set_title("diagnoses per task")
    else:
        right.set_axis_off()
        right.set_title("no mistakes")
    figure.savefig(path, dpi=100, format="png")

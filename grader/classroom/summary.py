"""The class picture after `grade batch`: score distribution and the mistakes per task.

Percentages are of all graded submissions, so "db: missing_keepdims 41%" reads as
"41% of the class lost db to missing keepdims". The chart is drawn with
matplotlib's Agg backend, imported only here (it costs half a second).
"""

from collections import Counter
from statistics import mean, median

from ..report import points


def summarize(reports, exercise):
    """reports: {student: Report}. Returns plain data for the text and the chart."""
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
            (student, report.tasks[0].fact) for student, report in reports.items() if report.grader_failure
        ),
    }


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
    lines = [
        f"{summary['exercise']}: {n} submission{'s' if n != 1 else ''}, "
        f"mean {summary['mean']:.2f}/{points(top)}, median {points(summary['median'])}/{points(top)}",
        "score distribution:",
    ]
    widest = max((count for _, count in summary["distribution"]), default=0)
    for value, count in reversed(summary["distribution"]):
        bar = "#" * (round(30 * count / widest) if widest else 0)
        lines.append(f"  {points(value):>4}/{points(top)}  {count:>4}  {percent(count, n):>4}  {bar}")
    lines.append("diagnoses per task (share of all submissions):")
    for task, counts in summary["diagnoses"].items():
        passed = f"passed {percent(summary['passed'].get(task, 0), n)}"
        mistakes = ", ".join(f"{code} {percent(count, n)}" for code, count in counts)
        lines.append(f"  {task}: {passed}" + (f"; {mistakes}" if mistakes else ""))
    if summary["unreadable"]:
        lines.append(f"unreadable files (scored 0): {len(summary['unreadable'])}")
        lines.extend(f"  {student}: {reason}" for student, reason in summary["unreadable"])
    if summary["grader_failures"]:
        lines.append(
            f"not graded, the grading process failed (scored 0, regraded on the next run): "
            f"{len(summary['grader_failures'])}"
        )
        lines.extend(f"  {student}: {reason}" for student, reason in summary["grader_failures"])
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
    left.set_title(f"{summary['exercise']}: scores of {summary['count']} submissions")
    if bars:
        labels, shares = zip(*reversed(bars))
        right.barh(labels, shares, color="#c8553d")
        right.set_xlabel("% of submissions")
        right.set_title("diagnoses per task")
    else:
        right.set_axis_off()
        right.set_title("no mistakes")
    figure.savefig(path, dpi=100, format="png")

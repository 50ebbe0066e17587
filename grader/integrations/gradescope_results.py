"""A Report as Gradescope's results.json, using the whole of its spec (gradescope_results.schema.json).

- top level: score, max_score, execution_time, output (markdown), visibility and
  stdout_visibility (settable: visible, after_due_date, after_published, hidden);
- one test per task, or per part of a task split into parts ("loss_and_grads: loss",
  numbered "5.1"), each with number, status, tags (its diagnosis codes) and a
  markdown output: the fact in bold, the hint on its own line, the details and the
  input as a list; text that reads as markdown is escaped, math the hints already
  hold in `code spans` is kept. Much of that text is the learner's (an exception's
  message, a line of their file): a code span is kept only where CommonMark sees the
  same one, on one line, so none of it becomes HTML; its control characters are shown escaped.
"""

import bisect
import re

from ..shown import cell_error_text, escaped, points

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
_SPECIAL = re.compile(r"([\\*_\[\]<>#|~])")
_RUN = re.compile(r"`+")


def results(report, visibility="visible", stdout_visibility="hidden"):
    """results.json's content for one Report."""
    tests = []
    for number, task in enumerate(report.tasks, start=1):
        if task.parts:
            for sub, part in enumerate(task.parts, start=1):
                tests.append(_test(f"{task.name}: {part.name}", f"{number}.{sub}", part, shared=task))
        else:
            tests.append(_test(task.name, str(number), task))
    summary = [f"**{_escape(report.exercise)}: {points(report.score)}/{points(report.max_score)} points**"]
    if report.cut_short is not None:  # a long top-level experiment: the functions were graded without it
        summary.append(f"**Cut short:** {_escape(report.cut_short.reason)}")
        summary.append("\n".join(f"- not run: {_escape(where)}" for where in report.cut_short.skipped))
    if report.cell_errors:
        summary.append("Notebook cells that raised (the other cells still ran):")
        summary += [f"- {_escape(cell_error_text(error))}" for error in report.cell_errors]
    return {
        "score": report.score,
        "max_score": report.max_score,
        "execution_time": round(report.seconds, 3),
        "output": "\n\n".join(summary),
        "output_format": "md",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "tests": tests,
    }


def _test(name, number, item, shared=None):
    """A test from a task or a part. A failure every part shares (the file did not load, a wrong
    return type) is the task's own: shown on each of its parts."""
    said = item if item.fact or shared is None or not shared.fact else shared
    return {
        "name": name,
        "number": number,
        "score": item.score,
        "max_score": item.max_score,
        "status": "passed" if item.passed else "failed",
        "output": "passed" if item.passed else _failure(said),
        "output_format": "md",
        "tags": [] if item.passed else list(said.diagnoses),
    }


def _failure(item):
    lines = [f"**{_escape(item.fact)}**"]
    if item.hint:
        lines.append(f"Hint: {_escape(item.hint)}")
    listed = [*item.details, *([f"input: {item.case}"] if item.case else [])]
    if listed:
        lines.append("\n".join(f"- {_escape(line)}" for line in listed))
    return "\n\n".join(lines)


def _escape(text):
    """Markdown-escape prose, leaving `code spans` (the hints' math) as they are. Control characters,
    line breaks among them, are shown escaped first (shown.escaped): none of the learner's text starts
    a line of markdown."""
    return _escape_line(escaped(text))


def _escape_line(line):
    """One line: a code span is a run of backticks closed by the next run of the same length (CommonMark's
    rule), kept as it is; every other run is escaped, and so is the text between spans. On one line only: a
    span over several lines would keep a later line's start, where CommonMark starts an HTML block."""
    runs = [(found.start(), found.end()) for found in _RUN.finditer(line)]
    by_length = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    pieces, done, index = [], 0, 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        after = bisect.bisect_right(same, index)
        pieces.append(_SPECIAL.sub(r"\\\1", line[done:start]))
        if after < len(same):  # closed: a code span, its text as it is
            index = same[after]
            done = runs[index][1]
            pieces.append(line[start:done])
        else:  # never closed: literal backticks
            done = end
            pieces.append("\\`" * (end - start))
        index += 1
    pieces.append(_SPECIAL.sub(r"\\\1", line[done:]))
    return "".join(pieces)

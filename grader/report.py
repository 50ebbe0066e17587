"""Turn a grading Report into what people and tools read: text, JSON, Gradescope.

Text follows pytest's terminal style: one line per task with its score and, on a
failure, its diagnosis codes; below it the fact, the hint and the details, each on
its own lines, wrapped at WIDTH columns and indented under the task; a task split
into parts lists each part with its score. Then one summary line. Colour only on a
terminal (rich, imported lazily: it costs 50 ms that a pipe or a JSON consumer
should not pay).
"""

import json
import textwrap

from .shown import cell_error_text, escaped, escaped_name, points

VERBOSE_OUTPUT_LIMIT = 4000  # characters of the submission's printed output shown by --verbose
WIDTH = 100  # columns of wrapped text
BODY = " " * 8  # indent of a task's fact, hint and details, under its name


def wrap(text, indent, hang=2):
    """`text` wrapped at WIDTH columns, every line starting with `indent`, continuation lines `hang` more."""
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + " " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def failure_lines(item, indent=BODY):
    """The fact, the hint, the details and the input of a failed task or part, each on its own lines."""
    lines = wrap(item.fact, indent)
    if item.hint:
        lines += wrap(f"hint: {item.hint}", indent, hang=len("hint: "))
    for detail in item.details:
        lines += wrap(detail, indent)
    if item.case:
        lines += wrap(f"input: {item.case}", indent, hang=len("input: "))
    return lines


def _codes(item):
    return f"  [{', '.join(item.diagnoses)}]" if item.diagnoses else ""


def task_body(task, indent=BODY):
    """What follows a failed task's score line: its failure, then its parts with their scores."""
    lines = failure_lines(task, indent) if task.fact else []
    width = max((len(part.name) for part in task.parts), default=0)
    for part in task.parts:
        mark = "PASS" if part.passed else "FAIL"
        lines.append(
            f"{indent}{mark}  {part.name:<{width}}  {points(part.score)}/{points(part.max_score)}"
            + ("" if part.passed or task.fact else _codes(part))
        )
        if not part.passed and not task.fact:  # a failure shared by every part was said once, above
            lines += failure_lines(part, indent + " " * 6)
    return lines


def task_lines(task, width=0):
    """One task's (style, line) pairs: its score line, then a failure's fact, hint, details and parts."""
    mark, style = ("PASS", "pass") if task.passed else ("FAIL", "fail")
    head = f"  {mark}  {task.name:<{width}}  {points(task.score)}/{points(task.max_score)}"
    if task.passed:
        return [(style, head)]
    return [(style, head + _codes(task))] + [("", line) for line in task_body(task)]


def render_task(task):
    """One task's text, as nbgrader test cells and notebook feedback show it."""
    return "\n".join(safe(line) for _, line in task_lines(task)) + "\n"


# What a submission could put in a message or a print to drive the reader's terminal (clear the
# screen, retitle the window, draw "PASS" over "FAIL") or to reorder what is read: shown as escapes.
safe = escaped


def text_lines(report, verbose=False):
    """(style, line) pairs; style is "pass", "fail" or "" for plain. No line holds a control character."""
    return [(style, safe(line)) for style, line in _text_lines(report, verbose)]


def _text_lines(report, verbose=False):
    lines = [("", f"{report.exercise}: {report.title} ({escaped_name(report.path)})")]
    if report.cut_short is not None:
        lines += [("fail", "  CUT SHORT")] + [("", line) for line in cut_short_lines(report.cut_short, " " * 8)]
    width = max((len(task.name) for task in report.tasks), default=0)
    failure = shared_failure(report)
    if failure is not None:
        # Nothing could be graded (the file does not run or cannot be read): say it once, not per task.
        names = ", ".join(task.name for task in report.tasks)
        lines.append(("fail", f"  ERROR{_codes(failure)}"))
        lines.extend(("", line) for line in failure_lines(failure, " " * 9))
        lines.extend(("", line) for line in wrap(f"every task scores 0: {names}", " " * 9))
    else:
        for task in report.tasks:
            lines.extend(task_lines(task, width))
    if report.cell_errors:
        lines.append(("", "  notebook cells that raised (the other cells still ran):"))
        lines.extend(("", line) for error in report.cell_errors for line in wrap(cell_error_text(error), "    "))
    if verbose:
        lines.extend(("", line) for line in _printed(report.output))
    style = "pass" if report.full_marks else "fail"
    lines.append((style, f"{report.exercise}: {points(report.score)}/{points(report.max_score)} points"))
    return lines


SHOWN_SKIPPED = 10  # skipped statements listed in the text; JSON has them all


def cut_short_lines(cut, indent):
    """Say that the top-level code was cut short, and which statements did not run."""
    lines = wrap(
        f"{cut.reason}, so its top-level code was cut short: the functions were graded after running "
        "only its imports, definitions and simple assignments. Not run:",
        indent,
        hang=0,
    )
    for where in cut.skipped[:SHOWN_SKIPPED]:
        lines += wrap(where, indent + "  ", hang=4)
    if len(cut.skipped) > SHOWN_SKIPPED:
        lines += wrap(f"... and {len(cut.skipped) - SHOWN_SKIPPED} more", indent + "  ")
    return lines


def shared_failure(report):
    """The one failed task standing for all, when every task failed the same way (the file did not
    load: it raised, hung or died while running, or could not be read), so the text says it once."""
    tasks = report.tasks
    if len(tasks) < 2 or any(task.score for task in tasks) or not tasks[0].fact:
        return None
    first = tasks[0]
    same = all(
        (task.fact, task.hint, task.diagnoses, task.details, task.case)
        == (first.fact, first.hint, first.diagnoses, first.details, first.case)
        for task in tasks
    )
    return first if same else None


def _printed(output):
    if not output:
        return ["  the submission printed nothing"]
    shown = output[:VERBOSE_OUTPUT_LIMIT]
    lines = ["  the submission printed:"] + [f"  | {line}" for line in shown.rstrip("\n").split("\n")]
    if len(output) > VERBOSE_OUTPUT_LIMIT:
        lines.append(f"  | ... ({len(output) - VERBOSE_OUTPUT_LIMIT} more characters not shown)")
    return lines


def render_text(report, verbose=False):
    return "\n".join(line for _, line in text_lines(report, verbose)) + "\n"


def print_text(report, stream, verbose=False):
    """Print the text report, coloured when `stream` is a terminal."""
    if not stream.isatty():
        stream.write(render_text(report, verbose))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True)
    colours = {"pass": "green", "fail": "red", "": None}
    for style, line in text_lines(report, verbose):
        console.print(Text(line, style=colours[style] or ""))


def render_json(report, verbose=False):
    """Report.to_dict() as one JSON object; what the submission printed only with verbose."""
    data = report.to_dict()
    if not verbose:
        del data["output"]
    return json.dumps(data)


def gradescope(report, visibility="visible", stdout_visibility="hidden"):
    """Gradescope's autograder results.json (grader/integrations/gradescope_results.py)."""
    from .integrations.gradescope_results import results

    return results(report, visibility, stdout_visibility)


def render_gradescope(report):
    return json.dumps(gradescope(report), indent=2)

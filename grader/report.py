"""Turn a grading Report into what people and tools read: text, JSON, Gradescope.

Text follows pytest's terminal style: one line per task, details indented below a
failure, then one summary line. Colour only on a terminal (rich, imported lazily:
it costs 50 ms that a pipe or a JSON consumer should not pay).
"""

import json

VERBOSE_OUTPUT_LIMIT = 4000  # characters of the submission's printed output shown by --verbose


def points(value):
    return f"{value:g}"


def text_lines(report, verbose=False):
    """(style, line) pairs; style is "pass", "fail" or "" for plain."""
    lines = [("", f"{report.exercise}: {report.title} ({report.path})")]
    width = max((len(task.name) for task in report.tasks), default=0)
    failure = shared_failure(report)
    if failure is not None:
        # Nothing could be graded (the file does not run or cannot be read): say it once, not per task.
        lines.append(("fail", f"  ERROR  {failure.message}"))
        lines.append(("", f"         [{', '.join(failure.diagnoses)}]"))
        lines.extend(("", f"         {detail}") for detail in failure.details)
        lines.append(("", f"         every task scores 0: {', '.join(task.name for task in report.tasks)}"))
    else:
        for task in report.tasks:
            lines.extend(task_lines(task, width))
    if report.cell_errors:
        lines.append(("", "  notebook cells that raised (the other cells still ran):"))
        lines.extend(("", f"    {cell_error_text(error)}") for error in report.cell_errors)
    if verbose:
        lines.extend(("", line) for line in _printed(report.output))
    style = "pass" if report.full_marks else "fail"
    lines.append((style, f"{report.exercise}: {points(report.score)}/{points(report.max_score)} points"))
    return lines


def cell_error_text(error):
    return f"{error['where']}: {error['type']}: {error['message']}"


def shared_failure(report):
    """The one failed task standing for all, when every task failed the same way (the file did not
    load: it raised, hung or died while running), so the text says it once."""
    tasks = report.tasks
    if len(tasks) < 2 or any(task.passed for task in tasks):
        return None
    first = tasks[0]
    same = all(
        (task.message, list(task.diagnoses), list(task.details))
        == (first.message, list(first.diagnoses), list(first.details))
        for task in tasks
    )
    return first if same else None


def task_lines(task, width=0):
    """One task's (style, line) pairs: its score line, then a failure's diagnoses and details."""
    mark, style = ("PASS", "pass") if task.passed else ("FAIL", "fail")
    head = f"  {mark}  {task.name:<{width}}  {points(task.score)}/{points(task.max_score)}"
    if task.passed:
        return [(style, head)]
    lines = [(style, f"{head}  {task.message}"), ("", f"        [{', '.join(task.diagnoses)}]")]
    return lines + [("", f"        {detail}") for detail in task.details]


def render_task(task):
    """One task's text, as nbgrader test cells show it."""
    return "\n".join(line for _, line in task_lines(task)) + "\n"


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

    console = Console(file=stream, highlight=False)
    colours = {"pass": "green", "fail": "red", "": None}
    for style, line in text_lines(report, verbose):
        console.print(Text(line, style=colours[style] or ""))


def render_json(report):
    return json.dumps(report.to_dict())


def gradescope(report):
    """Gradescope's autograder results.json: one test per task."""
    return {
        "score": report.score,
        "max_score": report.max_score,
        "output": f"{report.exercise}: {points(report.score)}/{points(report.max_score)} points",
        "tests": [
            {
                "name": task.name,
                "score": task.score,
                "max_score": task.max_score,
                "status": "passed" if task.passed else "failed",
                "output": _task_output(task),
            }
            for task in report.tasks
        ],
    }


def _task_output(task):
    if task.passed:
        return "passed"
    lines = [task.message, f"[{', '.join(task.diagnoses)}]", *task.details]
    return "\n".join(lines)


def render_gradescope(report):
    return json.dumps(gradescope(report), indent=2)

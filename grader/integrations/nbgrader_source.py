"""`grade nbgrader-source`: nbgrader source notebooks generated from solutions/.

For every exercise that has solutions/<name>.py (the course's first) this writes
COURSE_DIR/source/<name>/<name>.ipynb (one assignment per exercise, named like it,
holding one notebook named like it, so both `grade check` and grader.nbgrader find
the exercise from the notebook's name):

- the solution's docstring as a markdown introduction;
- its module-level code (imports) as a read-only setup cell;
- per task, its function as a solution cell, markers kept (`nbgrader generate_assignment`
  turns the regions into stubs), then a locked test cell worth the task's points that
  calls grader.feedback;
- any other function as a read-only cell, or a solution cell without a test when it
  has solution markers (helpers the learner writes but the grader does not score).
"""

import ast
import re
from pathlib import Path

from .. import defaults
from ..stubs import BEGIN

SCHEMA_VERSION = 3
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

CONFIG_LINES = f"""\
c = get_config()  # noqa: F821 (nbgrader defines it)

# Grade with the grader's sandbox instead of running the notebook in a kernel:
# nbgrader's default list with Execute replaced by grader.integrations.nbgrader.GradeTasks.
c.Autograde.autograde_preprocessors = [
    "grader.integrations.nbgrader.GradeTasks",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradeTasks.timeout = {defaults.TIMEOUT!r}  # seconds per task (grade check --timeout)
c.GradeTasks.memory_mb = {defaults.MEMORY_MB!r}  # memory cap (grade check --memory)
# A deleted test cell is put back and graded, after the nearest earlier cell the notebook still has.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "grader.integrations.nbgrader.RestoreMissingCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.OverwriteCells.add_missing_cells = True
"""


class SourceError(Exception):
    pass


def exercises_with_solutions(roots, names=None, registry=None):
    """(Exercise, solution path) for each exercise asked for, its solution the first
    ROOT/solutions/<name>.py of ROOTS; without NAMES, every exercise with a solution in ROOTS[0]."""
    from .. import exercises

    registry = registry or exercises.active()
    roots = [Path(root) for root in roots]
    if names:
        wanted = list(names)
    else:
        wanted = [name for name in registry.names() if (roots[0] / "solutions" / f"{name}.py").exists()]
    found = []
    for name in wanted:
        spec = registry.load(name)  # UsageError for an unknown name
        paths = [root / "solutions" / f"{name}.py" for root in roots]
        path = next((path for path in paths if path.exists()), None)
        if path is None:
            raise SourceError(f"no solution for exercise {name!r}: {' nor '.join(map(str, paths))} exists")
        found.append((spec, path))
    return found


def write_course(course_dir, roots=(".",), names=None, registry=None):
    """Write the source notebooks (and nbgrader_config.py when absent); return the paths written.
    ROOTS: where solutions/ are looked for, in order (exercises_with_solutions)."""
    course_dir = Path(course_dir)
    found = exercises_with_solutions(roots, names, registry)
    if not found:
        raise SourceError(f"no exercise has a solution under {Path(roots[0]) / 'solutions'}")
    import nbformat  # after the names are checked: importing it takes over a second

    written = []
    for spec, solution in found:
        notebook = source_notebook(spec, solution.read_text(), solution.name)
        target = course_dir / "source" / spec.name / f"{spec.name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(target))
        written.append(target)
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG_LINES)
        written.append(config)
    return written


def source_notebook(spec, text, filename):
    """The nbgrader source notebook (an nbformat node) for one exercise."""
    import nbformat
    from nbformat import v4

    docstring, pieces = split_solution(text, filename)
    docstring = for_a_notebook(docstring)
    tasks = {task.name: task for task in spec.tasks}
    missing = [name for name in tasks if name not in {name for name, _ in pieces}]
    if missing:
        raise SourceError(f"{filename} defines no function for task(s) {', '.join(missing)} of {spec.name}")
    intro = f"# {spec.title}\n\n{docstring}\n\n" if docstring else f"# {spec.title}\n\n"
    intro += (
        "Write the code of each function between its docstring and the test cell below it, "
        "then run the test cell: it checks your function and says what to fix. "
        f"Scores: {', '.join(f'{t.name} {t.points:g}' for t in spec.tasks)} "
        f"(total {spec.max_score:g})."
    )
    cells = [v4.new_markdown_cell(intro, id="intro")]
    for number, (name, code) in enumerate(pieces):
        if name is None:
            cells.append(_cell(code, grade_id="setup" if number == 0 else f"setup_{number}", locked=True))
        elif name in tasks:
            cells.append(_cell(code, grade_id=f"solution_{name}", solution=True))
            cells.append(
                _cell(
                    feedback_source(spec, tasks[name]),
                    grade_id=f"test_{name}",
                    grade=True,
                    locked=True,
                    points=tasks[name].points,
                )
            )
        elif BEGIN in code:
            cells.append(_cell(code, grade_id=f"solution_{name}", solution=True))
        else:
            cells.append(_cell(code, grade_id=f"code_{name}", locked=True))
    notebook = v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(notebook)
    return notebook


# A .py file is checked on the command line; in the notebook each function has its test cell.
_COMMAND_LINE = re.compile(r"^(\s*)Check your work with:?\s*`?grade check [^`\n]*`?\s*$", re.MULTILINE)
IN_A_NOTEBOOK = "Check your work by running the test cell below each function."


def for_a_notebook(text):
    """The solution's docstring as a notebook's introduction: `grade check FILE` becomes the test cells."""
    return _COMMAND_LINE.sub(lambda match: match.group(1) + IN_A_NOTEBOOK, text)


def feedback_source(spec, task):
    points = f"{task.points:g} point{'' if task.points == 1 else 's'}"
    return (
        f"# Tests {task.name} ({points}): run this cell for feedback on your {task.name}. Do not edit it.\n"
        "from grader import feedback\n"
        f"feedback({spec.name!r}, {task.name!r}, globals())"
    )


def _cell(source, grade_id, grade=False, solution=False, locked=False, points=None):
    from nbformat import v4

    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    # Cell ids fixed by the grade_id, so regenerating an unchanged solution changes nothing.
    cell = v4.new_code_cell(source, metadata={"nbgrader": meta}, id=grade_id)
    if locked:
        cell.metadata.update(deletable=False, editable=False)
    return cell


def split_solution(text, filename="solution"):
    """(module docstring, [(function name or None, source)]) in file order.

    Consecutive module-level statements (imports, constants) form one piece named
    None; each top-level function, with the comments just above it, is one piece.
    Indented comments after a function's last statement (### END SOLUTION) stay in it.
    """
    try:
        module = ast.parse(text, filename)
    except SyntaxError as error:
        raise SourceError(f"{filename}, line {error.lineno}: {error.msg}") from None
    lines = text.split("\n")
    body = list(module.body)
    docstring = ast.get_docstring(module) or ""
    if docstring and body and isinstance(body[0], ast.Expr):
        start = body.pop(0).end_lineno  # lines after the docstring
    else:
        start = 0
    pieces = []
    for index, node in enumerate(body):
        end = _split_before(body[index + 1], node, lines) if index + 1 < len(body) else len(lines)
        code = "\n".join(lines[start:end]).strip("\n")
        start = end
        name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if name is None and pieces and pieces[-1][0] is None:
            pieces[-1] = (None, pieces[-1][1] + "\n" + code)
        else:
            pieces.append((name, code))
    return docstring, pieces


def _split_before(following, node, lines):
    """The line index where `following`'s piece starts: its decorators and the
    column-0 comments and blank lines just above them."""
    first = min([following.lineno] + [d.lineno for d in getattr(following, "decorator_list", [])]) - 1
    while first - 1 >= node.end_lineno and (not lines[first - 1].strip() or lines[first - 1].startswith("#")):
        first -= 1
    return first

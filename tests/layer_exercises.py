"""What the tests of the layer exercises (normalization, conv, rnn) check of each: the helpers of
tests/test_normalization.py, test_conv.py and test_rnn.py, one module per exercise."""

import json

from conftest import ROOT, SUBMISSIONS, assert_verdicts, expectations, solution_text

from grader import exercises
from grader.checking.grading import grade_file
from grader.checking.results import Report

TIMEOUT = 5.0


def corpus(name):
    return sorted((SUBMISSIONS / name).glob("*.py"))


def corpus_codes(name):
    """The diagnosis codes the corpus of NAME expects, and whether every file names every task."""
    exercise = exercises.load(name)
    files = corpus(name)
    codes = {code for path in files for _, (_, wanted, _) in expectations(path).items() for code in wanted}
    return codes, all(set(expectations(path)) == {task.name for task in exercise.tasks} for path in files)


def assert_file_verdicts(name, path, variant=None):
    """PATH gets its header's verdicts; its report survives the plain-data form and makes valid Gradescope results."""
    report = grade_file(path, exercises.load(name), timeout=TIMEOUT, variant=variant)
    assert_verdicts(report, expectations(path))
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert gradescope_errors(report) == []


def assert_full_marks(name, write, variant=None):
    exercise = exercises.load(name)
    report = grade_file(write(f"{name}.py", solution_text(name)), exercise, timeout=TIMEOUT, variant=variant)
    assert_verdicts(report, {task.name: (True, [], None) for task in exercise.tasks})


def solution_cells_missing(name):
    """What `grade nbgrader-source` would lack to build the notebook of NAME: the tasks without a
    solution cell, and the docstring's `grade check` line that becomes the test cells' instruction."""
    from grader.integrations.nbgrader_source import split_solution

    docstring, pieces = split_solution((ROOT / "solutions" / f"{name}.py").read_text())
    solved = {piece for piece, code in pieces if piece and "### BEGIN SOLUTION" in code}
    missing = [task.name for task in exercises.load(name).tasks if task.name not in solved]
    return missing + ([] if f"grade check {name}.py" in docstring else ["grade check line"])


def gradescope_errors(report):
    """What the schema of Gradescope's results.json finds wrong in REPORT's results ([] when valid)."""
    import jsonschema

    from grader.integrations.gradescope_results import results

    schema = json.loads((ROOT / "grader" / "integrations" / "gradescope_results.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(results(report))]


def docs_example(exercise, task, path, phrase):
    """(what the grader says about TASK of the corpus file PATH, in this process with grade check's inputs,
    the code block after PHRASE in docs/exercises.md): the two must be equal."""
    from grader import report as rendering
    from grader.integrations.notebook import grade_one

    namespace = {}
    exec((SUBMISSIONS / path).read_text(), namespace)
    width = max(len(each.name) for each in exercises.load(exercise).tasks)
    shown = "\n".join(line for _, line in rendering.task_lines(grade_one(exercise, task, namespace), width)) + "\n"
    page = (ROOT / "docs" / "exercises.md").read_text()
    return shown, page.split(phrase, 1)[1].split("```\n", 2)[1]


def docs_task_rows_missing(name):
    """The tasks of NAME whose row (signature, points and parts) docs/exercises.md lacks."""
    page = (ROOT / "docs" / "exercises.md").read_text()
    missing = []
    for task in exercises.load(name).tasks:
        parts = ": " + ", ".join(f"{part.name} {part.points:g}" for part in task.parts) if task.parts else ""
        if f"| `{task.signature}` | {task.points:g}{parts} |" not in page:
            missing.append(task.name)
    return missing

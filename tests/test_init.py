"""`grade init EXERCISE [--notebook]`: a student with only the wheel gets the stub, or a notebook of it."""

import json

import nbformat
import pytest
from conftest import ROOT, run_grade, run_json

from grader.exercises.registry import BUILTIN, Registry
from grader.starter import stub_text


def test_every_built_in_exercise_starts_from_its_stub_in_exercises():
    # One copy of the stubs, exercises/: a checkout (or an editable install) reads it, the wheel ships it as
    # grader/stubs_data/ (tests/test_packaging.py checks the wheel's copy against it).
    registry = Registry(entry_points=False)
    assert sorted(path.stem for path in (ROOT / "exercises").glob("*.py")) == sorted(BUILTIN)
    for name in BUILTIN:
        assert stub_text(registry.load(name), registry) == (ROOT / "exercises" / f"{name}.py").read_text(), name
    assert not (ROOT / "grader" / "stubs_data").exists()  # no second copy in the package to drift from it


def test_init_writes_the_stub_and_refuses_to_overwrite_it(tmp_path):
    result = run_grade("init", "softmax", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        0,
        "wrote softmax.py: fill in each raise NotImplementedError, then run: grade check softmax.py\n",
    )
    assert (tmp_path / "softmax.py").read_text() == (ROOT / "exercises" / "softmax.py").read_text()
    _, report = run_json("check", tmp_path / "softmax.py")
    assert {task["diagnoses"][0] for task in report["tasks"]} == {"not_implemented"}
    (tmp_path / "softmax.py").write_text("my work")
    again = run_grade("init", "softmax", cwd=tmp_path)
    assert (again.returncode, again.stdout) == (2, "")
    assert again.stderr == "grade: softmax.py already exists here: not overwritten (rename it to start again)\n"
    assert (tmp_path / "softmax.py").read_text() == "my work"


def test_init_notebook_has_a_feedback_cell_after_each_function_and_grades_like_the_stub(tmp_path):
    result = run_grade("init", "softmax", "--notebook", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notebook = json.loads((tmp_path / "softmax.ipynb").read_text())
    nbformat.validate(nbformat.from_dict(notebook))  # a valid nbformat 4.5 notebook, Jupyter opens it
    cells = notebook["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    assert sources[0].splitlines()[-2:] == ["import numpy as np", "from grader import feedback"]
    asked = [source.splitlines()[-1] for source in sources if source.startswith("# Tests")]
    assert asked == [f"feedback('softmax', {task!r}, globals())" for task in ("forward", "dZ", "dW", "db")]
    _, report = run_json("check", tmp_path / "softmax.ipynb")
    assert report["cell_errors"] == []
    assert {task["diagnoses"][0] for task in report["tasks"]} == {"not_implemented"}


@pytest.mark.parametrize("args, message", [(["softmx"], "unknown exercise 'softmx' (did you mean softmax?)")])
def test_init_of_an_unknown_exercise_is_a_one_line_error(tmp_path, args, message):
    result = run_grade("init", *args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_init_of_a_course_exercise_copies_the_courses_stub(tmp_path):
    from test_courses import make_course

    course = make_course(tmp_path / "ml101", config="grade.toml")
    assert run_grade("init", "logistic", cwd=course).returncode == 2  # no stub yet: grade stubs writes it
    assert run_grade("stubs", cwd=course).returncode == 0
    student = course / "submissions"
    result = run_grade("init", "logistic", "--course", course, cwd=student)
    assert result.returncode == 0, result.stderr
    assert (student / "logistic.py").read_text() == (course / "exercises" / "logistic.py").read_text()

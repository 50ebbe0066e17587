"""Students who edit the nbgrader metadata of their notebook, under `nbgrader autograde` with GradeTasks.

Every liar below has a wrong db: whatever their cells' metadata claims (more points, a solution cell
marked as a test, grade ids swapped or duplicated, a test cell moved, edited, unlocked or turned into
markdown, metadata of the wrong type), they earn at most the 3 points of their other code, or nbgrader
refuses their notebook (0). A correct classmate graded in the same run keeps 4/4, and no traceback
comes from the grader: every refusal is nbgrader's own (DeduplicateIds, OverwriteCells, CheckCellMetadata).
"""

import json
import re
import sys

import pytest
from conftest import ROOT
from test_nbgrader import TASKS, _autograde, _cells, _env, _gradebook_scores, _nbgrader, _run, _submit

pytestmark = pytest.mark.slow  # a real nbgrader course
pytest.importorskip("nbgrader")

from grader.stubs import strip_markers  # noqa: E402

FEEDBACK_FORWARD = 'from grader import feedback\nfeedback("softmax", "forward", globals())'


def _meta(notebook, grade_id):
    return _cells(notebook)[grade_id]["metadata"]["nbgrader"]


def _copy_of(notebook, grade_id, cell_id):
    cell = json.loads(json.dumps(_cells(notebook)[grade_id]))
    cell["id"] = cell_id
    return cell


def _set_points(value):
    return lambda nb: _meta(nb, "test_db").update(points=value)


def _swap_ids(nb):
    _meta(nb, "test_db")["grade_id"], _meta(nb, "test_dW")["grade_id"] = "test_dW", "test_db"


def _move_to_top(nb):
    cell = _cells(nb)["test_db"]
    nb["cells"].remove(cell)
    nb["cells"].insert(0, cell)


def _duplicate_id_last(nb):  # a copy of another test cell carrying test_db's id, after the real one
    cell = _copy_of(nb, "test_forward", "dup")
    cell["metadata"]["nbgrader"]["grade_id"] = "test_db"
    nb["cells"].append(cell)


def _extra_test_cell(nb):  # a test cell of the student's own, under an id the gradebook does not know
    cell = _copy_of(nb, "test_db", "extra")
    cell["metadata"]["nbgrader"]["grade_id"] = "test_extra"
    cell["source"] = FEEDBACK_FORWARD
    nb["cells"].append(cell)


def _edit_test(unlock):
    def edit(nb):
        _cells(nb)["test_db"]["source"] = FEEDBACK_FORWARD  # db's test cell asks for forward's score
        if unlock:
            _meta(nb, "test_db")["locked"] = False

    return edit


def _to_markdown(nb):
    cell = _cells(nb)["test_db"]
    cell["cell_type"] = "markdown"
    del cell["outputs"], cell["execution_count"]


def _set_metadata(value):
    return lambda nb: _cells(nb)["test_db"]["metadata"].update(nbgrader=value)


# student -> what their notebook's metadata claims (each with a wrong db)
LIARS = {
    "points_100": _set_points(100),
    "points_nan": _set_points("NaN"),
    "points_huge": _set_points(1e308),
    "points_list": _set_points([1]),
    "solution_as_test": lambda nb: _meta(nb, "solution_db").update(grade=True, solution=False, points=1),
    "test_as_solution": lambda nb: _meta(nb, "test_db").update(solution=True),
    "test_not_graded": lambda nb: _meta(nb, "test_db").update(grade=False),
    "swapped_ids": _swap_ids,
    "moved_test": _move_to_top,
    "duplicate_id": _duplicate_id_last,
    "extra_test_cell": _extra_test_cell,
    "grade_id_null": lambda nb: _meta(nb, "test_db").update(grade_id=None),
    "edited_test": _edit_test(unlock=False),
    "unlocked_edited_test": _edit_test(unlock=True),
    "test_as_markdown": _to_markdown,
    "metadata_list": _set_metadata([]),
    "metadata_string": _set_metadata("grade"),
}


def _merge_db_into_dw(nb):
    """A correct student who wrote db in dW's cell and deleted db's solution and test cells."""
    cells = _cells(nb)
    cells["solution_dW"]["source"] += "\n\n" + cells["solution_db"]["source"]
    nb["cells"].remove(cells["solution_db"])
    nb["cells"].remove(cells["test_db"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("nbgrader_hostile")
    env = _env(base)
    course = base / "course"
    made = [sys.executable, "-m", "grader", "nbgrader-source", course, "--exercise", "softmax", "--root", ROOT]
    _run(made, base, env)
    _nbgrader("generate_assignment", "softmax", cwd=course, env=env)
    source = json.loads((course / "source" / "softmax" / "softmax.ipynb").read_text())
    released = (course / "release" / "softmax" / "softmax.ipynb").read_text()
    answers = {task: strip_markers("".join(_cells(source)[f"solution_{task}"]["source"])) for task in TASKS}

    def student(db_bug):
        notebook = json.loads(released)
        for task in TASKS:
            code = answers[task]
            wrong = db_bug and task == "db"  # db's sum without keepdims: shape (k,)
            _cells(notebook)[f"solution_{task}"]["source"] = code.replace("keepdims=True", "") if wrong else code
        return notebook

    notebooks = {"correct": student(False), "merged_cells": student(False)}
    _merge_db_into_dw(notebooks["merged_cells"])
    for name, lie in LIARS.items():
        notebooks[name] = student(True)
        lie(notebooks[name])
    _submit(course, {name: json.dumps(notebook) for name, notebook in notebooks.items()})
    result = _autograde(course, env)
    return {"scores": _gradebook_scores(course, list(notebooks)), "log": result.stdout + result.stderr}


def test_metadata_lies_earn_nothing_and_cost_the_classmates_nothing(graded):
    scores = graded["scores"]
    assert scores["correct"] == {task: 1.0 for task in TASKS}
    earned = {name: {task: scores[name][task] or 0 for task in TASKS} for name in LIARS}
    for name, got in earned.items():
        assert got["db"] == 0 and sum(got.values()) in (0, 3), (name, got)
    # Where nbgrader keeps the notebook, the other three tasks are graded as they are.
    kept = {name for name, got in earned.items() if sum(got.values()) == 3}
    assert {"points_100", "swapped_ids", "moved_test", "edited_test", "test_as_markdown"} <= kept
    assert not re.findall(r'File ".*[/\\]grader[/\\].*', graded["log"])  # no traceback through the grader


def test_a_correct_notebook_whose_solution_and_test_cells_were_merged_away_keeps_its_points(graded):
    assert graded["scores"]["merged_cells"] == {task: 1.0 for task in TASKS}


def test_restoring_cells_reads_any_metadata_a_student_left():
    from types import SimpleNamespace

    from nbformat import from_dict

    from grader.integrations.nbgrader import _graded_cell_positions

    cells = [
        {"cell_type": "code", "metadata": [], "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": "grade"}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "grade_id": ["x"]}}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "solution_dW"}}, "source": ""},
        {"cell_type": "code", "metadata": {"nbgrader": {"grade": False, "grade_id": "notes"}}, "source": ""},
    ]
    notebook = SimpleNamespace(cells=[from_dict(cell) for cell in cells])
    assert _graded_cell_positions(notebook) == {"solution_dW": 3}

"""What students write in their first week that is not about the math: its feedback points at the real fix.

The verdicts are in tests/submissions/softmax (defs_under_main_guard.py, correct_notebook_front_ends.ipynb,
notebook_data_file_missing.ipynb); here, what the messages say, and the notebook front ends' stand-ins.
"""

import importlib.util
import json

import pytest
from conftest import SUBMISSIONS, solution_text

from grader import exercises
from grader.checking.grading import grade_file
from grader.sandbox import front_ends

SOFTMAX = exercises.load("softmax")


def test_functions_defined_under_a_main_guard_are_said_to_be_there_and_where_to_move_them():
    report = grade_file(SUBMISSIONS / "softmax" / "defs_under_main_guard.py", SOFTMAX, timeout=2.0)
    forward = report.tasks[0]
    where = '`if __name__ == "__main__":` (defs_under_main_guard.py, line 10)'
    assert forward.fact.startswith(f"forward is defined inside {where}")
    assert "the grader imports the file" in forward.fact
    assert forward.hint.startswith("define forward at the top level")
    assert "define a function with exactly this name" not in forward.hint  # it has one: the old hint misled


@pytest.mark.parametrize(
    "line, error, advice",
    [
        ("data = np.load('spiral.npz')", "FileNotFoundError", "without your data files"),
        ("name = input('your name: ')", "EOFError", "no keyboard, so input() gets nothing"),
        ("import pandas as pd", "ModuleNotFoundError", "standard library, numpy and matplotlib only"),
    ],
)
def test_a_py_file_stopped_by_what_only_the_learners_machine_has_is_told_where_that_code_goes(
    write, line, error, advice
):
    report = grade_file(write("softmax.py", solution_text() + "\n" + line + "\n"), SOFTMAX, timeout=2.0)
    task = report.tasks[0]
    assert task.diagnoses == ("import_error",) and error in task.fact
    assert advice in task.hint and 'under `if __name__ == "__main__":`' in task.hint


def _stand_in(name):
    finder = front_ends.FrontEndFinder()
    spec = finder.find_spec(name)
    assert spec is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_front_ends_stand_ins_do_nothing_but_hand_back_what_is_iterated():
    tqdm = _stand_in("tqdm.auto")
    assert list(tqdm.tqdm([1, 2, 3], desc="x")) == [1, 2, 3] and list(tqdm.trange(2, 5)) == [2, 3, 4]
    with tqdm.tqdm(total=3) as bar:
        bar.update(1)
        bar.set_postfix(loss=0.5)
    display = _stand_in("IPython.display")
    assert display.clear_output(wait=True) is not None and not _stand_in("IPython").get_ipython()
    assert _stand_in("IPython").version_info >= (8, 24)  # what matplotlib reads before it patches IPython
    interact = _stand_in("ipywidgets").interact
    assert interact(len) is len and interact(x=(0, 1))(len) is len  # decorators hand back the function
    assert front_ends.FrontEndFinder().find_spec("google.cloud") is None  # only google.colab
    assert front_ends.FrontEndFinder().find_spec("pandas") is None


def test_classes_counted_from_the_labels_fail_dz_for_every_student_and_are_told_k_is_p_width():
    """Variant 3 draws m=5, k=3 with every class labelled: only the case without the last class catches it."""
    report = grade_file(SUBMISSIONS / "softmax" / "dz_classes_from_labels.py", SOFTMAX, timeout=2.0, variant=3)
    dz = report.tasks[1]
    assert not dz.passed and dz.diagnoses == ("exception",) and "labels with no example of the last class" in dz.case
    assert "k = P.shape[1]" in dz.hint and "y.max() + 1" in dz.hint


def test_magics_that_ipython_accepts_leave_code_that_compiles_on_the_same_lines():
    from grader.reading.submission import strip_magics

    cell = "if IN_COLAB:\n    !pip install tqdm\n    %cd /content\nfiles = !ls\na, b = %timeit -o f()\n"
    cell += "?forward\nnp.zeros??\n  !ls"
    stripped = strip_magics(cell)
    assert stripped.split("\n") == [
        "if IN_COLAB:",
        "    pass",  # a blank line would leave the block empty: IndentationError, the whole cell lost
        "    pass",
        "files = None",
        "a, b = None",
        "",
        "",
        "",
    ]
    compile(stripped, "cell", "exec")


def test_matplotlib_beside_the_ipython_stand_in_and_a_desktop_backend_plots_without_a_screen(tmp_path):
    """matplotlib reads sys.modules["IPython"] (its version, get_ipython()) when it makes a figure, and
    matplotlib.use("TkAgg") asks for a window: both loaded here once raised in the plotting cell, and a
    first cell stopped by them left numpy unimported. Its own file (not the corpus): importing pyplot
    takes about a second, more than the corpus's time limits allow under load."""
    cells = [
        'from IPython.display import display\nimport matplotlib\nmatplotlib.use("TkAgg")\n'
        "import matplotlib.pyplot as plt\nimport numpy as np",
        solution_text(),
        "plt.plot([1, 2])\nplt.title('loss')\nplt.show()\ndisplay(plt.gcf())",
    ]
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": cell} for cell in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "softmax.ipynb"
    path.write_text(json.dumps(notebook))
    report = grade_file(path, SOFTMAX, timeout=10.0)
    assert report.score == 4 and report.cell_errors == (), report.cell_errors


@pytest.mark.parametrize(
    "old, new, task, says",
    [
        ("Z.max(axis=1, keepdims=True)", "Z.max(axis=1)", "forward", "keepdims=True"),
        ("return X.T @ dZ", "return X @ dZ", "dW", "dW = X.T @ dZ, (d,m) @ (m,k)"),
    ],
)
def test_shapes_that_do_not_fit_are_told_the_shapes_that_do(write, old, new, task, says):
    code = solution_text().replace(old, new)
    assert code != solution_text()
    report = grade_file(write("softmax.py", code), SOFTMAX, timeout=2.0)
    (result,) = [result for result in report.tasks if result.name == task]
    assert result.diagnoses == ("exception",) and "ValueError" in result.fact and says in result.hint

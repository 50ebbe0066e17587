"""Notebook submissions: code cells in order, magics skipped, bad JSON scores 0."""

import json

import nbformat
import pytest
from conftest import run_grade, run_json, score_line, solution_text

from grader.reading.submission import SubmissionError, notebook_chunks, strip_magics


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Softmax")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def test_a_notebook_with_magics_and_shell_lines_is_graded(tmp_path):
    path = notebook(
        tmp_path / "softmax.ipynb",
        "%matplotlib inline\n!pip install numpy\nimport numpy as np",
        "%%time\n" + solution_text(),
        "%%bash\necho this is not python",
    )
    result = run_grade("check", path)
    assert result.returncode == 0, result.stdout
    assert score_line(result.stdout) == "softmax: 4/4 points"


def test_a_failing_cell_does_not_stop_the_next_ones(tmp_path):
    path = notebook(tmp_path / "softmax.ipynb", "1 / 0", solution_text())
    result = run_grade("check", path)
    assert result.returncode == 0
    assert "softmax.ipynb, cell 2: ZeroDivisionError" in result.stdout


def test_an_error_in_a_cell_points_at_the_cell_and_line(tmp_path):
    broken = solution_text().replace("return X.T @ dZ", "return X.T @ dZ.T")
    path = notebook(tmp_path / "softmax.ipynb", "import numpy as np", broken)
    _, report = run_json("check", path)
    dw = report["tasks"][2]
    assert dw["diagnoses"] == ["exception"] and "ValueError" in dw["fact"]
    assert dw["details"][0].startswith("at softmax.ipynb, cell 3, line ")


def test_a_notebook_that_is_not_json_scores_zero_with_a_reason(tmp_path):
    path = tmp_path / "softmax.ipynb"
    path.write_text('{"cells": [')
    result, report = run_json("check", path)
    assert result.returncode == 1 and report["score"] == 0
    assert all("not a valid notebook: not JSON" in task["fact"] for task in report["tasks"])
    assert all(task["diagnoses"] == ["import_error"] for task in report["tasks"])


def test_notebook_without_cells_is_rejected():
    with pytest.raises(SubmissionError, match="no list of cells"):
        notebook_chunks(json.dumps({"metadata": {}}), "softmax.ipynb")


def test_nbgrader_test_cells_are_left_to_the_grader():
    nb = {
        "cells": [
            {"cell_type": "code", "source": "x = 1", "metadata": {}},
            {
                "cell_type": "code",
                "source": "assert False",
                "metadata": {"nbgrader": {"grade": True, "solution": False}},
            },
            {"cell_type": "code", "source": ["y = ", "2"], "metadata": {"nbgrader": {"grade": True, "solution": True}}},
        ]
    }
    chunks = notebook_chunks(json.dumps(nb), "softmax.ipynb")
    assert [(c.filename, c.code) for c in chunks] == [
        ("softmax.ipynb, cell 1", "x = 1"),
        ("softmax.ipynb, cell 3", "y = 2"),
    ]


def test_strip_magics_keeps_line_numbers():
    assert strip_magics("%load_ext autoreload\nx = 1\n  !ls\ny = 2") == "\nx = 1\n\ny = 2"
    assert strip_magics("%%timeit\nz = 3") == "\nz = 3"
    assert strip_magics("%%writefile a.py\nprint(1)") == ""


def test_percent_and_bang_continuing_an_expression_are_code_not_magics():
    code = (
        'msg = ("rows: %s"\n       % 3)\nok = (1\n      != 2)\ns = """\n!not a shell line\n"""\n!ls\nx = 1 + \\\n    2'
    )
    assert strip_magics(code).split("\n") == code.split("\n")[:7] + ["", "x = 1 + \\", "    2"]


def test_a_notebook_whose_assert_message_continues_with_percent_gets_full_marks(tmp_path):
    forward = solution_text().replace(
        "    return E / E.sum(axis=1, keepdims=True)",
        "    P = E / E.sum(axis=1, keepdims=True)\n"
        '    assert np.allclose(P.sum(axis=1), 1), ("rows: %s"\n'
        "                                          % P.sum(axis=1))\n    return P",
    )
    assert forward != solution_text()
    result, report = run_json("check", notebook(tmp_path / "softmax.ipynb", forward))
    assert result.returncode == 0 and report["score"] == 4


def test_a_students_feedback_cells_are_not_graded(tmp_path):
    # The student asks for feedback in their own kernel; in the sandbox `import grader` would fail
    # and show a cell error that is not theirs.
    path = notebook(
        tmp_path / "softmax.ipynb",
        solution_text(),
        "from grader import feedback\nfeedback('softmax', 'db', globals())  # check my db",
        "import grader\ngrader.feedback('softmax', 'dW', globals())",
        'from grader import feedback; feedback("softmax", "dZ", globals())',  # docs/students.md's line
    )
    result = run_grade("check", path)
    assert result.returncode == 0, result.stdout
    assert not any(f"cell {n}" in result.stdout for n in (3, 4, 5)), result.stdout
    assert score_line(result.stdout) == "softmax: 4/4 points"


def test_a_cell_that_does_more_than_ask_for_feedback_is_graded():
    ask = "from grader import feedback\nfeedback('softmax', 'db', globals())"
    cells = [nbformat.v4.new_code_cell(ask), nbformat.v4.new_code_cell(ask.replace("\n", "\nW = 1\n"))]
    chunks = notebook_chunks(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), "softmax.ipynb")
    assert [chunk.cell for chunk in chunks] == [2]


def test_a_feedback_line_that_also_defines_something_is_graded():
    # Skipping it would grade a definition the student's kernel no longer has (the later, wrong one).
    sneaky = [
        "from grader import feedback\nfeedback('softmax', 'db', globals()); db = lambda dZ: dZ",
        "import grader\ngrader.feedback('softmax', db := (lambda dZ: dZ))",
        "from grader import feedback\nfeedback('softmax', print('side effect'))",
        "from grader import feedback as fb\nfb('softmax')",
    ]
    cells = [nbformat.v4.new_code_cell(code) for code in sneaky]
    chunks = notebook_chunks(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), "softmax.ipynb")
    assert [chunk.cell for chunk in chunks] == [1, 2, 3, 4]


def test_the_graders_import_is_dropped_and_the_rest_of_its_cell_kept():
    # Students put every import at the top, the grader's beside numpy's, in either order.
    sources = [
        "from grader import feedback\nimport numpy as np",
        "import numpy as np\nfrom grader import feedback\nfeedback('softmax', 'db', globals())",
        "from grader import feedback; import numpy as np\nW0 = np.eye(2)",
        "import numpy as np, grader",
        "feedback('softmax', 'dW', globals())",  # the import was in an earlier cell: nothing left to grade
    ]
    cells = [nbformat.v4.new_code_cell(code) for code in sources]
    chunks = notebook_chunks(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), "softmax.ipynb")
    assert [chunk.code for chunk in chunks] == [
        "pass\nimport numpy as np",
        "import numpy as np\npass\npass",  # every line where it was: tracebacks name the student's lines
        "pass; import numpy as np\nW0 = np.eye(2)",
        "import numpy as np",
    ]


def test_a_notebook_importing_the_grader_beside_numpy_gets_full_marks_and_no_cell_error(tmp_path):
    functions = solution_text().replace("import numpy as np\n", "")
    for first in ("from grader import feedback\nimport numpy as np", "import numpy as np\nfrom grader import feedback"):
        path = notebook(tmp_path / "softmax.ipynb", first, functions, "feedback('softmax', 'db', globals())")
        result, report = run_json("check", path)
        assert (result.returncode, report["score"], report["cell_errors"]) == (0, 4, []), first


def test_a_py_file_asking_for_feedback_is_graded_without_it(write):
    # `python softmax.py` prints the feedback in the student's own Python; grade check grades the functions.
    code = "from grader import feedback\n" + solution_text() + "\nfeedback('softmax', 'db', globals())\n"
    result, report = run_json("check", write("softmax.py", code))
    assert (result.returncode, report["score"]) == (0, 4), result.stdout


def test_an_nbformat_3_notebook_is_told_how_to_convert():
    old = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1"}]}]}
    with pytest.raises(SubmissionError, match="nbformat 3 notebook .*open it in Jupyter and save it"):
        notebook_chunks(json.dumps(old), "softmax.ipynb")

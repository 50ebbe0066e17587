"""A long experiment at the top level does not zero the file: its definitions are graded, and it says so."""

import nbformat
import pytest
from conftest import ROOT, SUBMISSIONS, run_grade, score_line, solution_text

from grader import exercises
from grader.checking.grading import grade_file
from grader.reading.definitions import definitions_only
from grader.reading.submission import Chunk, Submission

SOFTMAX = exercises.load("softmax")
EXPERIMENT = """\
import time

results = {}
for lr in (0.01, 0.1, 1.0):
    time.sleep(3600)  # stands for a training run
    results[lr] = lr
print(results)
"""


def kept(code, kind="py"):
    """(the kept code, the skipped statements) of a one-chunk submission."""
    submission = Submission(f"s.{kind}", kind, (Chunk(f"s.{kind}", code, 1 if kind == "ipynb" else None),))
    cut, skipped = definitions_only(submission)
    return cut.chunks[0].code, skipped


def test_definitions_and_simple_values_are_kept_and_experiments_skipped_on_their_lines():
    code = "\n".join(
        [
            '"""doc"""',
            "import numpy as np",
            "from numpy.random import default_rng",
            "EPS = 1e-12",
            "rng = default_rng(0)",
            "X = rng.standard_normal((5, 3)) * 2",
            "relu = lambda z: np.maximum(z, EPS)",
            "def train(X):",
            "    return X",
            "class Net:",
            "    pass",
            "params = train(X)",  # calls the learner's code
            "alias = train",
            "alias(X)",
            "Y = np.apply_along_axis(train, 0, X)",  # hands the learner's code to a library
            "losses = [train(x) for x in X]",  # a comprehension runs code
            "n = len(range(3))",
            "for lr in (1, 2):",
            "    train(X)",
            "print(n)",
            "try:",
            "    import scipy",
            "except ImportError:",
            "    scipy = None",
        ]
    )
    out, skipped = kept(code)
    assert len(out.split("\n")) == len(code.split("\n"))
    assert skipped == [
        "s.py, line 12: params = train(X)",
        "s.py, line 14: alias(X)",
        "s.py, line 15: Y = np.apply_along_axis(train, 0, X)",
        "s.py, line 16: losses = [train(x) for x in X]",
        "s.py, lines 18-19: for lr in (1, 2):",
        "s.py, line 20: print(n)",
    ]
    lines = out.split("\n")
    assert lines[11] == lines[13] == lines[14] == lines[15] == lines[17] == lines[19] == "pass"
    assert lines[18] == ""
    namespace = {"__name__": "s"}
    exec(compile(out, "s.py", "exec"), namespace)
    assert namespace["X"].shape == (5, 3) and "params" not in namespace and namespace["n"] == 3


def test_a_value_from_a_skipped_statement_is_not_used_later():
    code = "import numpy as np\nw = np.ones(2).sum()\nX = foo()\nY = X + w\nZ = w + 1\nV = foo(w).sum()"
    _, skipped = kept(code)
    assert [line.split(": ", 1)[1] for line in skipped] == ["X = foo()", "Y = X + w", "V = foo(w).sum()"]


def test_a_main_guard_in_a_py_file_is_neither_run_nor_listed_but_runs_in_a_notebook():
    code = 'def f():\n    return 1\nif __name__ == "__main__":\n    f()'
    assert kept(code) == (code, [])
    out, skipped = kept(code, "ipynb")
    assert skipped == ['s.ipynb, lines 3-4: if __name__ == "__main__":'] and out.endswith("pass\n")


def test_a_py_file_whose_top_level_code_runs_too_long_is_graded_on_its_functions():
    report = grade_file(SUBMISSIONS / "softmax" / "top_level_sweep.py", SOFTMAX, timeout=2.0)
    assert report.score == 4
    assert report.cut_short.reason == "the file did not finish running within 2 s"
    assert report.cut_short.skipped == ("top_level_sweep.py, lines 34-36: for lr in (0.01, 0.1, 1.0):",)


def test_a_main_guard_experiment_never_runs(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text(solution_text() + '\nif __name__ == "__main__":\n    while True:\n        pass\n')
    report = grade_file(path, SOFTMAX, timeout=2.0)
    assert report.score == 4 and report.cut_short is None


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Softmax")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return path


def test_a_notebook_whose_last_cell_runs_too_long_names_that_cell_in_the_text(tmp_path):
    path = notebook(tmp_path / "softmax.ipynb", "import numpy as np", solution_text(), EXPERIMENT)
    result = run_grade("check", path, "--timeout", 1)
    assert result.returncode == 0, result.stdout
    text = result.stdout
    assert "CUT SHORT" in text and "the file did not finish running within 1 s" in text
    assert "softmax.ipynb, cell 4, lines 4-6: for lr in (0.01, 0.1, 1.0):" in text
    assert "softmax.ipynb, cell 4, line 7: print(results)" in text
    assert score_line(text) == "softmax: 4/4 points"


def test_a_file_that_still_does_not_finish_gets_the_timeout_and_the_note(tmp_path):
    # A class body runs when defined: kept as a definition, it still loops, and every task says so.
    path = tmp_path / "softmax.py"
    code = solution_text() + "\nclass Experiment:\n    while True:\n        pass\nprint('never')\n"
    path.write_text(code)
    report = grade_file(path, SOFTMAX, timeout=1.0)
    assert report.score == 0 and all(task.diagnoses == ("timeout",) for task in report.tasks)
    assert report.cut_short.skipped == (f"softmax.py, line {code.count(chr(10))}: print('never')",)


@pytest.mark.slow
def test_a_two_layer_notebook_sweeping_learning_rates_gets_full_marks(tmp_path):
    """The issue's case: every function defined above, then a sweep of learning rates that outlasts the load
    timeout (train's 60 s, whatever --timeout says)."""
    sweep = (
        "results = {}\n"
        "for lr in [0.01, 0.03, 0.1, 0.3, 1.0] * 20:\n"
        "    params = train(X, y, [100], seed=0)\n"
        "    results[lr] = params\n"
        "print(len(results))"
    )
    path = notebook(
        tmp_path / "two_layer.ipynb",
        solution_text("two_layer"),
        "from numpy.random import default_rng\nrng = default_rng(0)\nX = rng.standard_normal((300, 2))\n"
        "y = rng.integers(0, 3, 300)",
        sweep,
    )
    result = run_grade("check", path, "--timeout", 2, timeout=600)
    assert result.returncode == 0, result.stdout
    assert "the file did not finish running within 60 s, so its top-level code was cut short" in result.stdout
    assert "two_layer.ipynb, cell 4, lines 2-4: for lr in [0.01, 0.03, 0.1, 0.3, 1.0] * 20:" in result.stdout
    assert score_line(result.stdout) == "two_layer: 10/10 points"
    # docs/students.md shows this output.
    shown = (ROOT / "docs" / "students.md").read_text().split("(`tests/test_top_level.py`):", 1)[1].split("```\n", 2)[1]
    assert shown in result.stdout

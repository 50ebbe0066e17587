"""The test cells' feedback (grader.notebook, in the learner's kernel) and GradeTasks on a parsed notebook."""

import contextlib
import io
import json
import time

import pytest
from conftest import ROOT, SUBMISSIONS, run_grade, run_json, solution_text

from grader import feedback

TASKS = ("forward", "dZ", "dW", "db")
# Corpus files safe to run inside the test process (no os._exit, no endless loop).
IN_PROCESS = (
    "correct_vectorized.py",
    "correct_loops.py",
    "db_missing_keepdims.py",
    "db_returns_list.py",
    "dw_transposed.py",
    "dw_returns_string.py",
    "dw_not_implemented.py",
    "dz_input_mutated.py",
    "dz_raises_valueerror.py",
    "forward_max_no_keepdims.py",
    "forward_input_mutated.py",
    "forward_returns_exps.py",
    "db_missing.py",
    "dw_swapped_parameters.py",
    "db_renamed_parameter.py",
)


def namespace_of(path):
    namespace = {"__name__": "__main__"}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", IN_PROCESS)
def test_feedback_agrees_with_grade_check(name, capsys):
    path = SUBMISSIONS / "softmax" / name
    _, report = run_json("check", path, "--exercise", "softmax")
    namespace = namespace_of(path)
    capsys.readouterr()
    for task in report["tasks"]:
        points = feedback("softmax", task["name"], namespace)
        assert isinstance(points, float) and points == task["score"], task["name"]
        out = capsys.readouterr()
        assert out.err == ""
        assert ("PASS" if task["passed"] else "FAIL") in out.out
        for code in task["diagnoses"]:
            assert f"[{code}" in out.out


def test_a_feedback_cell_shows_its_report_not_out_0_0_but_nbgrader_still_reads_its_points(monkeypatch, capsys):
    from IPython.core.formatters import DisplayFormatter

    namespace = namespace_of(SUBMISSIONS / "softmax" / "db_missing_keepdims.py")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    points = feedback("softmax", "db", namespace)
    assert points == 0.0 and "[missing_keepdims]" in capsys.readouterr().out
    assert DisplayFormatter().format(points) == ({}, {})  # what a kernel shows as the cell's result: nothing
    # nbgrader's Execute (it sets NBGRADER_EXECUTION) reads the cell's points from its text/plain result.
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert DisplayFormatter().format(feedback("softmax", "dW", namespace))[0]["text/plain"] == "1.0"
    assert DisplayFormatter().format(feedback("softmax", "db", namespace))[0]["text/plain"] == "0.0"


def test_nothing_reaches_stderr(capsys):
    namespace = {}
    exec(
        "import sys, warnings\nimport numpy as np\n"
        "def db(dZ):\n"
        "    print('debug', file=sys.stderr)\n"
        "    warnings.warn('careful')\n"
        "    np.exp(np.array([1000.0])) / 0.0\n"
        "    return np.log(-dZ).sum(axis=0, keepdims=True)\n",
        namespace,
    )
    points = feedback("softmax", "db", namespace)
    out = capsys.readouterr()
    assert points == 0.0 and out.err == ""
    assert "debug" in out.out and "nan_or_inf" in out.out


def test_timeout_missing_function_and_unknown_task(capsys):
    namespace = {}
    exec("def dW(X, dZ):\n    while True:\n        pass\n", namespace)
    assert feedback("softmax", "dW", namespace, timeout=0.3) == 0.0
    assert "did not return within 0.3 s" in capsys.readouterr().out
    assert feedback("softmax", "db", namespace) == 0.0
    assert "no function db(dZ)" in capsys.readouterr().out
    assert feedback("softmax", "DW", namespace) == 0.0
    out = capsys.readouterr()
    assert out.out == "  DW: exercise softmax has no task 'DW' (did you mean dW?); its tasks: forward, dZ, dW, db\n"
    assert out.err == ""
    assert feedback("softmx", "dW", namespace) == 0.0
    assert "unknown exercise 'softmx' (did you mean softmax?)" in capsys.readouterr().out


def test_the_time_limit_needs_no_signal_and_stops_the_loop_from_any_thread(capsys):
    """Windows has no SIGALRM, and a kernel may run a cell outside the main thread: the limit holds
    either way, and the learner's loop does not keep running after the cell has answered."""
    import signal
    import threading

    namespace = {}
    exec("import time\nSTEPS = []\ndef dW(X, dZ):\n    while True:\n        STEPS.append(1)\n", namespace)
    before = signal.getsignal(signal.SIGALRM)
    answers = []
    caller = threading.Thread(target=lambda: answers.append(feedback("softmax", "dW", namespace, timeout=0.3)))
    caller.start()
    caller.join(10)
    assert answers == [0.0] and "did not return within 0.3 s" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGALRM) is before  # no signal handler was used
    steps = len(namespace["STEPS"])
    time.sleep(0.2)
    assert len(namespace["STEPS"]) == steps  # the learner's loop was stopped
    assert [t for t in threading.enumerate() if t.name == "grade-feedback"] == []


def test_inputs_are_copies_and_mutation_is_reported(capsys):
    namespace = namespace_of(SUBMISSIONS / "softmax" / "dz_input_mutated.py")
    assert feedback("softmax", "dZ", namespace) == 0.0
    assert "modified its input P in place" in capsys.readouterr().out


# -- grade nbgrader-source ------------------------------------------------------------------
@pytest.mark.slow  # nbgrader's config is loaded to check it
def test_nbgrader_source_writes_notebook_and_config(tmp_path):
    result = run_grade("nbgrader-source", tmp_path / "course", "-e", "softmax", "--root", ROOT)
    assert result.returncode == 0, result.stderr
    notebook = json.loads((tmp_path / "course" / "source" / "softmax" / "softmax.ipynb").read_text())
    ids = [cell["metadata"].get("nbgrader", {}).get("grade_id") for cell in notebook["cells"]]
    assert ids == [None, "setup"] + [f"{kind}_{task}" for task in TASKS for kind in ("solution", "test")]
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    # The solution's docstring says how to check a .py file; the notebook says what fits a notebook.
    assert "grade check softmax.py" in (ROOT / "solutions" / "softmax.py").read_text()
    text = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert "grade check" not in text
    assert "Check your work by running the test cell below each function" in text
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert '"grader.integrations.nbgrader.GradeTasks"' in config and "Execute" not in config.split("Autograde")[1]
    # An existing config is left alone; the lines it needs are printed instead.
    (tmp_path / "course" / "nbgrader_config.py").write_text("c = get_config()\n")
    again = run_grade("nbgrader-source", tmp_path / "course", "-e", "softmax", "--root", ROOT)
    assert again.returncode == 0 and "left unchanged" in again.stdout and "GradeTasks" in again.stdout
    assert (tmp_path / "course" / "nbgrader_config.py").read_text() == "c = get_config()\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["-e", "nope"], "unknown exercise 'nope'"),
        (["--root", "."], "no solutions/ directory"),
    ],
)
def test_nbgrader_source_usage_errors(tmp_path, args, message):
    args = [a if a != "." else str(tmp_path) for a in args]
    result = run_grade("nbgrader-source", tmp_path / "course", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


# -- GradeTasks on an already-parsed notebook --------------------------------------------------
@pytest.mark.slow
def test_grade_tasks_scores_an_unknown_test_cell_zero_and_shows_cell_errors():
    pytest.importorskip("nbgrader")
    import nbformat
    from nbformat import v4

    from grader.integrations.nbgrader import GradeTasks

    def test_cell(grade_id, source):
        return v4.new_code_cell(
            source,
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "points": 1,
                    "grade_id": grade_id,
                    "schema_version": 3,
                }
            },
        )

    code = (SUBMISSIONS / "softmax" / "correct_vectorized.py").read_text()
    nb = v4.new_notebook(
        cells=[
            v4.new_code_cell(code),
            v4.new_code_cell("undefined_name"),
            test_cell("test_db", "from grader import feedback\nfeedback('softmax', 'db', globals())"),
            test_cell("extra", "assert True"),
        ]
    )
    nb, _ = GradeTasks(timeout=5).preprocess(nb, {"nbgrader": {"notebook": "softmax"}})
    nbformat.validate(nb)
    db, extra = nb.cells[2].outputs, nb.cells[3].outputs
    assert db[0].text == "  PASS  db  1/1\n" and db[1].data["text/plain"] == "1.0"
    assert [o.output_type for o in extra] == ["error"] and "checks no task" in extra[0].evalue
    assert nb.cells[1].outputs[0].ename == "NameError"


@pytest.mark.slow
def test_grade_tasks_writes_part_scores_into_a_test_cell():
    pytest.importorskip("nbgrader")
    from nbformat import v4

    from grader.integrations.nbgrader import GradeTasks

    code = solution_text("two_layer").replace("dW = A_prev.T @ dZ", "dW = dZ.T @ A_prev")
    assert code != solution_text("two_layer")
    test = v4.new_code_cell(
        "from grader import feedback\nfeedback('two_layer', 'affine_backward', globals())",
        metadata={
            "nbgrader": {
                "grade": True,
                "solution": False,
                "locked": True,
                "points": 2,
                "grade_id": "test_affine_backward",
                "schema_version": 3,
            }
        },
    )
    nb = v4.new_notebook(cells=[v4.new_code_cell(code), test])
    nb, _ = GradeTasks(timeout=5).preprocess(nb, {"nbgrader": {"notebook": "two_layer"}})
    text, points = nb.cells[1].outputs
    assert points.data["text/plain"] == "1.5"  # nbgrader's score for the cell: dA_prev 1 + db 0.5
    assert text.text.splitlines()[:4] == [
        "  FAIL  affine_backward  1.5/2  [transposed]",
        "        PASS  dA_prev  1/1",
        "        FAIL  dW       0/0.5  [transposed]",
        "              dW has shape (3,5), expected (5,3)",
    ]
    assert all(len(line) <= 100 for line in text.text.splitlines())


@pytest.mark.slow
def test_config_lines_are_nbgraders_default_with_execute_replaced():
    pytest.importorskip("nbgrader")
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    from grader.integrations.nbgrader_source import CONFIG_LINES

    def configured(text):
        config = Config()
        exec(text, {"get_config": lambda: config})
        return config

    from traitlets.utils.importstring import import_item

    from grader import defaults
    from grader.integrations.nbgrader import GradeTasks

    assert (GradeTasks().timeout, GradeTasks().memory_mb, GradeTasks().seed) == (
        defaults.TIMEOUT,
        defaults.MEMORY_MB,
        defaults.SEED,
    )
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    written = [import_item(name) for name in configured(CONFIG_LINES).Autograde.autograde_preprocessors]
    assert default[0].__name__ == "Execute"
    assert written == [GradeTasks] + default[1:]
    from grader.integrations.nbgrader import RestoreMissingCells

    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    written = [import_item(name) for name in configured(CONFIG_LINES).Autograde.sanitize_preprocessors]
    assert written == [RestoreMissingCells if pp.__name__ == "OverwriteCells" else pp for pp in sanitize]
    page = (ROOT / "docs" / "nbgrader.md").read_text()
    block = page.split("```python\n")[1].split("```")[0]
    assert configured(block) == configured(CONFIG_LINES)


# -- one source of inputs for every path ------------------------------------------------------------
RECORDER = """
import hashlib
import numpy as np


def _recorded(function):
    def called(*args):
        digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in args)).hexdigest()
        print(f"CALL {function.__name__} {digest}", flush=True)
        return function(*args)
    return called


forward, dZ, dW, db = (_recorded(f) for f in (forward, dZ, dW, db))
"""


@pytest.mark.parametrize("seed", [0, 7])
def test_grade_check_and_the_notebook_feedback_call_the_learner_on_the_same_inputs(tmp_path, write, seed):
    from grader import exercises
    from grader.checking.grading import grade_file

    code = solution_text() + RECORDER
    report = grade_file(write("softmax.py", code), exercises.load("softmax"), seed=seed)
    assert report.score == 4
    sandboxed = [line for line in report.output.splitlines() if line.startswith("CALL ")]
    namespace = {"__name__": "__main__"}
    exec(code, namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert [feedback("softmax", task, namespace, seed=seed) for task in TASKS] == [1.0] * 4
    assert sandboxed and [line for line in printed.getvalue().splitlines() if line.startswith("CALL ")] == sandboxed
    assert len(sandboxed) == 11  # forward's 4 cases, dZ's 3, then 2 each for dW and db

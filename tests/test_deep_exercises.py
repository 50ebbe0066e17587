"""Every file in tests/submissions/two_layer and n_layer is graded and its header's verdicts hold.

The mutants are the mistakes issue 5 names (a wrong block's dW, missing or doubled
regularisation, a regularised bias, the ReLU mask from the wrong array, a missing
1/m, a transposed dW, db over the wrong axis, the wrong layer order in the backward
loop); correct solutions in several styles must pass with no diagnosis at all.
Grading runs in-process through grade_file, one sandbox per file.
"""

import importlib.util
import json

import pytest
from conftest import ROOT, SUBMISSIONS, assert_verdicts, expectations, run_grade, solution_text

from grader import exercises
from grader import report as report_text
from grader.checking.grading import grade_file

TASKS = {"affine_forward", "relu_forward", "affine_backward", "relu_backward", "loss_and_grads", "train"}
FILES = [(name, path) for name in ("two_layer", "n_layer") for path in sorted((SUBMISSIONS / name).glob("*.py"))]
TIMEOUT = 5.0  # per task; train keeps its own limit (Task.timeout)


def test_the_corpus_covers_every_task_and_the_issue_mutants():
    codes = {code for _, path in FILES for _, (_, wanted, _) in expectations(path).items() for code in wanted}
    assert {
        "wrong_mask",
        "wrong_layer_order",
        "missing_regularization",
        "double_regularization",
        "regularized_bias",
        "not_averaged",
        "transposed",
        "wrong_axis",
        "wrong_value",
        "low_accuracy",
        "input_mutated",
        "wrong_keys",
        "half_penalty",
        "whole_columns",
        "autodiff_used",
    } <= codes
    assert all(set(expectations(path)) == TASKS for _, path in FILES)
    # Partial credit: a right loss with wrong gradients, one wrong gradient of three, a train that
    # learns but ignores hidden_sizes and one that follows them but does not learn.
    scores = {(task, score) for _, path in FILES for task, (_, _, score) in expectations(path).items()}
    assert {("loss_and_grads", 1), ("affine_backward", 1.5), ("train", 1)} <= scores


@pytest.mark.slow
@pytest.mark.parametrize("name,path", FILES, ids=[f"{name}/{path.stem}" for name, path in FILES])
def test_submission_gets_its_expected_verdicts(name, path):
    report = grade_file(path, exercises.load(name), timeout=TIMEOUT)
    assert_verdicts(report, expectations(path))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, inputs",
    # n_layer on a student's inputs under a 128-bit seed: train learns a spiral drawn for that grading.
    [("two_layer", {}), ("n_layer", {"seed": 2**127 + 1, "variant": 2**64 - 5})],
    ids=["two_layer", "n_layer-variant"],
)
def test_the_reference_solution_gets_full_marks(name, inputs, write):
    path = write(f"{name}.py", solution_text(name))
    report = grade_file(path, exercises.load(name), timeout=TIMEOUT, **inputs)
    assert_verdicts(report, {task: (True, [], None) for task in TASKS})
    assert report.artifacts["boundary"].accuracy >= 0.95


@pytest.mark.slow
def test_grade_check_plot_writes_the_decision_regions(tmp_path):
    picture = tmp_path / "boundary.png"
    result = run_grade("check", ROOT / "solutions" / "two_layer.py", "--json", "--plot", picture)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["score"] == 10  # stdout stays one JSON object
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {picture}" in result.stderr


def test_plot_without_a_train_task_says_so(tmp_path):
    picture = tmp_path / "boundary.png"
    result = run_grade("check", ROOT / "solutions" / "softmax.py", "--plot", picture)
    assert result.returncode == 0
    assert not picture.exists()
    assert "no picture written: softmax has no train task" in result.stderr


def test_the_docs_example_exercise_grades(tmp_path, write):
    # The spec shown in docs/writing-exercises.md, run as it is printed there.
    section = (ROOT / "docs" / "writing-exercises.md").read_text()
    spec_path = tmp_path / "logistic_spec.py"
    spec_path.write_text(section.split("```python\n", 1)[1].split("```", 1)[0])
    module_spec = importlib.util.spec_from_file_location("logistic_spec", spec_path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    good = """
        import numpy as np


        def grads(X, y, params):
            z = X @ params["w"] + params["b"]
            dz = (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0]
            return {"w": X.T @ dz, "b": np.sum(dz, keepdims=True)}
    """
    report = grade_file(write("good.py", good), module.EXERCISE, timeout=TIMEOUT)
    assert report.score == 2 and report.tasks[0].diagnoses == ()
    report = grade_file(write("bad.py", good.replace(") / X.shape[0]", ")")), module.EXERCISE, timeout=TIMEOUT)
    (task,) = report.tasks
    assert not task.passed and task.diagnoses == ("wrong_value",)
    assert task.fact.startswith("grads['w'], grads['b'] are not the gradient of the loss")
    assert task.hint.startswith("no common mistake matches")
    assert task.details[0].startswith("grads['w'] wrong: entries (0) expected")
    shown = section.split("check above reports", 1)[1].split("```\n", 2)[1]
    assert report_text.render_task(task) == shown

"""Rendering a Report: fact, hint and details on their own wrapped lines; parts with their scores;
Gradescope and grades.csv with partial credit. Reports are built by hand here: no grading."""

import csv
import json

import pytest
from conftest import ROOT, SUBMISSIONS

from grader import exercises, report
from grader.checking.results import CellError, PartResult, Report, TaskResult
from grader.classroom.batch import write_grades
from grader.integrations.notebook import grade_one

LONG_FACT = (
    "grads['W1'], grads['W2'] are not the gradient of the loss: 6 of 6 random directional derivatives "
    "disagree with finite differences (worst relative error 3.63e-01)"
)
GRADS = PartResult(
    "grads",
    0,
    2,
    False,
    LONG_FACT,
    "the loss has the penalty 0.5 * reg * sum(W**2) over every W, "
    "so each dW gets + reg * W (and the loss gets the penalty)",
    ("missing_regularization",),
    ("b1, b2 fine",),
    "a small network (X 11x5, layer sizes [5, 9, 4])",
)
LOSS_AND_GRADS = TaskResult(
    "loss_and_grads", 1, 3, False, diagnoses=("missing_regularization",), parts=(PartResult("loss", 1, 1, True), GRADS)
)


def test_a_task_with_parts_shows_each_part_its_score_and_its_own_failure():
    assert report.render_task(LOSS_AND_GRADS).splitlines() == [
        "  FAIL  loss_and_grads  1/3  [missing_regularization]",
        "        PASS  loss   1/1",
        "        FAIL  grads  0/2  [missing_regularization]",
        "              grads['W1'], grads['W2'] are not the gradient of the loss: 6 of 6 random directional",
        "                derivatives disagree with finite differences (worst relative error 3.63e-01)",
        "              hint: the loss has the penalty 0.5 * reg * sum(W**2) over every W, so each dW gets +",
        "                    reg * W (and the loss gets the penalty)",
        "              b1, b2 fine",
        "              input: a small network (X 11x5, layer sizes [5, 9, 4])",
    ]


def test_a_failure_shared_by_every_part_is_said_once():
    failed = {
        "fact": "train raised ValueError: bad shapes",
        "hint": "read the error and the line it points to",
        "diagnoses": ("exception",),
        "details": ("at two_layer.py, line 9: W -= dW",),
        "case": "the spiral",
    }
    task = TaskResult(
        "train",
        0,
        2,
        False,
        **failed,
        parts=(PartResult("accuracy", 0, 1, False, **failed), PartResult("hidden_sizes", 0, 1, False, **failed)),
    )
    assert report.render_task(task).splitlines() == [
        "  FAIL  train  0/2  [exception]",
        "        train raised ValueError: bad shapes",
        "        hint: read the error and the line it points to",
        "        at two_layer.py, line 9: W -= dW",
        "        input: the spiral",
        "        FAIL  accuracy      0/1",
        "        FAIL  hidden_sizes  0/1",
    ]


def test_no_line_is_wider_than_100_columns_and_words_are_not_split():
    task = TaskResult(
        "dZ",
        0,
        1,
        False,
        "dZ does not match " + "the right values " * 12,
        "divide " * 30,
        ("wrong_value",),
        ("relative error 8.00e-01; worst entry (1, 1): " + "x" * 120,),
        "case",
    )
    lines = report.render_task(task).splitlines()
    assert all(len(line) <= 100 for line in lines if "x" * 120 not in line)
    assert any(line == "          " + "x" * 120 for line in lines)  # a word longer than a line stays whole
    hint = [line for line in lines if "divide" in line]
    assert hint[0].startswith("        hint: divide") and all(line.startswith(" " * 14 + "divide") for line in hint[1:])


def two_layer_report(tasks, score):
    exercise = exercises.load("two_layer")
    passed = tuple(TaskResult(t.name, t.points, t.points, True) for t in exercise.tasks if t.name != tasks[0].name)
    return Report(
        "two_layer",
        exercise.title,
        "alice.py",
        score,
        exercise.max_score,
        passed + tuple(tasks),
        cell_errors=(CellError(2, "alice.ipynb, cell 2", "NameError", "name 'x' is not defined"),),
    )


def test_gradescope_gets_part_scores_and_the_parts_in_its_output():
    results = report.gradescope(two_layer_report([LOSS_AND_GRADS], 8))
    assert results["score"] == 8 and results["max_score"] == 10
    tests = {test["name"]: test for test in results["tests"]}
    loss, grads = tests["loss_and_grads: loss"], tests["loss_and_grads: grads"]
    assert (loss["score"], loss["max_score"], loss["status"], loss["number"]) == (1, 1, "passed", "6.1")
    assert (grads["score"], grads["max_score"], grads["status"], grads["number"]) == (0, 2, "failed", "6.2")
    assert grads["tags"] == ["missing_regularization"] and grads["output_format"] == "md"
    fact, hint, *_ = grads["output"].split("\n\n")
    assert fact.startswith("**") and fact.endswith("**") and hint.startswith("Hint: ")


def test_grades_csv_has_fractional_task_scores(tmp_path):
    affine = TaskResult(
        "affine_backward",
        1.5,
        2,
        False,
        diagnoses=("transposed",),
        parts=(
            PartResult("dA_prev", 1, 1, True),
            PartResult("dW", 0, 0.5, False, "dW is the transpose", "", ("transposed",)),
            PartResult("db", 0.5, 0.5, True),
        ),
    )
    reports = {"alice": two_layer_report([affine], 9.5), "bob": two_layer_report([LOSS_AND_GRADS], 8)}
    write_grades(tmp_path / "grades.csv", reports, exercises.load("two_layer"))
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["alice"]["affine_backward"], rows["alice"]["total"]) == ("1.5", "9.5")
    assert (rows["bob"]["loss_and_grads"], rows["bob"]["total"]) == ("1", "8")


def test_the_plain_data_form_gives_back_the_same_report():
    original = two_layer_report([LOSS_AND_GRADS], 8)
    assert Report.from_dict(json.loads(json.dumps(original.to_dict()))) == original
    assert "output" not in json.loads(report.render_json(original))  # what the submission printed: --verbose only


def docs_block_after(phrase):
    page = (ROOT / "docs" / "exercises.md").read_text()
    return page.split(phrase, 1)[1].split("```\n", 2)[1]


@pytest.mark.parametrize(
    "exercise, task, width, path, phrase",
    [
        ("softmax", "db", len("forward"), "softmax/db_missing_keepdims.py", "Example of a failing softmax task"),
        (
            "two_layer",
            "loss_and_grads",
            len("affine_backward"),
            "two_layer/dw2_from_preactivation.py",
            "A wrong gradient is reported by",
        ),
    ],
)
def test_the_docs_examples_are_the_graders_output(exercise, task, width, path, phrase):
    namespace = {}
    exec((SUBMISSIONS / path).read_text(), namespace)
    result = grade_one(exercise, task, namespace)  # the inputs of grade check, in this process
    shown = "\n".join(line for _, line in report.task_lines(result, width)) + "\n"
    assert shown == docs_block_after(phrase)

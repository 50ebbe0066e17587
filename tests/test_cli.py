"""The `grade` command as a user runs it: exit codes, one-line errors, pure JSON."""

import inspect
import json
import os
import subprocess

import pytest
from conftest import ROOT, SUBMISSIONS, grade_command, run_grade, run_json, score_line, solution_text


def test_reference_solution_gets_full_marks_and_exit_0():
    result = run_grade("check", ROOT / "solutions" / "softmax.py")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().split("\n")
    assert score_line(result.stdout) == "softmax: 4/4 points"
    assert [line.split()[:2] for line in lines[1:5]] == [
        ["PASS", "forward"],
        ["PASS", "dZ"],
        ["PASS", "dW"],
        ["PASS", "db"],
    ]


def test_the_stub_scores_zero_with_exit_1():
    result, report = run_json("check", ROOT / "exercises" / "softmax.py")
    assert result.returncode == 1
    assert report["score"] == 0 and report["max_score"] == 4
    assert {d for task in report["tasks"] for d in task["diagnoses"]} == {"not_implemented"}


TASK_KEYS = {"name", "score", "max_score", "passed", "diagnoses", "fact", "hint", "details", "case", "parts"}


def test_json_has_exactly_the_documented_keys(write):
    path = write("softmax.py", (ROOT / "tests/submissions/softmax/db_missing_keepdims.py").read_text())
    result, report = run_json("check", path)
    assert result.returncode == 1
    assert set(report) == {
        "exercise",
        "title",
        "path",
        "score",
        "max_score",
        "tasks",
        "cell_errors",
        "cut_short",
        "seconds",
        "unreadable",
        "grader_failure",
        "sandbox",
    }
    assert set(report["sandbox"]) == {"backend", "layers"} and report["sandbox"]["backend"] in {"linux", "portable"}
    assert [set(layer) for layer in report["sandbox"]["layers"]] == [{"name", "active", "how"}] * 6
    assert [task["name"] for task in report["tasks"]] == ["forward", "dZ", "dW", "db"]
    db = report["tasks"][3]
    assert set(db) == TASK_KEYS
    assert db["diagnoses"] == ["missing_keepdims"] and db["score"] == 0 and report["score"] == 3
    assert db["fact"] == "db has shape (7,), expected (1,7)"
    assert db["hint"] == "sum with keepdims=True: np.sum(dZ, axis=0, keepdims=True) is (1,k), like b"
    assert db["case"] == "small random inputs (m=5, d=4, k=7)" and db["parts"] == []


@pytest.mark.slow
def test_json_has_the_parts_of_a_task_and_their_scores():
    path = SUBMISSIONS / "two_layer" / "grads_missing_regularization.py"
    result, report = run_json("check", path, "-e", "two_layer", "--timeout", "5")
    assert result.returncode == 1
    task = next(task for task in report["tasks"] if task["name"] == "loss_and_grads")
    assert (task["score"], task["max_score"], task["passed"]) == (1, 3, False)
    assert task["diagnoses"] == ["missing_regularization"] and task["fact"] == ""
    loss, grads = task["parts"]
    assert set(loss) == set(grads) == TASK_KEYS - {"parts"}
    assert (loss["name"], loss["score"], loss["max_score"], loss["passed"]) == ("loss", 1, 1, True)
    assert (grads["name"], grads["score"], grads["max_score"], grads["passed"]) == ("grads", 0, 2, False)
    assert grads["diagnoses"] == ["missing_regularization"] and "lack the penalty's gradient" in grads["fact"]
    assert grads["hint"] and grads["case"].startswith("a small network")
    assert report["score"] == 8


def test_text_output_gives_fact_hint_and_input_on_their_own_lines(write):
    path = write("softmax.py", (ROOT / "tests/submissions/softmax/db_missing_keepdims.py").read_text())
    result = run_grade("check", path)
    lines = result.stdout.split("\n")
    at = lines.index("  FAIL  db       0/1  [missing_keepdims]")
    assert lines[at + 1 : at + 4] == [
        "        db has shape (7,), expected (1,7)",
        "        hint: sum with keepdims=True: np.sum(dZ, axis=0, keepdims=True) is (1,k), like b",
        "        input: small random inputs (m=5, d=4, k=7)",
    ]
    assert score_line(result.stdout) == "softmax: 3/4 points"


def test_long_text_is_wrapped_and_indented_under_its_task(write):
    code = (ROOT / "solutions" / "softmax.py").read_text().replace("return G / m", "return G")
    result = run_grade("check", write("softmax.py", code))
    lines = result.stdout.split("\n")
    at = lines.index("  FAIL  dZ       0/1  [not_averaged]")
    body = lines[at + 1 : lines.index("  PASS  dW       1/1")]
    assert max(len(line) for line in lines[1:]) <= 100  # the first names the file: as long as its path
    assert body[0] == "        dZ is m times too large"
    assert body[1].startswith("        hint: J is the mean of m losses")
    assert body[2].startswith("        relative error ") and body[3].startswith("          ")  # a detail, wrapped
    assert body[-1].startswith("        input: ")


def test_a_wrong_value_shows_the_worst_entry_and_the_threshold(write):
    code = (
        (ROOT / "solutions" / "softmax.py")
        .read_text()
        .replace("G[np.arange(m), y] -= 1.0", "G[np.arange(m), y] -= 0.5")
    )
    result, report = run_json("check", write("softmax.py", code))
    dz = report["tasks"][1]
    assert dz["diagnoses"] == ["wrong_value"]
    assert dz["fact"] == "dZ does not match finite differences of the mean cross-entropy"
    detail = dz["details"][0]
    assert "above tolerance 1e-05" in detail and "worst entry (" in detail and "expected" in detail
    assert dz["case"] == "small random scores (m=5, k=7)"


def test_exercise_option_overrides_the_file_name(write):
    path = write("my_work.py", (ROOT / "solutions" / "softmax.py").read_text())
    assert run_grade("check", path, "--exercise", "softmax").returncode == 0


def _one_line_error(result, *phrases):
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


def test_missing_file_is_a_usage_error(tmp_path):
    _one_line_error(run_grade("check", tmp_path / "softmax.py"), "no such file")


def test_unknown_exercise_is_a_usage_error(write):
    path = write("homework.py", "x = 1\n")
    _one_line_error(run_grade("check", path), "unknown exercise 'homework'", "softmax")


def test_an_exercise_taken_from_the_file_name_says_so_and_suggests_the_close_one(write):
    _one_line_error(
        run_grade("check", write("softmax_v2.py", "x = 1\n")),
        "unknown exercise 'softmax_v2' (taken from the file name softmax_v2.py)",
        "grade check softmax_v2.py -e softmax",
    )
    _one_line_error(run_grade("check", write("a.py", "x = 1\n"), "-e", "two_layers"), "did you mean two_layer?")


def test_an_empty_file_is_told_it_is_empty_once(write):
    path = write("softmax.py", "\n   \n")
    result, report = run_json("check", path)
    assert (result.returncode, report["score"]) == (1, 0)
    assert {task["fact"] for task in report["tasks"]} == {"softmax.py is empty: there is no code to grade"}
    text = run_grade("check", path).stdout
    assert text.count("is empty") == 1 and "no function" not in text, text


def test_wrong_suffix_and_directory_are_usage_errors(write, tmp_path):
    _one_line_error(run_grade("check", write("softmax.txt", "x = 1\n")), "expected a .py or .ipynb file")
    _one_line_error(run_grade("check", tmp_path), "is a directory")


def test_bad_option_is_a_usage_error():
    _one_line_error(run_grade("check", "--timeout", "soon", ROOT / "solutions" / "softmax.py"), "timeout")
    _one_line_error(run_grade("frobnicate"), "No such command")


def test_a_file_that_is_not_utf8_scores_zero_with_a_reason(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_bytes(b"\xff\xfe\x00def forward")
    result, report = run_json("check", path)
    assert result.returncode == 1 and report["score"] == 0
    assert "not UTF-8" in report["tasks"][0]["fact"] and report["unreadable"] == report["tasks"][0]["fact"]


@pytest.mark.parametrize(
    "name, content, reason, hint",
    [
        (
            "softmax.py",
            "def forward(X, W, b):\n    return X @ W +\n",
            "the file does not run: SyntaxError",
            "         hint: the file must run from top to bottom",
        ),
        ("softmax.ipynb", '{"cells": [', "softmax.ipynb is not a valid notebook: not JSON", None),
    ],
)
def test_a_submission_that_cannot_run_says_why_once(tmp_path, name, content, reason, hint):
    (tmp_path / name).write_text(content)
    result = run_grade("check", tmp_path / name)
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "  ERROR  [import_error]"
    assert [line for line in lines if reason in line] == [lines[2]] and lines[2].startswith("         " + reason)
    assert lines[3].startswith(hint) if hint else "hint:" not in result.stdout  # nothing of theirs ran: no hint
    assert lines[-2:] == ["         every task scores 0: forward, dZ, dW, db", "softmax: 0/4 points"]


def test_list_shows_tasks_and_points():
    result = run_grade("list")
    assert result.returncode == 0
    assert "softmax:" in result.stdout and "db(dZ) -> db (1,k)  1 point" in result.stdout
    assert "loss_and_grads(X, y, params, reg) -> (loss, grads)  3 points (loss 1, grads 2)" in result.stdout


def test_verbose_shows_what_the_submission_printed(write):
    path = write("softmax.py", "print('hello from the learner')\n" + (ROOT / "solutions" / "softmax.py").read_text())
    quiet = run_grade("check", path)
    loud = run_grade("check", path, "--verbose")
    assert "hello from the learner" not in quiet.stdout
    assert "| hello from the learner" in loud.stdout
    # Only what the student needs: the sandbox's layers are grade doctor's (and --json's `sandbox`).
    added = [line for line in loud.stdout.splitlines() if line not in quiet.stdout.splitlines()]
    assert added == ["  the submission printed:", "  | hello from the learner"], added


def test_verbose_output_is_bounded(write):
    path = write("softmax.py", "print('x' * 10_000_000)\n" + (ROOT / "solutions" / "softmax.py").read_text())
    loud = run_grade("check", path, "--verbose")
    assert loud.returncode == 0
    assert len(loud.stdout) < 20_000 and "more characters not shown" in loud.stdout


def test_gradescope_format_has_one_test_per_task(write):
    path = write("softmax.py", (ROOT / "tests/submissions/softmax/db_wrong_axis.py").read_text())
    result = run_grade("check", path, "--format", "gradescope")
    results = json.loads(result.stdout)
    assert results["score"] == 3 and results["max_score"] == 4
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [
        ("forward", 1, 1),
        ("dZ", 1, 1),
        ("dW", 1, 1),
        ("db", 0, 1),
    ]
    assert results["tests"][3]["tags"] == ["wrong_axis"] and results["tests"][3]["output"].startswith("**db ")


def test_a_utf8_file_with_a_byte_order_mark_is_graded(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_bytes(b"\xef\xbb\xbf" + solution_text().encode())
    result, report = run_json("check", path)
    assert result.returncode == 0 and report["score"] == 4


def test_version_names_the_distribution_and_matches_the_package():
    from grader import DISTRIBUTION, __version__

    result = run_grade("--version")
    assert (result.returncode, result.stdout) == (0, f"grade {__version__} ({DISTRIBUTION})\n")


def test_each_default_and_the_version_are_defined_once():
    from importlib.metadata import version

    import click

    from grader import DISTRIBUTION, __version__, defaults
    from grader.classroom.job import DEFAULT_OPTIONS
    from grader.cli import cli
    from grader.integrations.nbgrader_source import CONFIG_LINES

    assert version(DISTRIBUTION) == __version__, "pyproject.toml reads the version from grader/__init__.py: reinstall"
    for command in ("check", "batch"):
        options = {p.name: p.default for p in cli.commands[command].params if isinstance(p, click.Option)}
        assert (options["timeout"], options["memory_mb"], options["seed"]) == (
            defaults.TIMEOUT,
            defaults.MEMORY_MB,
            defaults.SEED,
        )
    assert DEFAULT_OPTIONS == {
        "timeout": defaults.TIMEOUT,
        "memory_mb": defaults.MEMORY_MB,
        "seed": defaults.SEED,
        "variant": None,  # the public inputs of seed
    }
    assert f"timeout = {defaults.TIMEOUT!r} " in CONFIG_LINES and f"memory_mb = {defaults.MEMORY_MB!r} " in CONFIG_LINES
    # The sandbox's own defaults, for callers that give none, are these.
    from grader.sandbox import base

    init = inspect.signature(base.Sandbox.__init__).parameters
    assert (init["timeout"].default, init["memory_mb"].default) == (defaults.TIMEOUT, defaults.MEMORY_MB)


def test_output_to_a_reader_that_went_away_ends_quietly_with_exit_1():
    # grade check ... | head: the report is written at exit, into a pipe nobody reads any more.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*grade_command(), "check", str(ROOT / "solutions" / "softmax.py")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""


def test_check_with_its_standard_output_closed_still_grades():
    done = subprocess.run(
        [*grade_command(), "check", str(ROOT / "exercises" / "softmax.py")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert (done.returncode, done.stderr) == (1, "")  # the stub: below full marks, nothing broke

"""`grade batch`: grades.csv, feedback and Gradescope files, summary, resume, failures, Ctrl-C.

One class directory (correct, buggy, hanging, crashing, hostile and unreadable
submissions) is graded once per class; tests read its outputs. Short --timeout
values keep the hanging submission cheap; nothing here asserts on timing.
"""

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import replace

import pytest
from conftest import SUBMISSIONS, grade_command, run_grade

from grader import exercises, report
from grader.checking.grading import grade_file
from grader.checking.results import Report
from grader.classroom.batch import Item, discover, run
from grader.classroom.job import grade_bytes
from grader.reading.submission import SubmissionError, UsageError, read_submission, submission_from_bytes

pytestmark = pytest.mark.slow  # whole classes on worker pools: the full suite runs them

CORPUS = SUBMISSIONS / "softmax"
EXERCISE = exercises.load("softmax")
OPTIONS = {"timeout": 1.0, "seed": 0, "memory_mb": 1024}

HOSTILE = """\
import os, signal
os.kill(os.getppid(), signal.SIGKILL)  # tries to kill the process grading it
"""


def notebook(*cells, nbgrader=None):
    def cell(source, index):
        meta = {"nbgrader": nbgrader[index]} if nbgrader and index in nbgrader else {}
        return {"cell_type": "code", "source": source, "metadata": meta, "outputs": [], "execution_count": None}

    return json.dumps(
        {
            "cells": [cell(source, i) for i, source in enumerate(cells)],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def make_class(directory):
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("correct_vectorized", "db_missing_keepdims", "dw_timeout", "db_crash"):
        shutil.copy(CORPUS / f"{name}.py", directory / f"{name}.py")
    # A correct notebook with a cell that raises (the other cells still run): full marks, named in the summary.
    (directory / "nb_correct.ipynb").write_text(notebook("1 / 0", (CORPUS / "correct_loops.py").read_text()))
    (directory / "broken.ipynb").write_text('{"cells": [')  # not JSON
    (directory / "latin.py").write_bytes(b"# caf\xe9\nimport numpy as np\n")  # not UTF-8
    (directory / "hostile.py").write_text(HOSTILE)
    (directory / "notes.txt").write_text("not a submission")


@pytest.fixture(scope="class")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    make_class(root / "class")
    result = run_grade("batch", root / "class", "-e", "softmax", "--out", root / "out", "--timeout", "0.5", "-j", "2")
    return root, result


class TestBatchOutputs:
    def test_runs_and_reports_without_a_traceback(self, graded):
        _, result = graded
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        assert "graded 8, reused 0" in result.stdout

    def test_grades_csv_has_one_row_per_student(self, graded):
        root, _ = graded
        with open(root / "out" / "grades.csv", newline="") as handle:
            rows = list(csv.reader(handle))
        tasks = ["forward", "dZ", "dW", "db"]
        assert rows[0] == ["student", *tasks, "total", *(f"{task}_codes" for task in tasks)]
        table = {row[0]: row[1:6] for row in rows[1:]}
        assert table == {
            "broken": ["0", "0", "0", "0", "0"],
            "correct_vectorized": ["1", "1", "1", "1", "4"],
            "db_crash": ["1", "1", "1", "0", "3"],
            "db_missing_keepdims": ["1", "1", "1", "0", "3"],
            "dw_timeout": ["1", "1", "0", "1", "3"],
            "hostile": ["0", "0", "0", "0", "0"],
            "latin": ["0", "0", "0", "0", "0"],
            "nb_correct": ["1", "1", "1", "1", "4"],
        }
        # Each task's diagnosis codes, so that a spreadsheet can filter who made which mistake.
        codes = {row[0]: row[6:] for row in rows[1:]}
        assert codes["correct_vectorized"] == ["", "", "", ""]
        assert codes["db_missing_keepdims"] == ["", "", "", "missing_keepdims"]
        assert codes["dw_timeout"] == ["", "", "timeout", ""]
        assert codes["db_crash"] == ["", "", "", "crashed"]
        assert codes["latin"] == ["import_error"] * 4

    def test_feedback_is_the_text_grade_check_prints(self, graded):
        root, _ = graded
        for name in ("db_missing_keepdims", "dw_timeout", "db_crash"):
            path = root / "class" / f"{name}.py"
            checked = grade_file(path, EXERCISE, timeout=0.5)
            assert (root / "out" / "feedback" / f"{name}.txt").read_text() == report.render_text(checked)
            gradescope = root / "out" / "gradescope" / name / "results.json"
            timed = ("execution_time",)  # the time taken differs between two gradings of one file
            assert {k: v for k, v in json.loads(gradescope.read_text()).items() if k not in timed} == {
                k: v for k, v in report.gradescope(checked).items() if k not in timed
            }
        assert "[missing_keepdims]" in (root / "out" / "feedback" / "db_missing_keepdims.txt").read_text()

    def test_gradescope_results_have_the_documented_shape(self, graded):
        root, _ = graded
        for student in ("correct_vectorized", "db_missing_keepdims", "broken"):
            results = json.loads((root / "out" / "gradescope" / student / "results.json").read_text())
            assert results["max_score"] == 4
            assert [test["name"] for test in results["tests"]] == ["forward", "dZ", "dW", "db"]
            for test in results["tests"]:
                assert {"name", "score", "max_score", "output"} <= set(test)
            assert results["score"] == sum(test["score"] for test in results["tests"])
        keepdims = json.loads((root / "out" / "gradescope" / "db_missing_keepdims" / "results.json").read_text())
        assert keepdims["score"] == 3 and keepdims["tests"][3]["tags"] == ["missing_keepdims"]

    def test_summary_gives_shares_of_the_class_and_lists_unreadable_files(self, graded):
        root, result = graded
        text = (root / "out" / "summary.txt").read_text()
        assert text in result.stdout
        assert "softmax: 8 submissions" in text
        db_line = next(line for line in text.splitlines() if line.strip().startswith("db:"))
        # 8 students, db passed by 3, missing_keepdims in 1; the hostile file's code depends on
        # whether the sandbox could stop it (import_error) or it took its worker down (crashed).
        # Shares are not rounded to whole numbers they are not: 3 of 8 is 37.5%, 1 of 8 is 12.5%.
        assert "passed 37.5%; missing_keepdims 12.5%; did not run: " in db_line
        assert "import_error 25%" in db_line or "import_error 37.5%" in db_line
        assert "unreadable or refused files (scored 0, looked at again each run): 2" in text
        assert "broken: broken.ipynb is not a valid notebook" in text
        assert "latin: latin.py is not UTF-8 text" in text
        summary = json.loads((root / "out" / "summary.json").read_text())
        assert dict(map(tuple, summary["distribution"])) == {0: 3, 1: 0, 2: 0, 3: 3, 4: 2}
        assert (root / "out" / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def test_summary_names_the_students_whose_tasks_timed_out_or_crashed(self, graded):
        root, _ = graded
        text = (root / "out" / "summary.txt").read_text()
        lines = text.splitlines()
        timed_out = lines.index("timed out (0 for those tasks): 1")
        assert lines[timed_out + 1] == "  dw_timeout: dW"
        raised = lines.index("notebook cells that raised (the other cells still ran): 1")
        assert lines[raised + 1] == "  nb_correct: nb_correct.ipynb, cell 1: ZeroDivisionError: division by zero"
        crashed = next(i for i, line in enumerate(lines) if line.startswith("crashed (0 for those tasks): "))
        assert "  db_crash: db" in lines[crashed + 1 : crashed + 3]
        summary = json.loads((root / "out" / "summary.json").read_text())
        assert summary["timeout"] == [["dw_timeout", ["dW"]]]
        assert ["db_crash", ["db"]] in summary["crashed"]
        # shares stay of all 8 submissions: one timeout in dW is 12.5%
        dw_line = next(line for line in lines if line.strip().startswith("dW:"))
        assert "did not run: " in dw_line and "timeout 12.5%" in dw_line

    def test_every_result_file_is_complete_json_keyed_by_content(self, graded):
        root, _ = graded
        stored = sorted((root / "out" / "results").iterdir())
        assert [path.stem for path in stored] == [
            "broken",
            "correct_vectorized",
            "db_crash",
            "db_missing_keepdims",
            "dw_timeout",
            "hostile",
            "latin",
            "nb_correct",
        ]
        for path in stored:
            record = json.loads(path.read_text())
            assert record["row"]["max_score"] == 4
        record = json.loads((root / "out" / "results" / "db_crash.json").read_text())
        content = (root / "class" / "db_crash.py").read_bytes()
        assert record["key"].split(":")[0] == hashlib.sha256(content).hexdigest()

    def test_rerun_regrades_nothing_then_only_the_changed_file(self, graded):
        root, _ = graded
        again = run_grade("batch", root / "class", "-e", "softmax", "--out", root / "out", "--timeout", "0.5")
        assert again.returncode == 0, again.stderr
        assert "graded 0, reused 8" in again.stdout
        with open(root / "class" / "correct_vectorized.py", "a") as handle:
            handle.write("\n# edited after the first run\n")
        changed = run_grade("batch", root / "class", "-e", "softmax", "--out", root / "out", "--timeout", "0.5")
        assert "graded 1, reused 7" in changed.stdout
        # a different timeout can change verdicts, so every row is graded again
        retimed = run_grade("batch", root / "class", "-e", "softmax", "--out", root / "out", "--timeout", "0.6")
        assert "graded 8, reused 0" in retimed.stdout


# the whole softmax corpus graded twice, by grade batch and by grade check
def test_batch_rows_match_grade_check_on_the_whole_corpus(tmp_path):
    result = run_grade("batch", CORPUS, "-e", "softmax", "--out", tmp_path, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    files = sorted([*CORPUS.glob("*.py"), *CORPUS.glob("*.ipynb")])  # the notebook importing the grader too
    for path in files:
        stored = Report.from_dict(json.loads((tmp_path / "results" / f"{path.stem}.json").read_text())["row"])
        expected = grade_file(path, EXERCISE, timeout=1.0)
        # The same Report but for the time it took and what the submission printed (batch keeps no output).
        assert replace(stored, seconds=0.0) == replace(expected, seconds=0.0, output=""), path.stem
    assert f"graded {len(files)}, reused 0" in result.stdout


def test_nbgrader_layout_uses_the_student_directory_names(tmp_path):
    solution = (CORPUS / "correct_vectorized.py").read_text()
    keepdims = (CORPUS / "db_missing_keepdims.py").read_text()
    test_cell = {1: {"grade": True, "solution": False, "grade_id": "test_db", "points": 1}}
    for student, code in (("alice", solution), ("bob", keepdims)):
        folder = tmp_path / "course" / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "softmax.ipynb").write_text(notebook(code, "assert db is not None", nbgrader=test_cell))
    result = run_grade("batch", tmp_path / "course", "-e", "softmax", "--out", tmp_path / "out", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert lines == [
        "student,forward,dZ,dW,db,total,forward_codes,dZ_codes,dW_codes,db_codes",
        "alice,1,1,1,1,4,,,,",
        "bob,1,1,1,0,3,,,,missing_keepdims",
    ]
    (tmp_path / "course" / "submitted" / "alice" / "ps2").mkdir()
    shutil.copy(
        tmp_path / "course" / "submitted" / "alice" / "ps1" / "softmax.ipynb",
        tmp_path / "course" / "submitted" / "alice" / "ps2" / "softmax.ipynb",
    )
    with pytest.raises(UsageError, match="--assignment"):
        discover(tmp_path / "course", "softmax")
    assert [item.student for item in discover(tmp_path / "course", "softmax", "ps2")] == ["alice"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["batch", "no_such_dir", "-e", "softmax"], "is not a directory"),
        (["batch", "EMPTY", "-e", "softmax"], "no submissions found"),
        (["batch", "EMPTY", "-e", "nope"], "unknown exercise"),
        (["batch", "EMPTY"], "--exercise"),
        (["batch", "ONE", "-e", "softmax", "--out", "ONE/softmax.py/out"], "cannot write to ONE/softmax.py/out"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path, args, message):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "ONE").mkdir()
    (tmp_path / "ONE" / "softmax.py").write_text("")
    result = run_grade(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def die_for_mallory(name, data, exercise_name, options):
    """A work function whose worker process dies (SIGKILL) on one submission."""
    if "mallory" in name:
        os.kill(os.getpid(), signal.SIGKILL)
    return grade_bytes(name, data, exercise_name, options)


def test_a_dying_worker_costs_only_its_row(tmp_path):
    for student in ("alice", "mallory", "zoe"):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / f"{student}.py")
    items = [Item(student, tmp_path / f"{student}.py") for student in ("alice", "mallory", "zoe")]
    outcome = run(items, EXERCISE, tmp_path / "out", OPTIONS, jobs=2, work=die_for_mallory)
    assert {student: result.score for student, result in outcome.reports.items()} == {
        "alice": 4,
        "mallory": 0,
        "zoe": 4,
    }
    mallory = outcome.reports["mallory"]
    assert mallory.grader_failure and mallory.tasks[0].diagnoses == ("crashed",)
    assert "killed by SIGKILL" in mallory.tasks[0].fact
    # not stored as final: the next run grades mallory again and reuses the others
    again = run(items, EXERCISE, tmp_path / "out", OPTIONS, jobs=2)
    assert again.graded == ["mallory"] and sorted(again.reused) == ["alice", "zoe"]
    assert again.reports["mallory"].score == 4


SLOW = """\
import time

def forward(X, W, b):
    time.sleep(120)  # still being graded (for --timeout s) when the batch is interrupted
"""


def test_ctrl_c_keeps_finished_results_and_writes_grades_and_summary_marked_incomplete(tmp_path):
    # Two quick submissions, then ten that each take --timeout (30 s): the first result file
    # appears long before any slow one can finish, so the interrupt always lands mid-run.
    (tmp_path / "class").mkdir()
    for student in ("a00", "a01"):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / "class" / f"{student}.py")
    for i in range(2, 12):
        (tmp_path / "class" / f"s{i:02}.py").write_text(SLOW + f"# {i}\n")
    out = tmp_path / "out"
    command = grade_command() + [
        "batch",
        str(tmp_path / "class"),
        "-e",
        "softmax",
        "--out",
        str(out),
        "--timeout",
        "30",
        "-j",
        "2",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = out / "results"
    while process.poll() is None and not (results.is_dir() and any(results.glob("*.json"))):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    finished = sorted(path.stem for path in results.glob("*.json"))
    missing = 12 - len(finished)
    assert process.returncode == 130, stderr
    assert finished in (["a00"], ["a01"], ["a00", "a01"])
    assert stderr.strip().splitlines() == [
        f"grade: interrupted; {missing} of 12 submissions not graded yet: {out}/grades.csv and the summary "
        f"cover the {len(finished)} finished, rerun to grade the rest"
    ]
    assert "Traceback" not in stdout + stderr
    assert not [path for path in results.iterdir() if not path.name.endswith(".json")]
    for student in finished:
        assert json.loads((results / f"{student}.json").read_text())["row"]["score"] == 4
    lines = (out / "grades.csv").read_text().splitlines()
    assert lines == ["student,forward,dZ,dW,db,total,forward_codes,dZ_codes,dW_codes,db_codes"] + [
        f"{student},1,1,1,1,4,,,," for student in finished
    ]
    summary = (out / "summary.txt").read_text()
    assert summary in stdout
    assert f"incomplete: {missing} of 12 submissions not graded yet; rerun to finish" in summary
    assert f"softmax: {len(finished)} submission" in summary
    data = json.loads((out / "summary.json").read_text())
    assert data["missing"] == sorted({"a00", "a01", *(f"s{i:02}" for i in range(2, 12))} - set(finished))
    # The rerun reuses the finished rows; the slow files, now fixed, are graded; nothing is missing.
    for i in range(2, 12):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / "class" / f"s{i:02}.py")
    resumed = run_grade("batch", tmp_path / "class", "-e", "softmax", "--out", out, "--timeout", "30")
    assert resumed.returncode == 0 and f"reused {len(finished)}" in resumed.stdout
    assert len((out / "grades.csv").read_text().splitlines()) == 13
    assert "incomplete" not in (out / "summary.txt").read_text()
    assert json.loads((out / "summary.json").read_text())["missing"] == []


def test_bytes_and_paths_make_the_same_submission(tmp_path):
    path = tmp_path / "softmax.ipynb"
    path.write_text(notebook("import numpy as np", "%time x = 1\nprint(x)"))
    assert submission_from_bytes(str(path), path.read_bytes()) == read_submission(path)
    with pytest.raises(SubmissionError, match="not UTF-8"):
        submission_from_bytes("x.py", b"\xff")
    row = grade_bytes("work.py", (CORPUS / "db_missing_keepdims.py").read_bytes(), "softmax", OPTIONS)
    json.dumps(row)  # plain JSON types only: it travels between processes and machines
    assert row["score"] == 3 and row["unreadable"] is None
    assert report.render_text(Report.from_dict(row)).startswith("softmax: ")


def test_grade_check_format_gradescope_has_the_documented_shape():
    result = run_grade("check", CORPUS / "db_missing_keepdims.py", "-e", "softmax", "--format", "gradescope")
    results = json.loads(result.stdout)
    assert results["score"] == 3 and results["max_score"] == 4
    assert [(t["name"], t["score"], t["max_score"]) for t in results["tests"]] == [
        ("forward", 1, 1),
        ("dZ", 1, 1),
        ("dW", 1, 1),
        ("db", 0, 1),
    ]
    assert all(isinstance(t["output"], str) for t in results["tests"])


def sleepy_or_broken(value):
    """A work function that hangs on "hang", raises on "bug" and echoes anything else."""
    if value == "hang":
        time.sleep(120)
    if value == "bug":
        raise ValueError("a grader bug")
    return value


def test_worker_pool_reports_a_stuck_job_and_an_error_and_finishes_the_rest():
    from grader.classroom.worker_pool import WorkerPool

    done = {}
    jobs = [(value, (value,)) for value in ("a", "hang", "b", "bug", "c", "d")]
    with WorkerPool(sleepy_or_broken, 2, deadline=1.0) as pool:
        pool.run(jobs, lambda tag, status, value: done.setdefault(tag, (status, value)))
    assert done == {
        "a": ("ok", "a"),
        "b": ("ok", "b"),
        "c": ("ok", "c"),
        "d": ("ok", "d"),
        "hang": ("hung", "grading took longer than 1 s"),
        "bug": ("error", "ValueError: a grader bug"),
    }


def kill_the_jail_of_mallory(name, data, exercise_name, options):
    """A work function during which something outside (an administrator, the OOM killer) kills mallory's jail."""
    import threading

    import psutil

    from grader.sandbox import server

    def kill_soon():
        time.sleep(1.0)
        fork_server = server.server().process.pid
        for process in psutil.Process(fork_server).children(recursive=True):
            if process.ppid() != fork_server:  # a jail's worker, not its keeper
                process.kill()

    if "mallory" in name:
        threading.Thread(target=kill_soon, daemon=True).start()
    return grade_bytes(name, data, exercise_name, options)


def test_a_jail_killed_from_outside_is_not_blamed_and_is_graded_again(tmp_path):
    waits = "import time\ndef forward(X, W, b):\n    time.sleep(20)\n"
    (tmp_path / "mallory.py").write_text(waits)
    items = [Item("mallory", tmp_path / "mallory.py")]
    options = {**OPTIONS, "timeout": 30.0}
    outcome = run(items, EXERCISE, tmp_path / "out", options, jobs=1, work=kill_the_jail_of_mallory)
    result = outcome.reports["mallory"]
    forward = result.tasks[0]
    assert forward.diagnoses == ("killed",) and "killed from outside" in forward.fact
    assert "sys.exit" not in forward.fact + forward.hint and result.grader_failure
    again = run(items, EXERCISE, tmp_path / "out", options, jobs=1, work=kill_the_jail_of_mallory)
    assert again.graded == ["mallory"] and again.reused == []  # not cached: graded again

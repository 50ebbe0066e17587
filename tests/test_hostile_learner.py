"""No learner input can crash the grader or stop a class; every output is safe to read.

Each file below is something a student can hand in. Through `grade check`, `grade batch`,
Gradescope's runner and nbgrader's GradeTasks, four properties must hold:
1. exit 3 ("internal error") only for the grader's own bugs: whatever crosses from the learner
   (replies, numbers, strings, file names, notebooks) ends as a verdict on the learner;
2. a class run always finishes, with a row for every submission;
3. every output is safe to read (tests/safe_text.py): the learner's control characters, escape
   sequences, bidi controls, separators and lone surrogates are shown escaped;
4. nbgrader's graded notebook can always be written with the grades GradeTasks gave.
"""

import csv
import io
import json
import os
import shutil
import sys

import pytest
from conftest import ROOT, SUBMISSIONS, run_grade, solution_text
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from safe_text import assert_safe, assert_safe_bytes

from grader import exercises, report
from grader.checking.grading import grade_file
from grader.checking.results import Report
from grader.classroom.batch import discover, run, write_summary
from grader.classroom.names import file_stem

CORPUS = SUBMISSIONS / "softmax"
EXERCISE = exercises.load("softmax")
SOLUTION = solution_text("softmax")
OPTIONS = {"timeout": 1.0, "seed": 0, "memory_mb": 1024}
NAME_MAX = 255
pytestmark = pytest.mark.slow  # each test grades files end to end (sandboxes, worker pools, nbgrader)

# The learner's code finds the pipe to the grader and writes a reply of its own on it.
FORGE = """
import os, json
import stat as _stat, fcntl as _fcntl, struct as _struct
def _reply(header):
    for fd in range(3, 1024):
        try:
            if _stat.S_ISFIFO(os.fstat(fd).st_mode) and _fcntl.fcntl(fd, _fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                payload = json.dumps(header).encode()
                os.write(fd, _struct.pack("<Q", len(payload)) + payload)
                return
        except OSError:
            pass
"""
FORGED_FORWARD = (
    FORGE
    + """
def forward(X, W, b):
    _reply({"status": "too_large", "detail": "\\u00b2", "arrays": 0})  # int("²") raises; "²".isdigit() is True
    import time
    time.sleep(30)
"""
)
TOO_LARGE = SOLUTION + FORGED_FORWARD
DEEP = SOLUTION + "\nx = " + " + ".join(["1"] * 1500) + "\nwhile True:\n    pass\n"
MISLEADING = "\u202eLIAF\u202c \u2028PASS\u2029 zero\u200bwidth \x1b]0;title\x07 \x1b]52;c;aGk=\x07 \x1b[2J"


def raising(message):
    """The solution, but db raises MESSAGE (any str: repr writes it as Python source)."""
    return SOLUTION + f"\ndef db(dZ):\n    raise ValueError({message!r})\n"


def _stdout_is_safe(result):
    assert "Traceback" not in result.stdout + result.stderr
    assert_safe(result.stdout)
    assert_safe(result.stderr)


# -- grade check --------------------------------------------------------------------------------
def test_a_forged_too_large_reply_is_the_learners_wrong_answer(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text(TOO_LARGE)
    result = run_grade("check", path, "--timeout", "1", "--json")
    assert result.returncode == 1, result.stderr
    forward = json.loads(result.stdout)["tasks"][0]
    assert forward["diagnoses"] == ["shape_mismatch"] and "returned arrays, more than" in forward["fact"]


def test_an_endless_top_level_with_a_deep_expression_is_cut_short(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text(DEEP)
    result = run_grade("check", path, "--timeout", "1")
    assert result.returncode == 0, result.stdout + result.stderr  # graded on its definitions: all right
    assert "CUT SHORT" in result.stdout
    assert "x = 1 + 1 + 1" in result.stdout  # the deep statement is listed among those not run
    _stdout_is_safe(result)


def test_a_misleading_exception_message_is_shown_escaped(tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text(raising(MISLEADING + chr(0xDCE9)))
    for form in ([], ["--format", "gradescope"]):
        result = run_grade("check", path, "--timeout", "1", *form)
        assert result.returncode == 1, result.stderr
        _stdout_is_safe(result)
        shown = (
            result.stdout if not form else json.dumps([test["output"] for test in json.loads(result.stdout)["tests"]])
        )
        for escape in ("u202e", "u2028", "u200b", "x1b", "udce9"):  # as \\u202e, markdown's \\\\u202e in JSON
            assert "\\" + escape in shown, (form, escape)


# -- grade batch: the chaos class -----------------------------------------------------------------
def _honest_files():
    """name (bytes) -> content: 30 students of the softmax corpus, some under names a file system allows
    but a careless grader does not (Latin-1 bytes, 255 bytes, an option, escape sequences)."""
    corpus = sorted(CORPUS.glob("*.py"))[:30]
    names = [f"s{i:02}_{path.stem}".encode() for i, path in enumerate(corpus)]
    names[:6] = [
        b"Jos\xe9",  # Latin-1: an honest student's accent
        b"Zo\xc3\xab",  # UTF-8
        b"a" * (NAME_MAX - len(".py")),  # the longest name there is
        b"--help",
        b"-e",
        b"\x1b]0;pwned\x07\x1b[2J" + "\u202e".encode(),
    ]
    return {name + b".py": path.read_bytes() for name, path in zip(names, corpus)}


def _hostile_files():
    surrogate_notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "\udce9 \u202e"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": raising("\udce9")},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return {
        b"too_large.py": TOO_LARGE.encode(),
        b"deep.py": DEEP.encode(),
        b"bidi.py": raising(MISLEADING).encode(),
        b"surrogate.py": raising(chr(0xDCE9)).encode(),
        b"sleeper.py": b"import time\ntime.sleep(10**6)\n",
        b"surrogates.ipynb": json.dumps(surrogate_notebook).encode(),
        b"nested.ipynb": b"[" * 100_000,
        b"huge.py": (SOLUTION + "\ndef dW(X, dZ):\n    return [[[[[[[[[[[[[10**400]]]]]]]]]]]]]\n").encode(),
        b"latin1_source.py": b"# caf\xe9\n" + SOLUTION.encode(),
        b"new\nline\x7f.py": raising("\r\n= formula\t").encode(),
    }


def _all_outputs_are_safe(outdir):
    for path in outdir.rglob("*"):
        if path.is_file() and path.suffix != ".png":
            data = path.read_bytes()
            assert_safe_bytes(data)  # JSON files: their own escapes (ensure_ascii) keep the data as it is
            if path.name == "results.json":  # Gradescope's: its markdown is shown to students
                assert_safe(json.loads(data))


def _csv_rows(outdir):
    return list(csv.reader(io.StringIO((outdir / "grades.csv").read_text(encoding="utf-8"))))


def test_a_chaos_class_is_graded_whole_and_every_honest_row_is_grade_checks(tmp_path):
    honest, hostile = _honest_files(), _hostile_files()
    directory = os.fsencode(tmp_path / "class")
    os.mkdir(directory)
    for name, content in {**honest, **hostile}.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(content)
    out = tmp_path / "out"
    result = run_grade("batch", tmp_path / "class", "-e", "softmax", "--out", out, "--timeout", "1", "-j", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    _stdout_is_safe(result)
    _all_outputs_are_safe(out)
    rows = _csv_rows(out)
    assert len(rows) == 1 + len(honest) + len(hostile)
    for name in honest:  # each honest row is what grade check gives the same file
        student = os.fsdecode(os.path.splitext(name)[0])
        stored = json.loads((out / "results" / f"{file_stem(student)}.json").read_text())
        path = os.fsdecode(os.path.join(directory, name))
        expected = grade_file(path, EXERCISE, timeout=1.0)
        got = Report.from_dict(stored["row"])
        assert [(t.name, t.score, t.diagnoses) for t in got.tasks] == [
            (t.name, t.score, t.diagnoses) for t in expected.tasks
        ], student
        assert (out / "feedback" / f"{file_stem(student)}.txt").read_text() == report.render_text(
            Report.from_dict({**stored["row"], "seconds": expected.seconds})
        )
    summary = (out / "summary.txt").read_text()
    assert "Jos\\xe9" in summary or "Jos\\xe9" in (out / "grades.csv").read_text()
    again = run_grade("batch", tmp_path / "class", "-e", "softmax", "--out", out, "--timeout", "1", "-j", "2")
    assert again.returncode == 0 and f"graded 0, reused {len(rows) - 1}" in again.stdout, again.stderr


# -- grade batch: any name, any message (property-based, in process) ------------------------------
def _file_names():
    """A .py file's name as the file system allows it: any bytes but / and NUL, not hidden, <= 255 bytes."""
    byte = st.integers(1, 255).filter(lambda b: b != ord("/")).map(lambda b: bytes([b]))
    return (
        st.lists(byte, min_size=1, max_size=NAME_MAX - len(".py"))
        .map(b"".join)
        .filter(lambda stem: not stem.startswith(b"."))
        .map(lambda stem: stem + b".py")
    )


def _messages():
    """Exception messages of any code points, lone surrogates included."""
    return st.text(st.characters(blacklist_categories=()), max_size=60)


BATCH_FUZZ = settings(
    max_examples=int(os.environ.get("GRADE_FUZZ_EXAMPLES", 4)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example grades a class
)


@BATCH_FUZZ
@given(names=st.lists(_file_names(), min_size=2, max_size=2, unique=True), message=_messages())
def test_any_file_name_and_message_get_a_row_and_safe_outputs(tmp_path_factory, names, message):
    root = tmp_path_factory.mktemp("names")
    directory = os.fsencode(root / "class")
    os.mkdir(directory)
    contents = [raising(message).encode(), (CORPUS / "correct_vectorized.py").read_bytes()]
    for name, content in zip(names, contents):
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(content)
    items = discover(os.fsdecode(directory), "softmax")
    outcome = run(items, EXERCISE, root / "out", OPTIONS, jobs=1)
    text = write_summary(root / "out", outcome.reports, EXERCISE, outcome.identical, outcome.missing)
    assert len(outcome.reports) == 2 and not any(r.grader_failure for r in outcome.reports.values())
    assert sorted(r.score for r in outcome.reports.values()) == [3, 4]
    assert_safe(text)
    _all_outputs_are_safe(root / "out")
    assert len(_csv_rows(root / "out")) == 3
    shutil.rmtree(root)


# -- grade batch: a bug of the grader costs one row -----------------------------------------------
def test_a_grader_bug_on_one_row_marks_it_writes_the_others_and_exits_3(tmp_path, monkeypatch, capsys):
    from grader import cli
    from grader.classroom import job

    for student in ("alice", "bug", "zoe"):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / f"{student}.py")
    (tmp_path / "bug.py").write_text(SOLUTION + "\n# differs\n")
    real = job.grade

    def buggy(submission, *args, **kwargs):  # the workers are forked from here: they have it too
        if submission.path.endswith("bug.py"):
            raise ZeroDivisionError("a bug of the grader")
        return real(submission, *args, **kwargs)

    monkeypatch.setattr(job, "grade", buggy)
    out = tmp_path / "out"
    args = ["batch", str(tmp_path), "-e", "softmax", "--out", str(out), "--timeout", "1", "-j", "2"]
    with pytest.raises(SystemExit) as done:
        cli.main(args)
    said = capsys.readouterr()
    assert done.value.code == 3, said.err
    assert "1 of 3 submissions not graded, the grader failed on them (bug)" in said.err
    rows = {row[0]: row for row in _csv_rows(out)[1:]}
    assert rows["alice"][5] == rows["zoe"][5] == "4" and rows["bug"][5] == "0"
    assert "ZeroDivisionError: a bug of the grader" in (out / "feedback" / "bug.txt").read_text()
    monkeypatch.setattr(job, "grade", real)  # fixed: the next run grades that row, and only it
    with pytest.raises(SystemExit) as done:
        cli.main(args)
    assert done.value.code == 0 and "graded 1, reused 2" in capsys.readouterr().out


def test_a_row_whose_files_cannot_be_written_still_gets_its_row(tmp_path, monkeypatch):
    from grader.classroom import batch

    for student in ("alice", "bob"):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / f"{student}.py")
    real = batch._write_files

    def failing(outdir, student, *texts, **how):
        if student == "bob":
            raise OSError(28, "No space left on device")
        return real(outdir, student, *texts, **how)

    monkeypatch.setattr(batch, "_write_files", failing)
    outcome = run(discover(tmp_path, "softmax"), EXERCISE, tmp_path / "out", OPTIONS, jobs=1)
    assert outcome.reports["alice"].score == 4 and not outcome.reports["alice"].grader_failure
    bob = outcome.reports["bob"]
    assert bob.grader_failure and "No space left on device" in bob.tasks[0].fact
    assert [row[0] for row in _csv_rows(tmp_path / "out")[1:]] == ["alice", "bob"]


# -- nbgrader's GradeTasks ------------------------------------------------------------------------
def _graded_notebook(cells):
    """GradeTasks on a notebook of CELLS (code) with softmax's four test cells after them."""
    pytest.importorskip("nbgrader")
    import nbformat
    from nbformat import v4

    from grader.integrations.nbgrader import GradeTasks

    tests = [
        v4.new_code_cell(
            f"from grader import feedback\nfeedback('softmax', '{task}', globals())",
            metadata={
                "nbgrader": {"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": f"test_{task}"}
            },
        )
        for task in ("forward", "dZ", "dW", "db")
    ]
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("\udce9 \u202e notes"), *map(v4.new_code_cell, cells), *tests])
    nb, _ = GradeTasks(timeout=1.0).preprocess(nb, {"nbgrader": {"notebook": "softmax", "student": "s"}})
    nbformat.writes(nb).encode("utf-8")  # what nbgrader saves: it can be written
    assert_safe([output for cell in nb.cells for output in cell.get("outputs", [])])
    return {
        task: float(cell.outputs[-1].data["text/plain"])
        for task, cell in zip(("forward", "dZ", "dW", "db"), nb.cells[-4:])
    }


@BATCH_FUZZ
@given(message=_messages())
def test_grade_tasks_writes_any_message_into_a_notebook_that_can_be_saved(message):
    scores = _graded_notebook([raising(message), "raise KeyError(" + repr(message) + ")"])
    assert scores == {"forward": 1.0, "dZ": 1.0, "dW": 1.0, "db": 0.0}


def test_grade_tasks_scores_a_forged_reply_as_the_learners_answer():
    scores = _graded_notebook([TOO_LARGE])
    assert scores["forward"] == 0.0 and scores["dW"] == scores["db"] == 1.0


# -- Gradescope's runner --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, code, score",
    [
        ("\x1b]52;c;aGk=\x07\u202ehw.py".encode(), raising(MISLEADING + "\udce9"), 3),
        (b"Jos\xe9 --help.py", TOO_LARGE, None),
    ],
    ids=["escapes", "forged_reply"],
)
def test_gradescopes_runner_grades_hostile_files_and_says_so_safely(tmp_path, capsys, name, code, score):
    from test_gradescope import SETTINGS, run_in_process

    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    (tmp_path / "source" / "grade.json").write_text(json.dumps({**SETTINGS, "timeout": 1.0}))
    with open(os.path.join(os.fsencode(tmp_path / "submission"), name), "wb") as handle:
        handle.write(code.encode())
    results = run_in_process(tmp_path)
    printed = capsys.readouterr()
    assert_safe(results)
    assert_safe(printed.out + printed.err)
    assert "autograder failed" not in json.dumps(results).lower()
    if score is not None:
        assert results["score"] == score
    else:
        assert results["tests"][0]["status"] == "failed" and results["score"] > 0


# -- a learner's slowness is the learner's timeout -------------------------------------------------
SLEEPER = """
import time
time.sleep(2)  # paid again at each relaunch, after each task that timed out
def _sleep(*args, **kwargs):
    time.sleep(10**6)
affine_forward = relu_forward = affine_backward = relu_backward = loss_and_grads = train = _sleep
"""


def test_a_file_that_only_sleeps_is_graded_as_timeouts_not_as_a_stuck_grader(tmp_path):
    """two_layer's train may take 60 s, and the file loads again before each task: grading this file
    takes over 70 s, longer than a batch once waited (--timeout x (tasks + 2) + 60 s) before it called
    the grading stuck, regraded on every run. The wait now follows the grader's limits (longest_grading)."""
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    two_layer = exercises.load("two_layer")
    outcome = run(discover(tmp_path, "two_layer"), two_layer, tmp_path / "out", {**OPTIONS, "timeout": 0.2}, jobs=1)
    result = outcome.reports["sleeper"]
    assert not result.grader_failure, result.tasks[0].fact
    assert [task.diagnoses for task in result.tasks] == [("timeout",)] * len(two_layer.tasks)


def test_nbgrader_autograde_writes_notebook_and_gradebook_alike_for_hostile_students(tmp_path):
    """Under `nbgrader autograde` with GradeTasks: for every student, the graded notebook is written, its
    test cells hold the scores the gradebook holds, and the feedback can be made from it."""
    pytest.importorskip("nbgrader")
    from test_nbgrader import TASKS, _autograde, _cells, _env, _gradebook_scores, _nbgrader, _run, _submit

    env = _env(tmp_path)
    course = tmp_path / "course"
    made = [sys.executable, "-m", "grader", "nbgrader-source", course, "--exercise", "softmax", "--root", ROOT]
    _run(made, tmp_path, env)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("c.GradeTasks.timeout = 1.0\n")
    _nbgrader("generate_assignment", "softmax", cwd=course, env=env)
    released = (course / "release" / "softmax" / "softmax.ipynb").read_text()
    source = json.loads((course / "source" / "softmax" / "softmax.ipynb").read_text())

    def student(db=None, forward=None, note=""):
        notebook = json.loads(released)
        for task in TASKS:
            _cells(notebook)[f"solution_{task}"]["source"] = "".join(_cells(source)[f"solution_{task}"]["source"])
        if db is not None:
            _cells(notebook)["solution_db"]["source"] = db
        if forward is not None:
            _cells(notebook)["solution_forward"]["source"] = forward
        notebook["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": note})
        return json.dumps(notebook)  # ensure_ascii: a lone surrogate travels as "\udce9"

    message = MISLEADING + "\udce9"
    notebooks = {
        "honest": student(),
        "surrogate": student(db=f"def db(dZ):\n    raise ValueError({message!r})\n", note="\udce9 notes"),
        "forged": student(forward=FORGED_FORWARD),
    }
    _submit(course, notebooks)
    _autograde(course, env)
    scores = _gradebook_scores(course, list(notebooks))
    assert all(None not in scores[name].values() for name in notebooks), scores  # every student was graded
    assert scores["honest"] == {task: 1.0 for task in TASKS}
    assert scores["surrogate"]["db"] == 0 and scores["forged"]["forward"] == 0
    for name in notebooks:
        graded = json.loads((course / "autograded" / name / "softmax" / "softmax.ipynb").read_text(encoding="utf-8"))
        cells = _cells(graded)
        in_notebook = {
            task: float("".join(cells[f"test_{task}"]["outputs"][-1]["data"]["text/plain"])) for task in TASKS
        }
        assert in_notebook == {task: scores[name][task] or 0 for task in TASKS}, name
        assert_safe([cells[f"test_{task}"]["outputs"] for task in TASKS])
    _nbgrader("generate_feedback", "softmax", "--force", cwd=course, env=env)
    for name in notebooks:
        assert (course / "feedback" / name / "softmax" / "softmax.html").read_bytes().decode("utf-8")

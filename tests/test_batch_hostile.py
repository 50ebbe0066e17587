"""`grade batch` against what a class folder or the machine can do to it.

A batch killed with SIGKILL, symbolic links among the submissions, identical files,
student ids that a spreadsheet would run as formulas.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SUBMISSIONS, grade_command, run_grade

pytestmark = pytest.mark.slow  # whole classes on worker pools: the full suite runs them

CORPUS = SUBMISSIONS / "softmax"
SLEEPER = """\
import time
from pathlib import Path
import numpy as np

def forward(X, W, b):
    time.sleep(120)  # slow: the batch is still grading it when killed
"""


def processes():
    """{pid: (ppid, state)} of every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), fields[0].decode())
    return table


def descendants(root):
    table, found, grew = processes(), {root}, True
    while grew:
        before = len(found)
        found |= {pid for pid, (ppid, _) in table.items() if ppid in found}
        grew = len(found) > before
    return found - {root}


def is_worker(pid):
    """A batch worker runs the grade command; a fork server runs `python -I -S -c ...`."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"-I\0-S\0" not in handle.read()
    except OSError:
        return False


def alive(pids):
    """The pids still running (a zombie is dead: it only waits to be reaped)."""
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][1] not in "ZX"}


def test_workers_and_their_sandboxes_die_with_a_killed_batch(tmp_path):
    (tmp_path / "class").mkdir()
    for i in range(6):
        (tmp_path / "class" / f"student{i}.py").write_text(SLEEPER)
    command = grade_command() + [
        "batch",
        str(tmp_path / "class"),
        "-e",
        "softmax",
        "--out",
        str(tmp_path / "out"),
        "--timeout",
        "60",
        "-j",
        "2",
    ]
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree = set()
    try:
        # Wait until both workers are grading: each has a fork server, a keeper and a jail.
        # (The batch's other child is its own fork server, which checked the jail's layers.)
        workers = set()
        for _ in range(600):
            workers = {pid for pid, (ppid, _) in processes().items() if ppid == batch.pid and is_worker(pid)}
            ready = len(workers) == 2 and all(len(descendants(pid)) >= 3 for pid in workers)
            tree = descendants(batch.pid)  # after the check: every process it saw is in the tree
            if ready or batch.poll() is not None:
                break
            time.sleep(0.1)
        assert batch.poll() is None and len(workers) == 2 and len(tree) >= 8, batch.stderr.read()
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait()
        for _ in range(100):  # a few seconds for the kernel and the workers' handlers to act
            if not alive(tree):
                break
            time.sleep(0.1)
        assert not alive(tree), f"still running after the batch was killed: {sorted(alive(tree))}"
    finally:
        for pid in alive(tree):  # never leave them behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
        batch.kill()
        batch.wait()


IDLE_POOL = """\
import os, signal, sys, time
from grader.classroom import worker_pool

worker_pool._term_on_parent_death = lambda: None  # leave only the pipe's EOF to tell them
with worker_pool.WorkerPool(print, 3) as pool:
    print(" ".join(str(worker.process.pid) for worker in pool.workers), flush=True)
    time.sleep(120)
"""


def test_idle_workers_see_the_end_of_their_pipe_when_the_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", IDLE_POOL], stdout=subprocess.PIPE, text=True)
    workers = set()
    try:
        workers = {int(pid) for pid in parent.stdout.readline().split()}
        assert len(workers) == 3 and alive(workers) == workers
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(100):
            if not alive(workers):
                break
            time.sleep(0.1)
        assert not alive(workers), f"still running after their parent was killed: {sorted(alive(workers))}"
    finally:
        for pid in alive(workers):
            os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


SECRET = "TOPSECRET-4711 this line is not Python\n"


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A class folder with links, identical files and ids a spreadsheet would run, graded once."""
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "class"
    folder.mkdir()
    correct, keepdims = (CORPUS / "correct_vectorized.py").read_text(), (CORPUS / "db_missing_keepdims.py").read_text()
    for student, code in {
        "alice": correct,
        "bob": correct,
        "carol": keepdims,
        "dave": keepdims,
        "erin": correct,
        '=HYPERLINK("evil.example","click")': keepdims + "# 1\n",
        "-1": correct + "# 2\n",
        "@SUM(1+1)": correct + "# 3\n",
        "+cmd|'x'!A0": correct + "# 4\n",
    }.items():
        (folder / f"{student}.py").write_text(code)
    (folder / "erin.py").write_text(correct + "# erin's own\n")
    (root / "secret.py").write_text(SECRET)
    (folder / "mallory.py").symlink_to(folder / "alice.py")  # a classmate's file
    (folder / "eve.py").symlink_to(root / "secret.py")  # a file outside the class
    (folder / "ghost.py").symlink_to(folder / "nowhere.py")  # dangling
    result = run_grade("batch", folder, "-e", "softmax", "--out", root / "out", "--timeout", "1", "-j", "2")
    return root, result


def grades(path):
    """{student: [task scores..., total]} (the diagnosis codes' columns after the total left out)."""
    with open(path, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    return {row[0]: row[1 : header.index("total") + 1] for row in rows}


def test_symbolic_links_get_a_zero_row_with_the_reason_and_are_never_read(hostile_class):
    root, result = hostile_class
    assert result.returncode == 0, result.stderr
    table = grades(root / "out" / "grades.csv")
    assert table["alice"][-1] == "4"
    for student in ("mallory", "eve", "ghost"):
        assert table[student] == ["0"] * 5, student
        feedback = (root / "out" / "feedback" / f"{student}.txt").read_text()
        assert f"{student}.py is a symbolic link: submissions must be regular files" in feedback
    summary = (root / "out" / "summary.txt").read_text()
    assert "mallory: mallory.py is a symbolic link: submissions must be regular files" in summary
    everything = (
        result.stdout
        + result.stderr
        + "".join(path.read_text() for path in (root / "out").rglob("*") if path.is_file() and path.suffix != ".png")
    )
    assert "TOPSECRET" not in everything


def test_a_file_swapped_for_a_link_after_discovery_is_refused(tmp_path):
    from grader import exercises
    from grader.classroom.batch import discover, run

    (tmp_path / "class").mkdir()
    shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / "class" / "alice.py")
    (tmp_path / "secret.py").write_text(SECRET)
    items = discover(tmp_path / "class", "softmax")
    (tmp_path / "class" / "alice.py").unlink()
    (tmp_path / "class" / "alice.py").symlink_to(tmp_path / "secret.py")
    outcome = run(
        items, exercises.load("softmax"), tmp_path / "out", {"timeout": 1.0, "seed": 0, "memory_mb": 1024}, jobs=1
    )
    result = outcome.reports["alice"]
    assert result.score == 0 and "is a symbolic link" in result.unreadable
    assert "TOPSECRET" not in json.dumps(result.to_dict())


def test_links_in_the_nbgrader_layout_are_refused_at_any_depth(tmp_path):

    code = (CORPUS / "correct_vectorized.py").read_text()
    notebook = json.dumps(
        {
            "cells": [{"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None}],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    submitted = tmp_path / "course" / "submitted"
    (submitted / "alice" / "ps1").mkdir(parents=True)
    (submitted / "alice" / "ps1" / "softmax.ipynb").write_text(notebook)
    (submitted / "bob").symlink_to(submitted / "alice")  # the student's directory
    (submitted / "carol").mkdir()
    (submitted / "carol" / "ps1").symlink_to(submitted / "alice" / "ps1")  # the assignment's directory
    (submitted / "dave" / "ps1").mkdir(parents=True)
    (submitted / "dave" / "ps1" / "softmax.ipynb").symlink_to(submitted / "alice" / "ps1" / "softmax.ipynb")
    result = run_grade("batch", tmp_path / "course", "-e", "softmax", "--out", tmp_path / "out", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    table = grades(tmp_path / "out" / "grades.csv")
    assert {student: row[-1] for student, row in table.items()} == {"alice": "4", "bob": "0", "carol": "0", "dave": "0"}
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert "bob: bob is a symbolic link: submissions must be regular files" in summary
    assert "carol: carol/ps1 is a symbolic link" in summary
    assert "dave: dave/ps1/softmax.ipynb is a symbolic link" in summary


def test_identical_submissions_are_named_in_the_summary(hostile_class):
    root, _ = hostile_class
    summary = (root / "out" / "summary.txt").read_text()
    assert "identical submissions (same sha256): 2 groups" in summary
    assert "  bob: identical to alice" in summary and "  dave: identical to carol" in summary
    assert "erin" not in summary  # her file differs by one comment
    data = json.loads((root / "out" / "summary.json").read_text())
    assert data["identical"] == [["alice", "bob"], ["carol", "dave"]]


def test_cells_a_spreadsheet_would_run_are_inert_and_numbers_stay_numbers(hostile_class):
    root, _ = hostile_class
    table = grades(root / "out" / "grades.csv")
    assert table['\'=HYPERLINK("evil.example","click")'] == ["1", "1", "1", "0", "3"]
    assert table["'@SUM(1+1)"][-1] == "4" and table["'+cmd|'x'!A0"][-1] == "4"
    assert table["-1"][-1] == "4"  # a number, not a formula: left as it is
    for row in [list(table), *table.values()]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "@", "\t", "\r") and (cell[:1] != "-" or cell == "-1"), cell


def test_every_cell_of_grades_csv_is_escaped(tmp_path):
    from grader import exercises
    from grader.checking.results import Report, TaskResult
    from grader.classroom.batch import write_grades

    row = Report("softmax", "", "", 4, 4, (TaskResult("forward", 1, 1, True),))
    write_grades(
        tmp_path / "grades.csv",
        {"\tx": row, "\rcmd": row, "-2.5e3": row, "-x": row, "plain": row},
        exercises.load("softmax"),
    )
    # A carriage return is shown as its escape (shown.escaped_name), as every control character is.
    assert list(grades(tmp_path / "grades.csv")) == ["'\tx", "\\x0dcmd", "-2.5e3", "'-x", "plain"]


@pytest.mark.parametrize("by_path", [False, True], ids=["openat", "lstat fallback"])
def test_read_regular_file_reads_only_regular_files_reached_without_links(tmp_path, by_path):
    from grader.classroom import regular_files
    from grader.classroom.regular_files import NotRegularFile

    def read(relative):
        if by_path:
            return regular_files._read_checked_by_path(tmp_path / "class", Path(relative).parts, 1 << 20)
        return regular_files.read_regular_file(tmp_path / "class", relative, 1 << 20)

    (tmp_path / "class" / "alice" / "ps1").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "ps1" / "a.py").write_text("x = 1\n")
    (tmp_path / "class" / "bob").symlink_to(tmp_path / "class" / "alice")
    (tmp_path / "class" / "link.py").symlink_to(tmp_path / "class" / "alice" / "ps1" / "a.py")
    os.mkfifo(tmp_path / "class" / "fifo.py")  # opening it for reading would wait for a writer forever
    assert read("alice/ps1/a.py") == b"x = 1\n"
    with pytest.raises(NotRegularFile, match="^bob is a symbolic link: submissions must be regular files$"):
        read("bob/ps1/a.py")
    with pytest.raises(NotRegularFile, match="^link.py is a symbolic link"):
        read("link.py")
    with pytest.raises(NotRegularFile, match="fifo.py is not a regular file"):
        read("fifo.py")
    with pytest.raises(FileNotFoundError):
        read("nobody.py")
    if not by_path:
        with pytest.raises(NotRegularFile, match="not inside the class directory"):
            read("../class/alice/ps1/a.py")


@pytest.mark.parametrize("when", ["after a folder is closed", "after the file object is made"])
def test_a_ctrl_c_while_a_file_is_read_is_a_keyboard_interrupt_and_nothing_is_closed_twice(tmp_path, monkeypatch, when):
    """A Ctrl-C that came between closing a folder's descriptor and forgetting it closed it again: the
    EBADF of the second close hid the KeyboardInterrupt (the run went on, the student got a zero row
    "cannot read: Bad file descriptor"), and a descriptor another thread had just opened could be closed."""
    from grader.classroom import regular_files

    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "a.py").write_text("x = 1\n")
    opened, made = set(), []  # descriptors the reader owns; file objects made of them

    class Interrupting:  # the module's os, with a Ctrl-C arriving just after one call returns
        def __getattr__(self, name):
            return getattr(os, name)

        @property
        def supports_dir_fd(self):  # so that the openat path is taken, with this open
            return os.supports_dir_fd | {self.open}

        def open(self, *args, **kwargs):
            fd = os.open(*args, **kwargs)
            opened.add(fd)
            return fd

        def close(self, fd):
            assert fd in opened, f"descriptor {fd} closed twice, or closed under its file object"
            opened.discard(fd)
            os.close(fd)
            if when == "after a folder is closed" and not made:
                made.append(None)  # once
                raise KeyboardInterrupt

        def fdopen(self, fd, mode):
            handle = os.fdopen(fd, mode)
            opened.discard(fd)  # the file object owns it now
            if when == "after the file object is made":
                made.append(handle)
                raise KeyboardInterrupt
            return handle

    monkeypatch.setattr(regular_files, "os", Interrupting())
    with pytest.raises(KeyboardInterrupt):
        regular_files.read_regular_file(tmp_path / "class", "alice/a.py", 1 << 20)
    for handle in filter(None, made):
        handle.close()  # its descriptor, once
    assert len(opened) <= 1  # a Ctrl-C between two lines may leak one descriptor: never close one twice

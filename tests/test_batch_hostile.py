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

import pytest

from conftest import SUBMISSIONS, grade_command, run_grade

CORPUS = SUBMISSIONS / "softmax"
SLEEPER = """\
import time
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


def alive(pids):
    """The pids still running (a zombie is dead: it only waits to be reaped)."""
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][1] not in "ZX"}


def test_workers_and_their_sandboxes_die_with_a_killed_batch(tmp_path):
    (tmp_path / "class").mkdir()
    for i in range(6):
        (tmp_path / "class" / f"student{i}.py").write_text(SLEEPER)
    command = grade_command() + ["batch", str(tmp_path / "class"), "-e", "softmax", "--out", str(tmp_path / "out"),
                                 "--timeout", "60", "-j", "2"]
    batch = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree = set()
    try:
        # Wait until both workers are grading: each has a sandboxed child of its own.
        for _ in range(600):
            tree = descendants(batch.pid)
            workers = {pid for pid, (ppid, _) in processes().items() if ppid == batch.pid}
            if len(workers) == 2 and len(tree) >= 4 or batch.poll() is not None:
                break
            time.sleep(0.1)
        assert batch.poll() is None and len(tree) >= 4, batch.stderr.read()
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
    parent = subprocess.Popen([sys.executable, "-c", IDLE_POOL], stdout=subprocess.PIPE,
                              text=True)
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

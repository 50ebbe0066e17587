"""The portable backend (a fresh interpreter per submission), and the grader without Linux's features.

macOS and Windows are simulated on Linux: tests/no_linux_features.py takes os.fork,
memfd, resource, prctl and /proc away from the grader's process and says the platform
is darwin. The backend is forced with GRADE_SANDBOX=portable.
"""

import json
import subprocess
import sys

import pytest
from conftest import ROOT, SUBMISSIONS, assert_verdicts, expectations, solution_text

from grader import exercises
from grader.checking.grading import grade_file

WITHOUT_LINUX = ROOT / "tests" / "no_linux_features.py"


def without_linux(*args):
    return subprocess.run(
        [sys.executable, str(WITHOUT_LINUX), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_import_list_and_check_work_without_fork_resource_prctl_or_proc(tmp_path):
    listed = without_linux("list")
    assert listed.returncode == 0 and "softmax:" in listed.stdout, listed.stderr
    correct = without_linux("check", "solutions/softmax.py")
    assert correct.returncode == 0 and "\nsoftmax: 4/4 points\n" in correct.stdout, correct.stderr
    # Below the score, only the layers this machine lacks: every layer but the limits here.
    note = correct.stdout.split("softmax: 4/4 points\n", 1)[1].splitlines()
    assert note[0].startswith("  sandbox layers missing on this machine")
    assert [line.split()[0] for line in note[1:]] == ["files", "network", "processes", "identity"]
    buggy = without_linux("check", SUBMISSIONS / "softmax" / "db_missing_keepdims.py", "-e", "softmax", "--json")
    report = json.loads(buggy.stdout)
    assert buggy.returncode == 1 and report["score"] == 3
    assert report["tasks"][3]["diagnoses"] == ["missing_keepdims"]
    assert report["sandbox"]["backend"] == "portable"


def test_doctor_says_the_portable_backend_has_no_jail_and_batch_refuses_others_code(tmp_path):
    doctor = without_linux("doctor")
    assert doctor.returncode == 1 and "sandbox: portable backend" in doctor.stdout
    assert "refused here (missing: files, network, processes)" in doctor.stdout
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_text(solution_text())
    refused = without_linux("batch", tmp_path / "class", "-e", "softmax", "--out", tmp_path / "out")
    assert refused.returncode == 2 and "refusing to grade others' code" in refused.stderr
    assert refused.stderr.count("\n") == 1


@pytest.fixture
def portable(monkeypatch):
    monkeypatch.setenv("GRADE_SANDBOX", "portable")


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted((SUBMISSIONS / "softmax").glob("*.py")), ids=lambda p: p.stem)
def test_the_softmax_corpus_gets_the_same_verdicts_under_the_portable_backend(portable, path):
    assert_verdicts(grade_file(path, exercises.load("softmax"), timeout=2.0), expectations(path))


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    sorted((SUBMISSIONS / "two_layer").glob("*.py")) + sorted((SUBMISSIONS / "n_layer").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_the_deep_corpora_get_the_same_verdicts_under_the_portable_backend(portable, path):
    assert_verdicts(grade_file(path, exercises.load(path.parent.name)), expectations(path))


def test_the_portable_backend_stops_a_loop_and_a_memory_bomb(portable, write):
    code = solution_text() + (
        "\nimport numpy as np\ndef dZ(P, y):\n    return np.ones((1 << 40,))\n"
        "def dW(X, dZ):\n    while True:\n        pass\n"
    )
    report = grade_file(write("softmax.py", code), exercises.load("softmax"), timeout=1.0, memory_mb=256)
    assert [(task.name, task.diagnoses) for task in report.tasks] == [
        ("forward", ()),
        ("dZ", ("out_of_memory",)),
        ("dW", ("timeout",)),
        ("db", ()),
    ]


def test_the_portable_backend_watches_the_memory_of_the_whole_tree(portable, write):
    """Each process under its own RLIMIT_AS, together over the cap: the watcher (psutil) kills the tree,
    as it does where RLIMIT_AS is not honoured (macOS, Windows)."""
    code = (
        solution_text()
        + """
import os, time
def dZ(P, y):
    for _ in range(4):
        if os.fork() == 0:
            hoard = bytearray(120 << 20)  # touched: resident, 120 MiB in each of 5 processes
            for i in range(0, len(hoard), 4096):
                hoard[i] = 1
            time.sleep(30)
            os._exit(0)
    hoard = bytearray(120 << 20)
    for i in range(0, len(hoard), 4096):
        hoard[i] = 1
    time.sleep(30)
"""
    )
    report = grade_file(write("softmax.py", code), exercises.load("softmax"), timeout=20.0, memory_mb=256)
    dz = report.task("dZ")
    assert dz.diagnoses == ("out_of_memory",), dz.fact
    assert "the limit is 256 MiB" in dz.fact

"""Untrusted code: each attack ends in the right verdict, in bounded time, and
grading goes on. The solution's functions are prepended or appended so that the
tasks the attack does not touch must still pass."""

import json
import time

import pytest
from conftest import run_grade, solution_text

from grader import exercises
from grader.checking.grading import grade_file

SOFTMAX = exercises.load("softmax")
SOLUTION = solution_text()


def grade_code(write, code, name="softmax.py", timeout=2.0, memory_mb=1024):
    return grade_file(write(name, code), SOFTMAX, timeout=timeout, memory_mb=memory_mb)


def verdicts(report):
    return {task.name: (task.passed, list(task.diagnoses)) for task in report.tasks}


def all_tasks(code):
    return {task.name: (False, [code]) for task in SOFTMAX.tasks}


def test_sys_exit_at_import_fails_every_task_as_crashed(write):
    report = grade_code(write, SOLUTION + "\nimport sys\nsys.exit(0)\n")
    assert verdicts(report) == all_tasks("crashed")
    assert "sys.exit(0)" in report.tasks[0].fact and "while loading" in report.tasks[0].fact


def test_os_exit_at_import_fails_every_task_as_crashed(write):
    report = grade_code(write, SOLUTION + "\nimport os\nos._exit(0)\n")
    assert verdicts(report) == all_tasks("crashed")
    assert "exited with code 0" in report.tasks[0].fact


def test_exception_at_import_names_the_learners_line(write):
    report = grade_code(write, SOLUTION + "\nx = 1\nundefined_name + x\n")
    assert verdicts(report) == all_tasks("import_error")
    task = report.tasks[0]
    assert "NameError" in task.fact
    line = len(SOLUTION.split("\n")) + 2
    assert task.details == (f"at softmax.py, line {line}: undefined_name + x",)


def test_syntax_error_gives_its_line(write):
    report = grade_code(write, "import numpy as np\n\ndef forward(X, W, b)\n    return X\n")
    assert verdicts(report) == all_tasks("import_error")
    assert "SyntaxError" in report.tasks[0].fact
    assert report.tasks[0].details[0].startswith("at softmax.py, line 3")


def test_infinite_loop_at_import_times_out_every_task(write):
    start = time.monotonic()
    report = grade_code(write, "while True:\n    pass\n", timeout=1.0)
    assert verdicts(report) == all_tasks("timeout")
    assert report.tasks[0].fact == "the file did not finish running within 1 s"
    assert report.tasks[0].hint.startswith("the code outside your functions")
    assert time.monotonic() - start < 30  # bounded: one load timeout, not one per task


@pytest.mark.slow
def test_running_the_file_may_take_as_long_as_the_slowest_task(write):
    # A notebook may call train in a cell: loading gets train's 60 s, not --timeout.
    two_layer = exercises.load("two_layer")
    code = solution_text("two_layer") + "\nimport time\ntime.sleep(1.5)\n"
    report = grade_file(write("two_layer.py", code), two_layer, timeout=1.0)
    assert report.score == two_layer.max_score, [t.fact for t in report.tasks if not t.passed]


def test_infinite_loop_in_one_task_costs_that_task_only(write):
    report = grade_code(write, SOLUTION + "\ndef dW(X, dZ):\n    while True:\n        pass\n", timeout=1.0)
    assert verdicts(report) == {"forward": (True, []), "dZ": (True, []), "dW": (False, ["timeout"]), "db": (True, [])}
    assert "did not return within 1 s" in report.tasks[2].fact


def test_exception_in_a_task_shows_type_message_and_line(write):
    code = SOLUTION + "\ndef dZ(P, y):\n    G = P.copy()\n    raise ValueError('labels look wrong')\n"
    report = grade_code(write, code)
    task = report.tasks[1]
    assert (task.passed, task.diagnoses) == (False, ("exception",))
    assert "ValueError: labels look wrong" in task.fact
    assert (
        task.details[0]
        == f"at softmax.py, line {len(SOLUTION.split(chr(10))) + 3}: raise ValueError('labels look wrong')"
    )
    assert [t.passed for t in report.tasks] == [True, False, True, True]


def test_sys_exit_inside_a_task_costs_that_task_only(write):
    report = grade_code(write, SOLUTION + "\nimport sys\ndef dW(X, dZ):\n    sys.exit(3)\n")
    assert verdicts(report)["dW"] == (False, ["crashed"])
    assert [t.passed for t in report.tasks] == [True, True, False, True]


def test_memory_bomb_is_stopped_by_the_cap(write):
    code = SOLUTION + "\nimport numpy as np\ndef dZ(P, y):\n    return np.ones((1 << 40,))\n"
    report = grade_code(write, code, memory_mb=256)
    assert verdicts(report)["dZ"] == (False, ["out_of_memory"])
    assert "dZ ran out of memory" in report.tasks[1].fact and "sys.exit" not in report.tasks[1].fact
    assert [t.passed for t in report.tasks] == [True, False, True, True]


def test_memory_bomb_growing_slowly_is_stopped_too(write):
    code = SOLUTION + "\ndef db(dZ):\n    hoard = []\n    while True:\n        hoard.append(bytearray(1 << 20))\n"
    report = grade_code(write, code, memory_mb=256, timeout=10)
    assert verdicts(report)["db"] == (False, ["out_of_memory"])


@pytest.mark.parametrize(
    "patch",
    [
        "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None",
        "import builtins\nbuiltins.abs = lambda x: 0\nbuiltins.max = lambda *a, **k: 0",
        "np.linalg.norm = lambda *a, **k: 0.0\nnp.sum = lambda *a, **k: 0.0",
    ],
)
def test_monkeypatching_numpy_or_builtins_does_not_change_the_verdict(write, patch):
    code = f"import numpy as np\n{patch}\ndef db(dZ):\n    return np.zeros((1, dZ.shape[1]))\n"
    report = grade_code(write, code)
    assert verdicts(report)["db"] == (False, ["wrong_value"])
    assert report.score == 0


def test_importing_the_grader_from_a_submission_is_refused(write):
    code = "import grader.checks\ngrader.checks.matches = lambda *a, **k: None\n" + SOLUTION
    report = grade_code(write, code)
    assert verdicts(report) == all_tasks("import_error")
    assert "cannot be imported" in report.tasks[0].fact


def test_printed_forged_report_never_reaches_stdout(write):
    forged = json.dumps({"exercise": "softmax", "score": 4, "max_score": 4, "tasks": []})
    path = write(
        "softmax.py",
        f"import sys\nprint({forged!r})\nprint('10/10')\n"
        f"sys.stderr.write('4/4 points')\n" + SOLUTION.replace("return G / m", "return G"),
    )
    result = run_grade("check", path, "--json")
    report = json.loads(result.stdout)  # exactly one JSON object: nothing else on stdout
    assert report["score"] == 3 and result.returncode == 1
    assert "10/10" not in result.stdout and "4/4" not in result.stderr


def test_submitted_code_cannot_kill_the_grader_or_write_to_its_stdout(write):
    path = write(
        "softmax.py",
        """
import os, signal
for attack in (lambda: os.kill(os.getppid(), signal.SIGKILL),
               lambda: open(f"/proc/{os.getppid()}/fd/1", "w").write('{"score": 4}')):
    try:
        attack()
    except OSError:
        pass
""",
    )
    result = run_grade("check", path, "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["score"] == 0
    assert {d for t in report["tasks"] for d in t["diagnoses"]} == {"missing_function"}


def test_grading_goes_on_after_the_process_crashes_mid_task(write):
    report = grade_code(write, SOLUTION + "\nimport ctypes\ndef dZ(P, y):\n    ctypes.string_at(0)\n")
    assert verdicts(report)["dZ"] == (False, ["crashed"])
    assert "SIGSEGV" in report.tasks[1].fact
    assert [t.passed for t in report.tasks] == [True, False, True, True]


def test_a_submission_may_not_send_itself_the_signals_reserved_for_outsiders(write):
    # SIGKILL may only come from outside (seccomp): so a process killed by it is not the student's doing.
    report = grade_code(
        write, SOLUTION + "\nimport os, signal\ndef dZ(P, y):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    assert verdicts(report)["dZ"] == (False, ["exception"])
    assert "PermissionError" in report.tasks[1].fact


CHEAT = '''
import gc, sys
import numpy as np

def _steal(inputs, shape):
    """Look through the process's memory (objects and stack frames) for the grader's answer."""
    candidates = []
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            candidates.extend(v for v in list(obj.values()) if isinstance(v, (np.ndarray, tuple)))
    frame = sys._getframe()
    while frame is not None:
        candidates.extend(v for v in frame.f_locals.values() if isinstance(v, np.ndarray))
        frame = frame.f_back
    for value in candidates:
        for item in (value if isinstance(value, tuple) else (value,)):
            if isinstance(item, np.ndarray) and item.shape == shape and item.dtype == np.float64 \\
                    and not any(item is x or np.array_equal(item, x) for x in inputs):
                if abs(item.sum()) < 1e-9:  # a dZ sums to 0 over each row
                    return item.copy()
    return np.zeros(shape)

def dZ(P, y):
    return _steal([P], P.shape)

def db(dZ):
    return _steal([dZ], (1, dZ.shape[1]))
'''


def test_the_grader_answers_cannot_be_read_from_the_learner_process_memory(write):
    # Grade twice in one process, so the answers of the first run are cached in the
    # grader when the second submission's process is forked from it.
    grade_code(write, SOLUTION, name="first.py")
    report = grade_code(write, CHEAT)
    assert verdicts(report)["dZ"][0] is False and verdicts(report)["db"][0] is False
    assert report.score == 0


@pytest.mark.parametrize(
    "extra",
    [
        # 20 MB of prints in forward: more than the output file may hold
        "_forward = forward\ndef forward(X, W, b):\n    for i in range(200_000):\n        print('debug', i, '.' * 90)\n"
        "    return _forward(X, W, b)\n",
        # a "tee" logger without flush() in place of sys.stdout
        "import sys\nclass Tee:\n    def __init__(self):\n        self.out = sys.stdout\n"
        "    def write(self, text):\n        self.out.write(text)\nsys.stdout = Tee()\nprint('logging')\n",
        # a script that locates itself
        "import os\nHERE = os.path.dirname(os.path.abspath(__file__))\n",
    ],
)
def test_correct_code_that_prints_a_lot_or_replaces_stdout_keeps_full_marks(write, extra):
    report = grade_code(write, SOLUTION + "\n" + extra, timeout=10.0)
    assert [(t.name, t.passed, t.diagnoses) for t in report.tasks] == [(t.name, True, ()) for t in SOFTMAX.tasks]
    assert len(report.output) <= 64 << 10


def test_an_exception_that_cannot_be_printed_is_said_so(write):
    code = (
        SOLUTION + "\nclass Weird(Exception):\n    def __str__(self):\n        raise ValueError('no')\n"
        "def dZ(P, y):\n    raise Weird()\n"
    )
    report = grade_code(write, code)
    assert verdicts(report)["dZ"] == (False, ["exception"])
    assert "raised Weird: (its message cannot be printed: Weird.__str__ itself raised an error)" in report.tasks[1].fact
    assert "sys.exit" not in report.tasks[1].fact


def test_running_out_of_memory_while_sending_a_huge_view_back_is_said_so(write):
    # 8 GiB of a broadcast view: nothing to compute, but copying it out for the grader needs the memory.
    code = (
        SOLUTION + "\nimport numpy as np\ndef dZ(P, y):\n    return np.broadcast_to(np.zeros(1), (1 << 20, 1 << 10))\n"
    )
    report = grade_code(write, code, memory_mb=256)
    task = report.tasks[1]
    assert verdicts(report)["dZ"] == (False, ["shape_mismatch"])
    assert "returned 8192 MiB of arrays, more than the 64 MiB a result may hold" in (task.fact + task.hint)


def test_running_out_of_memory_while_copying_a_result_out_is_said_so(write):
    # Under the size limit but over the memory left: the copy for the pipe fails, not the learner's code.
    code = SOLUTION + (
        "\nimport numpy as np\nHOARD = []\ndef dZ(P, y):\n"
        "    view = np.broadcast_to(np.zeros(1), (7 << 20,))\n"
        "    try:\n        while True:\n            HOARD.append(bytearray(8 << 20))\n"
        "    except MemoryError:\n        HOARD.pop(); HOARD.pop()\n"
        "    return view\n"
    )
    report = grade_code(write, code, memory_mb=256)
    task = report.tasks[1]
    assert verdicts(report)["dZ"] == (False, ["out_of_memory"]), task.fact + task.hint
    assert "ran out of memory: ran out of memory while returning the result" not in (task.fact + task.hint)
    assert "while returning the result" in (task.fact + task.hint) and "sys.exit" not in (task.fact + task.hint)

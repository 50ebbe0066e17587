"""A hostile student against the verdicts: what a submission returns or does inside its own sandbox
must never crash the grader, hang it, earn points it does not deserve, or cost a classmate theirs.

Each attack runs through the real command line (`grade check FILE --json`, `grade batch`), on a
reference solution with one function replaced, so that every task the attack does not touch must
still pass. An attack the grader withstands asserts the verdict it gets; one it does not yet
withstand is marked xfail with the reason (one is left: gradients by finite differences).
"""

import csv
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, run_grade
from test_jail import _runners, command, environment

from grader.stubs import strip_markers

pytestmark = pytest.mark.slow  # a command-line run per attack: the full suite runs them


def solution(exercise):
    return strip_markers((ROOT / "solutions" / f"{exercise}.py").read_text())


# The ReLU exercises' reference, with train left undone: it is not what these attacks are about,
# and training costs seconds per run.
NO_TRAIN = "\n\ndef train(X, y, hidden_sizes, seed):\n    raise NotImplementedError\n"


def check(tmp_path, exercise, attack, *options, base=None):
    """`grade check --json` on the reference solution of `exercise` followed by `attack` (which
    redefines what it attacks): (exit code, the JSON report, {task: task dict})."""
    text = (solution(exercise) if base is None else base) + textwrap.dedent(attack)
    path = tmp_path / f"{exercise}.py"
    path.write_text(text)
    done = run_grade("check", path, "--json", *options)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(done.stdout)
    return done.returncode, report, {task["name"]: task for task in report["tasks"]}


def part(task, name):
    return next(item for item in task["parts"] if item["name"] == name)


def others_pass(tasks, *attacked):
    return all(task["passed"] for name, task in tasks.items() if name not in attacked)


# == the gradient checks cannot be fooled by what the gradients hold ============================
HUGE_ENTRY = """
_right = loss_and_grads

def loss_and_grads(X, y, params, reg):
    loss, _ = _right(X, y, params, reg)
    grads = {key: np.zeros_like(value) for key, value in params.items()}
    grads["b2"][0, 0] = 1e200  # finite, but its square overflows
    return loss, grads
"""


def test_a_gradient_whose_norm_overflows_is_not_the_gradient(tmp_path):
    """All zeros but one finite entry so large that its square overflows: a denominator built from
    the submission's own gradient became inf, and every directional probe then agreed."""
    _, _, tasks = check(tmp_path, "two_layer", HUGE_ENTRY, base=solution("two_layer") + NO_TRAIN)
    task = tasks["loss_and_grads"]
    assert part(task, "loss")["passed"]
    grads = part(task, "grads")
    assert not grads["passed"] and grads["score"] == 0 and grads["diagnoses"] == ["wrong_value"], grads
    assert "grads['b2']" in grads["fact"]


WRONG_SHAPE_HUGE = """
_right = loss_and_grads

def loss_and_grads(X, y, params, reg):
    loss, grads = _right(X, y, params, reg)
    grads["b2"] = np.full(params["b2"].shape[1], 1e200)  # the shape of a missing keepdims, not its values
    return loss, grads
"""


def test_a_wrong_shape_full_of_huge_entries_is_not_named_as_a_known_mistake(tmp_path):
    _, _, tasks = check(tmp_path, "two_layer", WRONG_SHAPE_HUGE, base=solution("two_layer") + NO_TRAIN)
    grads = part(tasks["loss_and_grads"], "grads")
    assert not grads["passed"] and grads["diagnoses"] == ["shape_mismatch"], grads


# Gradients taken by finite differences of the learner's own loss: no backpropagation written at all.
FINITE_DIFFERENCES = """
def _loss(X, y, params, reg):
    layers = len(params) // 2
    A = X
    for l in range(1, layers):
        A = np.maximum(A @ params[f"W{l}"] + params[f"b{l}"], 0.0)
    S = A @ params[f"W{layers}"] + params[f"b{layers}"]
    S = S - S.max(axis=1, keepdims=True)
    log_p = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    penalty = 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, layers + 1))
    return -log_p[np.arange(len(y)), y].mean() + penalty


def loss_and_grads(X, y, params, reg):
    h, grads = 1e-6, {}
    for key, value in params.items():
        grads[key] = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            moved = {k: v.copy() for k, v in params.items()}
            moved[key][index] += h
            up = _loss(X, y, moved, reg)
            moved[key][index] -= 2 * h
            grads[key][index] = (up - _loss(X, y, moved, reg)) / (2 * h)
    return _loss(X, y, params, reg), grads
"""


@pytest.mark.xfail(
    strict=True,
    reason="not backpropagation, yet it passes: every expected gradient is the true gradient, which finite "
    "differences of the learner's own loss reproduce to 1e-9 on every case (the largest net has 603 parameters, "
    "1206 cheap forward passes, well within the time limit); the same holds for affine_backward and relu_backward",
)
def test_gradients_by_finite_differences_of_the_learners_own_loss_are_not_backprop(tmp_path):
    _, _, tasks = check(tmp_path, "two_layer", FINITE_DIFFERENCES, base=solution("two_layer") + NO_TRAIN)
    task = tasks["loss_and_grads"]
    assert part(task, "loss")["passed"]
    assert not part(task, "grads")["passed"], task


# == what comes back must be judged by the learner's mistake, never blamed on the grader ============
SANDBOX_BLAMED = "talking to the grader"  # how a failure of the sandbox's own side is worded


@pytest.mark.parametrize(
    "attack",
    [
        "def db(dZ):\n    return 10**400\n",  # an int no float can hold
        "class Ints(list):\n    def __iter__(self):\n        raise ValueError('no')\n\n"
        "def db(dZ):\n    return Ints([1, 2])\n",
        "class Items(dict):\n    def items(self):\n        raise ValueError('no')\n\n"
        "def db(dZ):\n    return Items(a=1)\n",
        "class Number(float):\n    def __float__(self):\n        raise ValueError('no')\n\n"
        "def db(dZ):\n    return Number(1.0)\n",
        "def db(dZ):\n    return [0.0] * 20_000\n",  # more values than a reply may hold
        "def db(dZ):\n    return {'k' * 2_000_000: 1}\n",  # a reply header over its limit
    ],
    ids=["int_too_large", "list_iter_raises", "dict_items_raises", "float_raises", "long_list", "long_key"],
)
def test_a_value_that_cannot_be_sent_back_is_the_wrong_type_not_a_crash(tmp_path, attack):
    _, _, tasks = check(tmp_path, "softmax", "\n" + attack)
    db = tasks["db"]
    assert others_pass(tasks, "db")
    assert db["diagnoses"] in (["wrong_type"], ["exception"]) and SANDBOX_BLAMED not in db["fact"], db


def test_a_default_nested_deeper_than_the_stack_is_the_learners_mistake_not_a_grader_bug(tmp_path):
    """A failing task's signature is shown with the parameter mistake it may have: `ast.unparse` of a
    default of 2,000 terms (`b=1+1+...`, which Python parses and runs) recursed past the stack, and
    `grade check` exited 3 (a bug of the grader), as `grade batch` did, leaving the row ungraded on
    every run."""
    attack = "def dW(X, dZ, scale=" + "+".join(["1"] * 2000) + "):\n    return scale * X.T @ dZ\n"
    code, _, tasks = check(tmp_path, "softmax", "\n" + attack)
    assert code == 1 and others_pass(tasks, "dW") and tasks["dW"]["diagnoses"] == ["wrong_value"], tasks["dW"]
    assert len(tasks["dW"]["fact"]) < 1000, tasks["dW"]["fact"]


def test_a_file_whose_lines_end_in_carriage_returns_alone_is_graded_as_python_reads_it(tmp_path):
    """Python ends a line at \\r, \\r\\n or \\n; the grader's edits of the source (feedback calls left
    out, a file that runs too long graded on its definitions) counted lines at \\n only, and `grade
    check` exited 3 (IndexError) on a right solution saved with old Mac line endings."""
    text = solution("softmax") + 'from grader import feedback\nfeedback("softmax", "db", globals())\n'
    code, report, _ = check(tmp_path, "softmax", "", base=text.replace("\n", "\r"))
    assert code == 0 and report["score"] == report["max_score"], report


def test_the_graders_own_reading_of_the_source_prints_nothing_of_the_learners(tmp_path):
    """The grader parses the source itself (feedback calls, imports, definitions, signatures), and
    Python's parser warns on stderr about what it reads, with the file's name and the learner's text
    unescaped: an invalid escape ("\\d") is a DeprecationWarning that Python 3.11 shows for a file
    named __main__.py, and on 3.12 a SyntaxWarning shown for any file, under a name such as
    "\\x1b]0;owned\\x07.py" in a class folder (tried by hand): escape sequences on the instructor's
    terminal. Here the file's top level runs too long, so its definitions are read and graded."""
    text = solution("softmax") + 'pattern = "\\d"\nwhile True:\n    pass\n'
    path = tmp_path / "__main__.py"
    path.write_text(text)
    done = run_grade("check", path, "-e", "softmax", "--timeout", "1")
    assert done.returncode == 0 and "4/4" in done.stdout, done.stdout + done.stderr
    assert "Warning" not in done.stderr and "\\d" not in done.stderr, done.stderr


def test_the_learners_own_exit_with_the_sandboxs_code_is_not_called_the_graders_failure(tmp_path):
    # 70 is the code the sandbox's side exits with when its channel fails: a learner can use it too,
    # so the words may not claim the grader failed.
    _, _, tasks = check(tmp_path, "softmax", "\nimport os\n\ndef db(dZ):\n    os._exit(70)\n")
    db = tasks["db"]
    assert others_pass(tasks, "db") and db["diagnoses"] == ["crashed"], db
    assert "os._exit(70)" in db["fact"] and "sandbox's side failed" not in db["fact"], db["fact"]


LOAD_RAISES_BASE_EXCEPTION = """
class Stop(BaseException):
    pass

raise Stop("not an Exception")
"""


def test_a_base_exception_while_loading_is_the_files_error(tmp_path):
    _, report, tasks = check(tmp_path, "softmax", LOAD_RAISES_BASE_EXCEPTION)
    assert all(task["diagnoses"] == ["import_error"] for task in tasks.values()), report
    assert "Stop" in tasks["forward"]["fact"] and SANDBOX_BLAMED not in tasks["forward"]["fact"]


def test_a_notebook_cell_raising_a_base_exception_does_not_stop_the_next_cells(tmp_path):
    cells = [LOAD_RAISES_BASE_EXCEPTION, solution("softmax")]
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": []} for source in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "softmax.ipynb"
    path.write_text(json.dumps(notebook))
    done = run_grade("check", path, "--json")
    report = json.loads(done.stdout)
    assert report["score"] == report["max_score"], report
    assert [error["type"] for error in report["cell_errors"]] == ["Stop"]


# == what a submission writes into its messages stays bounded =====================================
MANY_LONG_KEYS = """
_right = loss_and_grads

def loss_and_grads(X, y, params, reg):
    loss, grads = _right(X, y, params, reg)
    grads.update({f"k{i}" + "x" * 5000: 0.0 for i in range(150)})
    return loss, grads
"""


def test_a_dict_with_thousands_of_long_keys_gets_a_short_message(tmp_path):
    """The keys are the learner's own text: a message naming them all held 750 kB."""
    _, report, tasks = check(tmp_path, "two_layer", MANY_LONG_KEYS, base=solution("two_layer") + NO_TRAIN)
    grads = part(tasks["loss_and_grads"], "grads")
    assert grads["diagnoses"] == ["wrong_keys"] and "and 138 more" in grads["fact"], grads["fact"][:500]
    assert len(grads["fact"]) < 1000 and len(json.dumps(report)) < 20_000


def test_a_file_too_large_for_the_sandbox_is_refused_with_its_size(tmp_path):
    """A file the sandbox would not read whole was lost on the way to it, and the crash blamed on the
    sandbox; now it is refused, with its size, before it is run."""
    _, report, tasks = check(tmp_path, "softmax", "#" + "x" * (70 << 20) + "\n")
    assert all(task["diagnoses"] == ["import_error"] for task in tasks.values())
    assert "is 70 MiB, more than the 32 MiB of code a submission may hold" in report["unreadable"], report


def test_the_refusal_counts_code_as_the_sandbox_receives_it():
    """Escaped for the sandbox's request, a control character takes six bytes: 6 MiB of them is 36."""
    from grader.reading.submission import MAX_CODE_BYTES, SubmissionError, submission_from_bytes
    from grader.sandbox import child

    assert MAX_CODE_BYTES + 4096 < child.SUBMISSION_BYTES  # room for the request's own keys
    submission_from_bytes("softmax.py", b"# \x01\n" * 1000)  # a few such characters are fine
    with pytest.raises(SubmissionError, match="holds 36 MiB of code"):
        submission_from_bytes("softmax.py", b"\x01" * (6 << 20))
    cells = {"cells": [{"cell_type": "code", "source": "x = 1"}] * 800_000}  # many cells, little code
    with pytest.raises(SubmissionError, match="MiB of code"):
        submission_from_bytes("softmax.ipynb", json.dumps(cells).encode())


def _peak_rss_mib(*grade_args):
    """(exit code, stdout, the largest resident size in MiB of any process the command ran)."""
    from conftest import grade_command

    measure = (
        "import resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024);"
        "print(done.stdout)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, *grade_command(), *map(str, grade_args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    first, _, stdout = done.stdout.partition("\n")
    code, peak = map(int, first.split())
    return code, stdout, peak


@pytest.mark.parametrize(
    "name, said",
    [
        ("softmax.py", "softmax.py is 300 MiB, more than the 32 MiB of code a submission may hold"),
        ("softmax.ipynb", "softmax.ipynb is 300 MiB, more than the 64 MiB a notebook may be: clear its outputs"),
    ],
)
def test_a_huge_file_is_refused_unread_and_costs_the_grader_no_memory(tmp_path, name, said):
    """Read whole, 300 MB took over a gigabyte of the grader's memory before its refusal (a
    Gradescope container has 768 MB; in a class, the out-of-memory killer may pick a classmate)."""
    path = tmp_path / name
    with path.open("wb") as handle:
        handle.truncate(300 << 20)  # sparse: the test itself costs no disk
    code, stdout, peak = _peak_rss_mib("check", path, "--json")
    assert code == 1 and said in json.loads(stdout)["unreadable"], stdout[:500]
    assert peak < 200, f"grading a refused file took {peak} MiB"


def test_a_huge_file_in_a_class_folder_is_refused_without_reading_it_whole(tmp_path):
    directory = tmp_path / "class"
    directory.mkdir()
    (directory / "ann.py").write_text(solution("softmax"))
    with (directory / "bob.ipynb").open("wb") as handle:
        handle.truncate(300 << 20)
    out = tmp_path / "out"
    code, _, peak = _peak_rss_mib("batch", directory, "-e", "softmax", "-j", "1", "--out", out)
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert code == 0 and rows["ann"]["total"] == "4" and rows["bob"]["total"] == "0", rows
    feedback = (out / "feedback" / "bob.txt").read_text()
    assert "more than the 64 MiB a notebook may be" in feedback, feedback
    assert peak < 200, f"grading the class took {peak} MiB"


# == returned values that lie: judged as the data they hold, never by their own methods ===========
RIGHT_P = """
def _right_p(X, W, b):
    Z = X @ W + b
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
"""

LYING_VALUES = {
    # An ndarray subclass that claims to equal anything and to have the right shape: its data is 3x3.
    "subclass_claims": (
        "forward",
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other): return True\n"
        "    def __array_ufunc__(self, *args, **kwargs): return np.zeros(3)\n"
        "    def __float__(self): return 0.0\n"
        "    @property\n"
        "    def shape(self): return (5, 7)\n\n"
        "def forward(X, W, b):\n    return np.zeros((3, 3)).view(Liar)\n",
        ["shape_mismatch"],
    ),
    # A masked array that masks every entry: what is graded is the data under the mask.
    "masked_everything": (
        "forward",
        "def forward(X, W, b):\n    P = _right_p(X, W, b)\n"
        "    return np.ma.masked_array(np.full_like(P, 9.0), mask=np.ones(P.shape, dtype=bool))\n",
        ["not_normalized"],
    ),
    "array_protocol_object": (
        "forward",
        "class Fake:\n    def __array__(self, dtype=None, copy=None): return np.ones((5, 7)) / 7\n"
        "    def __eq__(self, other): return True\n\n"
        "def forward(X, W, b):\n    return Fake()\n",
        ["wrong_type"],
    ),
    "generator": ("db", "def db(dZ):\n    return (row for row in dZ.sum(axis=0, keepdims=True))\n", ["wrong_type"]),
    "structured_dtype": (
        "db",
        "def db(dZ):\n    s = dZ.sum(axis=0, keepdims=True)\n    out = np.zeros(s.shape, dtype=[('a', 'f8')])\n"
        "    out['a'] = s\n    return out\n",
        ["wrong_type"],
    ),
    "complex_dtype": ("db", "def db(dZ):\n    return dZ.sum(axis=0, keepdims=True) + 0j\n", ["wrong_type"]),
    "zero_d": ("db", "def db(dZ):\n    return np.float64(dZ.sum())\n", ["shape_mismatch"]),
    "nan": ("db", "def db(dZ):\n    return np.full((1, dZ.shape[1]), np.nan)\n", ["nan_or_inf"]),
    "float128_beyond_float64": (
        "db",
        "def db(dZ):\n    return np.full((1, dZ.shape[1]), np.longdouble(10) ** 400)\n",
        ["nan_or_inf", "wrong_value"],  # finite in long double, inf in float64: either says it is wrong
    ),
    "int64_min": ("db", "def db(dZ):\n    return np.full((1, dZ.shape[1]), np.iinfo(np.int64).min)\n", ["wrong_value"]),
    "uint64_max": (
        "db",
        "def db(dZ):\n    return np.full((1, dZ.shape[1]), np.iinfo(np.uint64).max, dtype=np.uint64)\n",
        ["wrong_value"],
    ),
    "bool": ("db", "def db(dZ):\n    return dZ.sum(axis=0, keepdims=True) > 0\n", ["wrong_value"]),
    "a_zero_stride_view_of_153_mib": (
        "db",
        "def db(dZ):\n    return np.broadcast_to(np.zeros(1), (20000, 1000))\n",
        ["shape_mismatch"],
    ),
    "nested_100000_deep": (
        "db",
        "def db(dZ):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x\n",
        ["wrong_type"],
    ),
    "list_containing_itself": ("db", "def db(dZ):\n    x = []\n    x.append(x)\n    return x\n", ["wrong_type"]),
    "ten_mb_string": ("db", "def db(dZ):\n    return 'x' * 10_000_000\n", ["wrong_type"]),
    "the_inputs_own_buffer": ("db", "def db(dZ):\n    return dZ\n", ["shape_mismatch"]),
    "keyboard_interrupt": ("db", "def db(dZ):\n    raise KeyboardInterrupt\n", ["exception"]),
    "recursion_bomb": (
        "db",
        "import sys\nsys.setrecursionlimit(10**6)\n\ndef db(dZ):\n    def f(n):\n        return f(n + 1)\n"
        "    return f(0)\n",
        ["exception"],
    ),
}


@pytest.mark.parametrize("name", LYING_VALUES)
def test_a_returned_value_is_judged_by_its_data(tmp_path, name):
    task, attack, codes = LYING_VALUES[name]
    _, _, tasks = check(tmp_path, "softmax", RIGHT_P + "\n" + attack)
    assert others_pass(tasks, task)
    got = tasks[task]
    assert not got["passed"] and got["score"] == 0 and len(got["diagnoses"]) == 1 and got["diagnoses"][0] in codes, got


@pytest.mark.parametrize(
    "attack",
    [
        "def forward(X, W, b):\n    return np.asmatrix(_right_p(X, W, b))\n",
        "def forward(X, W, b):\n    return _right_p(X, W, b).astype(np.longdouble)\n",
        "def forward(X, W, b):\n    return np.asfortranarray(_right_p(X, W, b)[::-1][::-1])\n",
    ],
    ids=["np_matrix", "long_double", "odd_strides"],
)
def test_right_values_in_an_unusual_array_still_pass(tmp_path, attack):
    code, report, _ = check(tmp_path, "softmax", RIGHT_P + "\n" + attack)
    assert code == 0 and report["score"] == report["max_score"], report


def test_an_exception_whose_message_never_ends_costs_its_task_only(tmp_path):
    attack = "class Endless(Exception):\n    def __str__(self):\n        while True:\n            pass\n\n"
    attack += "def db(dZ):\n    raise Endless()\n"
    _, _, tasks = check(tmp_path, "softmax", "\n" + attack, "--timeout", "2")
    assert others_pass(tasks, "db") and tasks["db"]["diagnoses"] == ["timeout"]


def test_a_giant_exception_message_is_cut(tmp_path):
    _, _, tasks = check(tmp_path, "softmax", "\ndef db(dZ):\n    raise ValueError('x' * 50_000_000)\n")
    assert tasks["db"]["diagnoses"] == ["exception"] and len(tasks["db"]["fact"]) < 400


# == state kept between calls gains nothing: every case is checked, by the grader's own math ===========
STATEFUL = {
    # Right on the first call only, as if the first call were "the" check.
    "right_once": "_calls = []\n\ndef dW(X, dZ):\n    _calls.append(1)\n"
    "    return X.T @ dZ if len(_calls) == 1 else np.zeros((X.shape[1], dZ.shape[1]))\n",
    # Memoised by a hash of the inputs: the first answer returned for every later input too.
    "memoised_first_answer": "_memo = []\n\ndef dW(X, dZ):\n    if not _memo:\n        _memo.append(X.T @ dZ)\n"
    "    return _memo[0]\n",
    # The check's math patched inside the sandbox: numpy's comparisons, norms and sums changed.
    "patched_numpy": "np.allclose = lambda *a, **k: True\nnp.linalg.norm = lambda *a, **k: 0.0\n"
    "np.isclose = lambda *a, **k: True\n\ndef dW(X, dZ):\n    return np.zeros((X.shape[1], dZ.shape[1]))\n",
}


@pytest.mark.parametrize("name", STATEFUL)
def test_state_between_calls_and_patched_numpy_gain_nothing(tmp_path, name):
    _, _, tasks = check(tmp_path, "softmax", "\n" + STATEFUL[name])
    assert others_pass(tasks, "dW")
    assert not tasks["dW"]["passed"] and tasks["dW"]["score"] == 0, tasks["dW"]


# == a classmate's grading and the instructor's files are out of a submission's reach ================
LEAVES_THINGS_BEHIND = r"""
import os, time

with open("/tmp/left_behind.py", "w") as left:
    left.write("x = 1\n")
os.environ["GRADE_LEFT_BEHIND"] = "1"
if os.fork() == 0:  # a process that outlives the file's loading
    time.sleep(30)
    os._exit(0)
print("\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J")  # write the reader's clipboard, clear the screen

Loud = type("Loud\x1b]0;owned\x07<b>", (Exception,), {})


def db(dZ):
    raise Loud("\x1b[1A\x1b[2K  PASS  db  1/1\r\n<script>alert(1)</script> =cmd|' /C calc'!A0")
"""

SEES_WHAT_WAS_LEFT = """
import os


def db(dZ):
    # Only eve's file: a Python installed under /tmp (a checkout there) is bound back into /tmp, read-only.
    raise ValueError(repr(("left_behind.py" in os.listdir("/tmp"), os.environ.get("GRADE_LEFT_BEHIND"))))
"""


@pytest.mark.parametrize("runner", _runners())
def test_a_hostile_submission_leaves_nothing_for_the_next_one_nor_in_the_instructors_files(tmp_path, runner):
    """One worker grades eve, then frank (who looks for what eve left), then zoe (a right solution);
    as root and as an ordinary user (whose jail has fewer layers to lean on)."""
    os.chmod(tmp_path, 0o777)
    directory = tmp_path / "class"
    directory.mkdir()
    (directory / "eve.py").write_text(solution("softmax") + LEAVES_THINGS_BEHIND)
    (directory / "frank.py").write_text(solution("softmax") + SEES_WHAT_WAS_LEFT)
    (directory / "zoe.py").write_text(solution("softmax"))
    out = tmp_path / "out"
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)  # the ordinary user writes there (mkdir's mode is cut by the umask)
    batch = command(runner, "-m", "grader", "batch", directory, "-e", "softmax", "-j", "1", "--out", out)
    done = subprocess.run(batch, capture_output=True, text=True, timeout=300, env=environment())
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["student"]: row for row in csv.DictReader((out / "grades.csv").open())}
    assert rows["zoe"]["total"] == "4" and rows["eve"]["total"] == rows["frank"]["total"] == "3", rows
    assert rows["eve"]["db_codes"] == "exception"
    frank = json.loads((out / "results" / "frank.json").read_text())["row"]
    assert "(False, None)" in next(task["fact"] for task in frank["tasks"] if task["name"] == "db")
    texts = {path: path.read_text() for path in out.rglob("*") if path.suffix in (".txt", ".csv", ".json")}
    assert len(texts) >= 9
    for path, text in texts.items():
        assert not CONTROLS.search(text), (path, CONTROLS.search(text))
    eve = json.loads((out / "gradescope" / "eve" / "results.json").read_text())
    said = " ".join(test["output"] for test in eve["tests"])
    assert "alert(1)" in said and "<script>" not in said and "<b>" not in said, said


CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

"""Per-student inputs: a seed from HMAC-SHA256(course secret, student id).

Students get different arrays and sizes (seen from inside: a submission prints a
digest of what it receives), the same code gets the same verdict under any student's
inputs (mutants from tests/submissions), a classmate's relayed answers fail, and
`grade check --student ID --secret-file F` gives the row `grade batch` gave ID.
"""

import json
import re
import shutil

import numpy as np
import pytest
from conftest import SUBMISSIONS, assert_verdicts, expectations, run_grade

from grader import exercises, variants
from grader.checking.grading import grade_file, seeded_cases
from grader.reading.submission import UsageError

pytestmark = pytest.mark.slow  # whole classes on worker pools: the full suite runs them

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0-course-ml101"
SOFTMAX = exercises.load("softmax")
STUDENTS = [f"student{i:02d}" for i in range(10)] + ["alice", "bob", "=odd id", "ünï"]

# Each function prints the shapes and a digest of the arrays it was called with, then answers right.
DIGESTS = """
import hashlib
import numpy as np


def _said(name, *arrays):
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    shapes = " ".join("x".join(map(str, np.shape(array))) for array in arrays)
    print(f"{name} {shapes} {digest.hexdigest()[:16]}")


def forward(X, W, b):
    _said("forward", X, W, b)
    Z = X @ W + b
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    _said("dZ", P, y)
    G = P.copy()
    G[np.arange(len(y)), y] -= 1
    return G / len(y)


def dW(X, dZ):
    _said("dW", X, dZ)
    return X.T @ dZ


def db(dZ):
    _said("db", dZ)
    return np.sum(dZ, axis=0, keepdims=True)
"""


def seed_of(student, secret=SECRET):
    return variants.student_seed(secret.encode(), student)


@pytest.fixture(scope="module")
def inputs_seen(tmp_path_factory):
    """student (None: the public inputs) -> the lines the digest submission printed."""
    path = tmp_path_factory.mktemp("digests") / "softmax.py"
    path.write_text(DIGESTS)
    seen = {}
    for student in [None, *STUDENTS]:
        report = grade_file(path, SOFTMAX, variant=None if student is None else seed_of(student))
        assert report.score == 4, student
        seen[student] = report.output.splitlines()
    return seen


def test_each_student_gets_other_arrays(inputs_seen):
    assert len({tuple(lines) for lines in inputs_seen.values()}) == len(inputs_seen)
    for student in STUDENTS:  # call by call: no task's inputs are shared with the public ones
        assert all(mine != public for mine, public in zip(inputs_seen[student], inputs_seen[None]))


def test_sizes_vary_within_their_ranges_no_two_equal_and_the_spiral_stays(inputs_seen):
    sizes = set()
    for student, lines in inputs_seen.items():
        small, spiral = lines[0].split()[1:4], lines[1].split()[1:4]
        (m, d), (_, k) = map(int, small[0].split("x")), map(int, small[1].split("x"))
        assert len({m, d, k}) == 3 and 4 <= m <= 12 and 3 <= d <= 9 and 3 <= k <= 9, (student, lines[0])
        assert spiral[:2] == ["300x2", "2x3"], (student, lines[1])  # the spiral case is the spiral
        sizes.add((m, d, k))
    assert (5, 4, 7) in sizes and len(sizes) > len(inputs_seen) // 2  # public defaults; students' vary


def test_a_student_gets_the_same_inputs_every_time(inputs_seen, tmp_path):
    path = tmp_path / "softmax.py"
    path.write_text(DIGESTS)
    assert grade_file(path, SOFTMAX, variant=seed_of("alice")).output.splitlines() == inputs_seen["alice"]
    # ... and another secret gives the same student other inputs.
    other = grade_file(path, SOFTMAX, variant=seed_of("alice", "another-secret-of-32-characters!"))
    assert other.output.splitlines() != inputs_seen["alice"]


MUTANTS = ["correct_vectorized", "db_missing_keepdims", "db_wrong_axis", "dw_transposed", "dz_not_averaged"]


@pytest.mark.parametrize("name", MUTANTS)
def test_the_same_code_gets_the_same_verdict_under_every_students_inputs(name):
    path = SUBMISSIONS / "softmax" / f"{name}.py"
    for student in STUDENTS:
        report = grade_file(path, SOFTMAX, variant=seed_of(student))
        assert_verdicts(report, expectations(path))


@pytest.mark.parametrize(
    "path",
    sorted((SUBMISSIONS / "softmax").glob("*.py")),
    ids=lambda path: path.stem,
)
def test_every_softmax_mutant_keeps_its_verdict_under_students_inputs(path):
    for student in STUDENTS[:6]:
        assert_verdicts(grade_file(path, SOFTMAX, timeout=5.0, variant=seed_of(student)), expectations(path))


@pytest.mark.parametrize(
    "exercise, name",
    [
        ("two_layer", "transposed_dw"),
        ("two_layer", "db_wrong_axis"),
        ("two_layer", "dw2_from_preactivation"),
        ("n_layer", "masks_in_forward_order"),
        ("n_layer", "regularized_bias"),
        ("n_layer", "correct_stacks"),
    ],
)
def test_relu_mutants_keep_their_verdicts_under_students_inputs(exercise, name):
    path = SUBMISSIONS / exercise / f"{name}.py"
    for student in STUDENTS[:3]:
        report = grade_file(path, exercises.load(exercise), timeout=5.0, variant=seed_of(student))
        assert_verdicts(report, expectations(path))


def relay(answers):
    """A submission that returns the db arrays another student's grading asked for, by call."""
    table = {key: value.tolist() for key, value in answers.items()}
    return f"""
import numpy as np

ANSWERS = {table!r}
FIRST = next(iter(ANSWERS.values()))


def db(dZ):
    key = repr(np.asarray(dZ).round(6).ravel()[:4].tolist())
    return np.array(ANSWERS.get(key, FIRST))
"""


def answers_for(variant):
    """{key of dZ: the right db} for every db case of a variant: what a classmate could relay."""
    plans = dict((task.name, cases) for task, cases in seeded_cases(SOFTMAX, 0, variant))
    found = {}
    for case in plans["db"]:
        (G,) = case.args
        found[repr(np.asarray(G).round(6).ravel()[:4].tolist())] = G.sum(axis=0, keepdims=True)
    return found


def test_a_relay_of_another_students_answers_fails(tmp_path):
    path = tmp_path / "freeloader.py"
    path.write_text(relay(answers_for(seed_of("alice"))))
    db = lambda student: next(t for t in grade_file(path, SOFTMAX, variant=seed_of(student)).tasks if t.name == "db")  # noqa: E731
    assert db("alice").passed  # the relayed arrays are right for alice's inputs...
    for student in ("bob", "student00", "student01"):
        task = db(student)
        assert not task.passed and task.score == 0, student  # ... and worth 0 on anyone else's
    # With one public seed for everyone, the same relay passes: what the secret prevents.
    path.write_text(relay(answers_for(None)))
    assert next(t for t in grade_file(path, SOFTMAX).tasks if t.name == "db").passed


# -- the secret ---------------------------------------------------------------------------------------
def test_the_seed_is_hmac_sha256_of_the_student_id():
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), b"alice", hashlib.sha256).digest()
    assert seed_of("alice") == int.from_bytes(digest[:8], "big")
    assert len({seed_of(student) for student in STUDENTS}) == len(STUDENTS)


def test_reading_the_secret(tmp_path):
    secret = tmp_path / "ml101.secret"
    secret.write_text(SECRET + "\n")
    assert variants.read_secret(secret, environ={}) == SECRET.encode()
    assert variants.read_secret(None, environ={"GRADE_SECRET": SECRET}) == SECRET.encode()
    assert variants.read_secret(None, environ={}) is None
    (tmp_path / "class").mkdir()
    inside = tmp_path / "class" / "secret.txt"
    inside.write_text(SECRET)
    with pytest.raises(UsageError, match="is inside the class directory"):
        variants.read_secret(inside, class_dir=tmp_path / "class")
    with pytest.raises(UsageError, match="fewer than 16"):
        variants.read_secret(None, environ={"GRADE_SECRET": "short"})
    secret.write_bytes(b"\xff" * 32)
    with pytest.raises(UsageError, match="not text"):
        variants.read_secret(secret)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class graded by `grade batch --secret-file`: (root, secret path, the command's result)."""
    root = tmp_path_factory.mktemp("variants")
    (root / "class").mkdir()
    shutil.copy(SUBMISSIONS / "softmax" / "correct_vectorized.py", root / "class" / "alice.py")
    for student, mutant in (("bob", "db_missing_keepdims"), ("carol", "dz_not_averaged"), ("dan", "dw_transposed")):
        shutil.copy(SUBMISSIONS / "softmax" / f"{mutant}.py", root / "class" / f"{student}.py")
    (root / "secret.txt").write_text(SECRET + "\n")
    result = run_grade(
        "batch", root / "class", "-e", "softmax", "--out", root / "out", "-j", "2", "--secret-file", root / "secret.txt"
    )
    assert result.returncode == 0, result.stderr
    return root, root / "secret.txt", result


@pytest.mark.parametrize("student", ["alice", "bob", "carol", "dan"])
def test_grade_check_with_the_secret_gives_the_batch_row(graded_class, student):
    root, secret, _ = graded_class
    path = root / "class" / f"{student}.py"
    result = run_grade("check", path, "--json", "-e", "softmax", "--student", student, "--secret-file", secret)
    assert result.returncode in (0, 1), result.stderr
    checked = json.loads(result.stdout)
    row = json.loads((root / "out" / "results" / f"{student}.json").read_text())["row"]
    assert (checked["score"], checked["tasks"]) == (row["score"], row["tasks"])
    assert result.stderr == ""
    # The student's own check, without the secret: the public inputs, the same verdicts, other numbers.
    public = run_grade("check", path, "--json", "-e", "softmax", "--student", student)
    said = "grade: no course secret (--secret-file or $GRADE_SECRET): graded on the public inputs of --seed"
    assert public.stderr == f"{said}, not {student}'s\n"  # not the seed's value: it may reach a student's log
    mine = json.loads(public.stdout)
    assert [(t["name"], t["score"], t["diagnoses"]) for t in mine["tasks"]] == [
        (t["name"], t["score"], t["diagnoses"]) for t in row["tasks"]
    ]


def test_neither_the_secret_nor_a_students_seed_is_in_any_output(graded_class):
    """Whoever sees a student's feedback, results.json or the instructor's files learns no seed: with one,
    a classmate's inputs could be computed ahead; with the secret, everyone's."""
    root, secret, result = graded_class
    seed = seed_of("bob")
    secrets = (SECRET, str(seed), f"{seed:x}", f"{seed:X}")
    said = [result.stdout, result.stderr]
    said += [path.read_text() for path in sorted((root / "out").rglob("*")) if path.suffix in (".txt", ".json", ".csv")]
    for fmt in (["-v"], ["--json", "-v"], ["--format", "gradescope"]):
        done = run_grade(
            "check", root / "class" / "bob.py", "-e", "softmax", "--student", "bob", "--secret-file", secret, *fmt
        )
        said += [done.stdout, done.stderr]
    assert len(said) > 10
    assert [word for word in secrets if any(word in text for text in said)] == []


def test_the_summary_says_where_the_inputs_came_from(graded_class, tmp_path):
    root, secret, result = graded_class
    assert "inputs: each student's own, from the course secret" in result.stdout
    assert json.loads((root / "out" / "summary.json").read_text())["inputs"] == "per-student"
    shutil.copytree(root / "out", tmp_path / "out")
    public = run_grade("batch", root / "class", "-e", "softmax", "--out", tmp_path / "out", "-j", "2")
    assert "inputs: the same for every student (public seed 0): no course secret (--secret-file or $GRADE_SECRET)" in (
        public.stdout
    )
    # A row is keyed by the student's seed: the public inputs grade everyone again.
    assert "graded 4, reused 0" in public.stdout


def test_a_changed_secret_regrades_and_the_same_one_reuses(graded_class, tmp_path):
    root, secret, _ = graded_class
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)
    args = ("batch", root / "class", "-e", "softmax", "--out", out, "-j", "2")
    assert "graded 0, reused 4" in run_grade(*args, "--secret-file", secret).stdout
    other = tmp_path / "other.secret"
    other.write_text("another course secret, 32 chars")
    assert "graded 4, reused 0" in run_grade(*args, "--secret-file", other).stdout


def test_the_secret_from_the_environment_is_the_secret_file(graded_class, tmp_path, monkeypatch):
    root, _, _ = graded_class
    monkeypatch.setenv("GRADE_SECRET", SECRET)
    result = run_grade("check", root / "class" / "bob.py", "--json", "--student", "bob", "-e", "softmax")
    row = json.loads((root / "out" / "results" / "bob.json").read_text())["row"]
    assert json.loads(result.stdout)["tasks"] == row["tasks"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "{class}/alice.py", "--secret-file", "{secret}"], "--secret-file needs --student ID"),
        (["batch", "{class}", "--secret-file", "{class}/alice.py"], "is inside the class directory"),
        (["check", "{class}/alice.py", "--student", "a", "--secret-file", "{short}"], "fewer than 16"),
        (["check", "{class}/alice.py", "--student", "a", "--secret-file", "{class}/none"], "cannot read the secret"),
    ],
)
def test_secret_mistakes_are_one_line_usage_errors(graded_class, tmp_path, args, message):
    root, secret, _ = graded_class
    (tmp_path / "short").write_text("12345")
    values = {"class": root / "class", "secret": secret, "short": tmp_path / "short"}
    args = [re.sub(r"\{(\w+)\}", lambda found: str(values[found.group(1)]), arg) for arg in args]
    extra = ["--out", tmp_path / "out"] if args[0] == "batch" else []
    result = run_grade(*args, "-e", "softmax", *extra)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

"""train is graded on a spiral it could not have seen, except on the public inputs (the default seed, no secret).

The public inputs keep the public spiral (grader/data.py spiral()), which students see in
`grade check --plot`; any other seed, and every student's variant, draws its rotation, the
angle between its arms, its noise and its points (drawn_spiral). A train that returns
params fitted offline to the public spiral (tests/submissions/two_layer/train_hardcoded_params.py)
passes the public inputs and fails every other.
"""

import numpy as np
import pytest
from conftest import SUBMISSIONS, run_json

from grader import data, defaults, exercises, variants
from grader.checking.grading import grade_file, seeded_cases
from grader.exercises.relu_tasks import TRAIN_ACCURACY

TWO_LAYER = exercises.load("two_layer")
HARDCODED = SUBMISSIONS / "two_layer" / "train_hardcoded_params.py"
BIG_SEED = 2**127 + 12345  # 128 bits, as `grade gradescope` draws them
SECRET = b"a course secret of at least 16 bytes"


def train_cases(seed, variant=None):
    return next(cases for task, cases in seeded_cases(TWO_LAYER, seed, variant) if task.name == "train")


def spiral_of(seed, variant=None):
    X, y, _, _ = train_cases(seed, variant)[0].args
    return X, y


def test_the_public_inputs_keep_the_public_spiral_and_every_other_seed_draws_its_own():
    X, y = data.spiral()
    public = spiral_of(defaults.SEED)
    assert np.array_equal(public[0], X) and np.array_equal(public[1], y)
    assert train_cases(defaults.SEED)[0].label.startswith("the spiral (X 300x2")
    drawn = {
        "seed 1": spiral_of(1),
        "a 128-bit seed": spiral_of(BIG_SEED),
        "the same seed modulo 2**64": spiral_of(BIG_SEED % 2**64),
        "a student's variant of the default seed": spiral_of(defaults.SEED, variants.student_seed(SECRET, "ada")),
        "another student's": spiral_of(defaults.SEED, variants.student_seed(SECRET, "bob")),
    }
    shown = list(drawn.values()) + [public]
    for i, (one, _) in enumerate(shown):
        assert all(not np.allclose(one, other) for other, _ in shown[i + 1 :])
    assert np.array_equal(spiral_of(BIG_SEED)[0], drawn["a 128-bit seed"][0])  # the same seed, the same spiral
    assert train_cases(1)[0].label.startswith("a spiral drawn for this grading")
    # Both calls of train get the same drawn spiral (the second only checks shapes).
    assert np.array_equal(train_cases(1)[1].args[0], drawn["seed 1"][0])


def test_params_fitted_to_the_public_spiral_pass_it_and_fail_any_drawn_one():
    namespace = {}
    exec(HARDCODED.read_text(), namespace)
    task = TWO_LAYER.task("train")
    for case in train_cases(defaults.SEED):
        verdicts = task.check(case, namespace["train"](*case.args))
        assert verdicts is None or not any(verdicts.values())
    # The checks themselves, on many seeds (no sandbox): the accuracy part fails on every one.
    for seed in [*range(1, 60), BIG_SEED]:
        first = train_cases(seed)[0]
        verdict = task.check(first, namespace["train"](*first.args))
        assert verdict["accuracy"].diagnoses == ("low_accuracy",), seed


@pytest.mark.parametrize(
    "how", [{"seed": BIG_SEED}, {"variant": variants.student_seed(SECRET, "ada")}], ids=["seed", "secret"]
)
def test_the_hardcoded_params_score_low_accuracy_with_a_seed_or_a_secret(how):
    train = grade_file(HARDCODED, TWO_LAYER, timeout=5.0, **how).task("train")
    accuracy, hidden = train.parts
    assert (accuracy.passed, accuracy.diagnoses, hidden.passed, train.score) == (False, ("low_accuracy",), True, 1)
    assert accuracy.case.startswith("a spiral drawn for this grading")


def test_grade_check_takes_a_128_bit_seed_and_a_student_of_a_course_secret(tmp_path):
    secret = tmp_path / "course.secret"
    secret.write_bytes(SECRET)
    result, report = run_json(
        "check", HARDCODED, "-e", "two_layer", "--seed", BIG_SEED, "--student", "ada", "--secret-file", secret
    )
    assert result.returncode == 1, result.stderr  # not full marks (the other tasks are not implemented)
    train = next(task for task in report["tasks"] if task["name"] == "train")
    assert train["score"] == 1 and "low_accuracy" in train["diagnoses"]


def test_the_drawn_spirals_stay_in_their_ranges():
    rng = np.random.default_rng(3)
    for _ in range(20):
        X, y = data.drawn_spiral(rng)
        assert X.shape == (300, 2) and np.array_equal(np.bincount(y), [100, 100, 100])
        assert np.all(np.linalg.norm(X, axis=1) <= 1.0 + 1e-12)
    assert data.ROTATION[0] >= np.pi / 3 and data.ROTATION[1] <= 2 * np.pi - np.pi / 3
    assert TRAIN_ACCURACY == 0.95  # what benchmarks/train_variants.py measured the ranges against

"""What the feedback says about real students' mistakes: the named mistake, its blocks, and words that fit.

The corpus tests (test_softmax_corpus.py, test_deep_exercises.py) check the codes of
every mutant; these check the words. loss_and_grads is graded in this process
(grade_one, the inputs of grade check), so no training runs here.
"""

import numpy as np
import pytest
from conftest import SUBMISSIONS

from grader import exercises
from grader.checking.checks import is_array, is_number, matches, type_text
from grader.checking.grading import grade_file
from grader.integrations.notebook import grade_one
from grader.sandbox.wire import Other

SOFTMAX = exercises.load("softmax")


def loss_and_grads(exercise, path):
    namespace = {}
    exec((SUBMISSIONS / exercise / path).read_text(), namespace)
    result = grade_one(exercise, "loss_and_grads", namespace)
    return {part.name: part for part in result.parts}, result


def test_one_block_without_its_1_over_m_is_named_on_that_block_only():
    parts, result = loss_and_grads("two_layer", "b2_not_averaged.py")
    grads = parts["grads"]
    assert (result.score, parts["loss"].passed, grads.diagnoses) == (1, True, ("not_averaged",))
    assert grads.fact == "grads['b2'] is m times too large in its data part: the 1/m of the mean is missing"
    assert "divide dscores by m once" in grads.hint
    assert "W1, b1, W2 fine" in grads.details
    assert "no common mistake matches" not in grads.hint


def test_the_last_layers_bias_without_its_1_over_m_is_named_in_an_n_layer_net():
    parts, _ = loss_and_grads("n_layer", "db_last_not_averaged.py")
    # The first case is the one-layer net, whose last layer is layer 1.
    assert parts["grads"].diagnoses == ("not_averaged",)
    assert parts["grads"].fact.startswith("grads['b1'] is m times too large")


def test_every_block_without_its_1_over_m_is_still_named_as_a_whole():
    parts, _ = loss_and_grads("two_layer", "missing_1_over_m.py")
    grads = parts["grads"]
    assert grads.diagnoses == ("not_averaged",)
    assert grads.fact.startswith("grads['W1'], grads['b1'], grads['W2'], grads['b2'] are m times too large")
    assert grads.hint.startswith("the loss is a mean over m examples: dscores = (probs - onehot(y)) / m")


@pytest.mark.parametrize(
    "path, part, other",
    [("half_penalty_loss.py", "loss", "grads"), ("half_penalty_grads.py", "grads", "loss")],
)
def test_a_loss_and_gradients_of_two_penalty_conventions_are_half_penalty(path, part, other):
    parts, _ = loss_and_grads("two_layer", path)
    assert parts[other].passed
    failed = parts[part]
    assert failed.diagnoses == ("half_penalty",)
    assert "two conventions" in failed.fact
    # The hint names both conventions and says which one this exercise uses.
    assert "0.5 * reg * sum(W**2) with gradient reg * W" in failed.hint
    assert "reg * sum(W**2) with gradient 2 * reg * W" in failed.hint


def test_both_sides_with_the_penalty_twice_stay_double_regularization():
    parts, _ = loss_and_grads("two_layer", "double_regularization.py")
    assert parts["loss"].diagnoses == parts["grads"].diagnoses == ("double_regularization",)


def test_a_wrong_loss_alone_is_not_told_to_look_at_entries():
    parts, _ = loss_and_grads("two_layer", "loss_mean_over_all_classes.py")
    loss = parts["loss"]
    assert loss.diagnoses == ("wrong_value",) and parts["grads"].passed
    assert "entry" not in loss.hint and "entries" not in loss.hint
    assert "mean cross-entropy" in loss.fact and "-log(softmax(scores)[y])" in loss.hint


def test_a_function_returning_zeros_is_told_so():
    dz = grade_file(SUBMISSIONS / "softmax" / "dz_returns_zeros.py", SOFTMAX, timeout=2.0).task("dZ")
    assert dz.fact == "dZ is all zeros, expected finite differences of the mean cross-entropy"
    assert "times the right result" not in " ".join(dz.details)
    assert "np.zeros_like" in dz.hint


def test_a_constant_factor_other_than_zero_is_still_reported():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    assert "it is 2.5 times the right result" in matches(expected * 2.5, expected, "dW").details[-1]
    assert matches(np.zeros_like(expected), expected, "dW").fact == "dW is all zeros, expected the right values"


def test_a_complex_result_gets_a_grammatical_fact_and_a_hint_about_complex_numbers():
    dw = grade_file(SUBMISSIONS / "softmax" / "dw_complex.py", SOFTMAX, timeout=2.0).task("dW")
    assert dw.diagnoses == ("wrong_type",)
    assert dw.fact == "dW returned an array of dtype complex128, expected a numpy array of real numbers of shape (4,7)"
    assert "complex" in dw.hint and "forget `return`" not in dw.hint


@pytest.mark.parametrize(
    "dtype, words",
    [("complex64", "complex numbers"), ("object", "Python objects"), ("<U3", "strings"), ("datetime64[s]", "dates")],
)
def test_each_kind_of_non_real_array_gets_its_own_hint(dtype, words):
    verdict = is_array(Other(f"array of dtype {np.dtype(dtype)}"), "dW", (2, 3))
    assert words in verdict.hint
    assert is_number(Other(f"array of dtype {np.dtype(dtype)}"), "loss").hint == verdict.hint


def test_articles_agree_with_the_type():
    assert type_text([1]) == "a list"
    assert type_text(1) == "an int"
    assert type_text(Other("array of dtype complex128")) == "an array of dtype complex128"
    assert is_array([1.0], "db").hint is None  # a list keeps its code's own hint (forgot return, or a list?)


def test_an_assert_without_a_message_shows_the_assert_line():
    db = grade_file(SUBMISSIONS / "softmax" / "db_bare_assert.py", SOFTMAX, timeout=2.0).task("db")
    assert db.fact == "db raised AssertionError: assert dZ.shape[1] == 3"
    assert db.hint.startswith("an assert in your code failed on the grader's input")
    assert db.details == ("at db_bare_assert.py, line 27: assert dZ.shape[1] == 3",)


def test_an_error_with_a_message_keeps_the_generic_hint(write):
    path = write("softmax.py", (SUBMISSIONS / "softmax" / "correct_vectorized.py").read_text())
    path.write_text(path.read_text().replace("    return X.T @ dZ", "    assert False, 'not yet'\n    return X.T @ dZ"))
    dw = grade_file(path, SOFTMAX, timeout=2.0).task("dW")
    assert dw.fact == "dW raised AssertionError: not yet"
    assert dw.hint == "read the error and the line it points to"


def test_gradient_blocks_left_at_zero_are_named():
    namespace = {}
    exec((SUBMISSIONS / "two_layer" / "correct_layers.py").read_text(), namespace)
    right = namespace["loss_and_grads"]

    def zeros_below(X, y, params, reg):  # the backward pass stopped after the last layer
        loss, grads = right(X, y, params, reg)
        return loss, {**grads, "W1": np.zeros_like(params["W1"]), "b1": np.zeros_like(params["b1"])}

    namespace["loss_and_grads"] = zeros_below
    grads = {part.name: part for part in grade_one("two_layer", "loss_and_grads", namespace).parts}["grads"]
    assert grads.diagnoses == ("wrong_value",)
    assert grads.details[0] == "grads['W1'], grads['b1'] are all zeros"
    assert grads.hint.startswith("the result is all zeros")


@pytest.mark.parametrize("exercise", ["two_layer", "n_layer"])
def test_gradients_with_half_the_penalty_gradient_are_half_penalty(exercise):
    # The loss's penalty is 0.5 * reg * sum(W**2), its gradient reg * W; the file adds 0.5 * reg * W.
    parts, result = loss_and_grads(exercise, "half_penalty_halved_grads.py")
    grads = parts["grads"]
    assert (result.score, parts["loss"].passed, grads.diagnoses) == (1, True, ("half_penalty",))
    assert "hold" in grads.fact and "0.5 reg * W, half the gradient of the loss's penalty" in grads.fact
    assert "the loss and its gradients must use the same one" in grads.hint


def test_the_other_convention_with_half_its_gradient_is_half_penalty_in_n_layer():
    # loss reg * sum(W**2) with gradient reg * W: the gradients are the docstring's, the loss is not.
    parts, result = loss_and_grads("n_layer", "half_penalty_loss.py")
    assert (result.score, parts["grads"].passed, parts["loss"].diagnoses) == (2, True, ("half_penalty",))


@pytest.mark.parametrize(
    "exercise, blocks",
    [("two_layer", "grads['W1'], grads['b1'], grads['W2'], grads['b2']"), ("n_layer", "grads['W1'], grads['b1']")],
)
def test_dscores_with_whole_columns_subtracted_are_named(exercise, blocks):
    parts, result = loss_and_grads(exercise, "dscores_whole_columns.py")
    grads = parts["grads"]
    assert (result.score, parts["loss"].passed, grads.diagnoses) == (1, True, ("whole_columns",))
    assert (
        grads.fact == f"{blocks} come from dscores with 1 subtracted from whole columns (P[:, y] -= 1), "
        "not from one entry per example"
    )
    assert "dscores[np.arange(m), y] -= 1" in grads.hint and "no common mistake" not in grads.hint


def test_dz_with_whole_columns_subtracted_is_named():
    dz = grade_file(SUBMISSIONS / "softmax" / "dz_fancy_index_columns.py", SOFTMAX, timeout=2.0).task("dZ")
    assert dz.diagnoses == ("whole_columns",)
    assert dz.fact == "dZ has 1 subtracted from whole columns (G[:, y] -= 1), not from one entry per row"
    assert "G[np.arange(m), y] -= 1" in dz.hint


def test_swapped_and_renamed_parameters_show_both_signatures_not_a_mistake_in_the_math():
    dw = grade_file(SUBMISSIONS / "softmax" / "dw_swapped_parameters.py", SOFTMAX, timeout=2.0).task("dW")
    assert dw.diagnoses == ("swapped_parameters",)
    assert dw.fact == "def dW(dZ, X) has the task's parameters in another order: the task calls dW(X, dZ)"
    assert "transpose" not in dw.hint and "order" in dw.hint
    db = grade_file(SUBMISSIONS / "softmax" / "db_renamed_parameter.py", SOFTMAX, timeout=2.0).task("db")
    assert db.diagnoses == ("renamed_parameters",)
    assert db.fact.startswith("def db(dz): its body uses dZ, which is not one of its parameters")
    assert db.fact.endswith("the task calls db(dZ)") and "forget `return`" not in db.hint
    assert db.details[0].startswith("with these parameters, db returned")  # what the value checks saw


@pytest.mark.parametrize(
    "source, code",
    [
        ("def dW(dZ, X):\n    return X.T @ dZ", "swapped_parameters"),
        ("def dW(X, dZ=None, *, scale=1):\n    return X.T @ dZ", None),
        ("def db(dz):\n    dZ = dz\n    return dZ.sum()", None),  # its own local dZ: a mistake in the math only
        ("def db(dz):\n    return dZ.sum()", "renamed_parameters"),
        ("def dW(X):\n    return X.T", "missing_parameters"),
        ("def dW(*arrays):\n    return arrays[0].T @ arrays[1]", None),
        ("def dW(X, dZ, m):\n    return X.T @ dZ / m", "extra_parameters"),
        ("def dW(A, G):\n    return A.T @ G", None),
    ],
)
def test_the_parameters_are_read_from_the_source(source, code):
    import ast

    from grader.checking.signatures import parameter_verdict

    node = ast.parse(source).body[0]
    verdict = parameter_verdict(SOFTMAX.task(node.name), node)
    assert (verdict.diagnoses[0] if verdict else None) == code

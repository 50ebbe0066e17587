"""Named checks: a mistake is named only when exactly one explanation fits."""

import numpy as np

from grader.checking.checks import has_shape, matches, name_mistake, rows_sum_to_one
from grader.sandbox.wire import Other


def test_a_single_matching_transformation_is_named():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    assert name_mistake(-expected, {"sign_flipped": [-expected], "not_averaged": [expected * 5]}) == "sign_flipped"


def test_an_ambiguous_match_gets_no_name():
    # With m = 1, "m times too large" and "the right result" coincide: do not guess.
    expected = np.ones((1, 3))
    assert name_mistake(expected, {"not_averaged": [expected * 1], "double_averaged": [expected / 1]}) is None


def test_a_match_with_nan_is_never_named():
    got = np.array([[np.nan, 1.0]])
    assert name_mistake(got, {"sign_flipped": [got.copy()]}) is None


def test_an_unexplained_wrong_shape_is_a_shape_mismatch_with_both_shapes():
    verdict = has_shape(np.zeros((3, 1)), (1, 3), "db", {"missing_keepdims": [np.zeros(3)]})
    assert verdict.diagnoses == ("shape_mismatch",)
    assert verdict.fact == "db has shape (3,1), expected (1,3)"


def test_a_constant_factor_is_reported_when_no_name_fits():
    expected = np.arange(1.0, 7.0).reshape(2, 3)
    verdict = matches(expected * 2.5, expected, "dW", {"not_averaged": [expected * 300]})
    assert verdict.diagnoses == ("wrong_value",)
    assert "it is 2.5 times the right result" in verdict.details[-1]


def test_correct_values_pass_and_columns_summing_to_one_is_the_wrong_axis():
    P = np.array([[0.2, 0.9], [0.8, 0.1]])
    assert matches(P, P.copy(), "P") is None
    assert rows_sum_to_one(P, "P").diagnoses == ("wrong_axis",)
    assert rows_sum_to_one(P / P.sum(axis=1, keepdims=True), "P") is None


def test_other_objects_are_described_by_type_only():
    from grader.checking.checks import is_array

    verdict = is_array(Other("Sneaky"), "dW", (2, 3))
    assert verdict.fact == "dW returned a Sneaky, expected a numpy array of shape (2,3)"
    assert verdict.diagnoses == ("wrong_type",)

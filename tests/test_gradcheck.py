"""The finite-difference engine on functions whose gradients are known in closed form."""

import numpy as np
import pytest

from grader import check_gradient, numerical_gradient, relative_error
from grader.checking.gradcheck import TOLERANCE, compare


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    grad = numerical_gradient(lambda v: v @ A @ v, x)
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=1e-8)


def test_vectorized_and_loop_evaluations_agree():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5))
    loop = numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    stacked = numerical_gradient(lambda vs: np.sum(np.sin(vs) * vs, axis=(1, 2)), x, vectorized=True)
    np.testing.assert_allclose(loop, stacked, rtol=1e-9)
    np.testing.assert_allclose(loop, np.sin(x) + x * np.cos(x), rtol=1e-7)


def test_check_gradient_passes_the_right_gradient_and_fails_a_wrong_one():
    x = np.linspace(-1.0, 1.0, 7)
    f = lambda v: float(np.sum(np.exp(v)))  # noqa: E731
    assert check_gradient(f, x, np.exp(x)).passed
    wrong = np.exp(x).copy()
    wrong[3] += 0.5
    result = check_gradient(f, x, wrong)
    assert not result.passed
    assert result.worst_index == (3,)
    assert "worst entry (3,)" in result.message and "above tolerance" in result.message


def test_check_gradient_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match="shape"):
        check_gradient(lambda v: float(v.sum()), np.zeros((2, 3)), np.zeros(6))


def test_relative_error_is_norm_wise_and_zero_for_two_zeros():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) < 1e-11
    assert relative_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(2.0)


def test_a_relative_error_of_1e_4_fails():
    # e.g. an epsilon of 1e-4 added to a denominator "for safety": small, but not rounding
    expected = np.random.default_rng(3).standard_normal((5, 7))
    assert not compare(expected * (1 + 1e-4), expected).passed
    assert not check_gradient(lambda v: float(np.sum(v**2)), expected, 2 * expected * (1 + 1e-4)).passed


def test_float32_rounding_stays_within_tolerance_but_a_missing_factor_does_not():
    rng = np.random.default_rng(2)
    expected = rng.standard_normal((300, 3)) / 300
    assert compare(expected.astype(np.float32), expected).relative_error < TOLERANCE
    assert not compare(expected * 300, expected).passed


def test_relative_error_is_right_for_entries_near_the_float_limits():
    import warnings

    expected = np.array([[1.0, -2.0], [3.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or underflow warning on the way
        assert relative_error(expected * 1e300, expected) == pytest.approx(1.0)
        assert relative_error(expected * 1e-300, expected * 1e-300) == 0.0
        assert relative_error(expected * 1e300 * 1.5, expected * 1e300) == pytest.approx(1 / 3)

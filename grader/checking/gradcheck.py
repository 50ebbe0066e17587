"""The finite-difference engine: is an analytic gradient the gradient of a function?

Public API for instructors writing exercises:

    from grader import check_gradient
    result = check_gradient(f, x, analytic)      # f: array -> float
    assert result.passed, result.message

Centred differences (f(x + h e_i) - f(x - h e_i)) / 2h have truncation error
O(h^2 f''') and round-off error O(eps |f| / h); with h = 1e-5 in float64 both sit
near 1e-10, so a correct gradient shows a relative error below 1e-8.
TOLERANCE = 1e-5 leaves three orders of magnitude for that noise and for learners
who compute in float32 (about 1e-7 per operation), while every real mistake seen
in practice (a missing 1/m, a sign, a transpose, one wrong entry in a few hundred)
shows an error of 1e-3 or more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

STEP = 1e-5
TOLERANCE = 1e-5
# Entries per vectorised evaluation: bounds memory at about 8 MB per chunk.
_CHUNK_FLOATS = 1_000_000


Array = NDArray[np.float64]


def relative_error(got: ArrayLike, expected: ArrayLike) -> float:
    """||got - expected|| / max(||got||, ||expected||), 0 when both are 0.

    A norm-wise ratio, unlike an entry-wise one, does not blow up on entries that
    are legitimately near zero (most of a softmax gradient is).
    """
    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    # Divided by the largest entry first, so that entries near 1e300 (or 1e-300) neither
    # overflow nor underflow in the norms; the ratio is the same.
    largest = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    if largest == 0.0:
        return 0.0
    if not np.isfinite(largest):
        return float("inf")
    a, b = a / largest, b / largest
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing an array with what it should be, with where it is worst."""

    relative_error: float
    tolerance: float
    worst_index: tuple[int, ...]
    got_at_worst: float
    expected_at_worst: float

    @property
    def passed(self) -> bool:
        return self.relative_error <= self.tolerance

    @property
    def message(self) -> str:
        verdict = "within" if self.passed else "above"
        return (
            f"relative error {self.relative_error:.2e} {verdict} tolerance {self.tolerance:.0e}; "
            f"worst entry {self.worst_index}: expected {self.expected_at_worst:.6g}, "
            f"got {self.got_at_worst:.6g}"
        )


def compare(got: ArrayLike, expected: ArrayLike, tolerance: float = TOLERANCE) -> Comparison:
    """Compare two arrays of one shape; see `relative_error` for the measure."""
    a = np.asarray(got, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: got {a.shape}, expected {b.shape}")
    if a.size == 0:
        return Comparison(0.0, tolerance, (), 0.0, 0.0)
    error = relative_error(a, b)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(a - b))), a.shape))
    return Comparison(error, tolerance, worst, float(a[worst]), float(b[worst]))


def numerical_gradient(
    f: Callable[[Array], ArrayLike], x: ArrayLike, h: float = STEP, vectorized: bool = False
) -> Array:
    """Centred-difference gradient of the scalar function f at x (float64).

    vectorized=True means f takes a stack of inputs of shape (n, *x.shape) and
    returns n values; the engine then evaluates all 2 * x.size perturbations in a
    few numpy calls instead of a Python loop.
    """
    point = np.array(x, dtype=np.float64)
    grad = np.empty(point.size)
    if vectorized:
        per_chunk = max(1, _CHUNK_FLOATS // max(1, 2 * point.size))
        for start in range(0, point.size, per_chunk):
            idx = np.arange(start, min(start + per_chunk, point.size))
            steps = np.zeros((idx.size, point.size))
            steps[np.arange(idx.size), idx] = h
            plus = point.ravel() + steps
            minus = point.ravel() - steps
            stack = np.concatenate([plus, minus]).reshape((2 * idx.size, *point.shape))
            values = np.asarray(f(stack), dtype=np.float64)
            grad[idx] = (values[: idx.size] - values[idx.size :]) / (2 * h)
        return grad.reshape(point.shape)
    flat = point.ravel()  # a view: perturb in place, restore after
    for i in range(point.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = float(f(point))  # type: ignore[arg-type]  # f returns a number here
        flat[i] = old - h
        f_minus = float(f(point))  # type: ignore[arg-type]
        flat[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(point.shape)


def check_gradient(
    f: Callable[[Array], ArrayLike],
    x: ArrayLike,
    analytic: ArrayLike,
    h: float = STEP,
    tolerance: float = TOLERANCE,
    vectorized: bool = False,
) -> Comparison:
    """Check `analytic` against the centred-difference gradient of f at x.

    Returns a `Comparison`: `.passed`, `.relative_error`, and the worst entry with
    its expected and actual values, ready to show a learner.
    """
    given = np.asarray(analytic, dtype=np.float64)
    point = np.asarray(x, dtype=np.float64)
    if given.shape != point.shape:
        raise ValueError(f"gradient has shape {given.shape}, expected {point.shape} (the shape of x)")
    return compare(given, numerical_gradient(f, point, h, vectorized), tolerance)

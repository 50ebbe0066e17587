"""Small named checks. Each returns None when it passes or a failing Verdict that
says what broke, so a task's check reads as a chain:

    return is_array(got, "db") or has_shape(got, (1, k), "db", alternatives) or ... or PASS

Named mistakes are found by comparing the result with transformations of the right
answer that the grader computes itself (its negative, m times it, its transpose...):
a code is named only when exactly one transformation matches, so an ambiguous case
falls back to the generic code.
"""

import numpy as np

from ..sandbox.wire import Other
from .gradcheck import TOLERANCE, compare, relative_error
from .spec import Verdict

# What a named mistake looks like, completing "<name> ...".
SAYS = {
    "sign_flipped": "is the negative of the right result",
    "not_averaged": "is m times too large",
    "double_averaged": "is m times too small",
    "missing_subtract_one": "equals P/m: the one-hot labels were not subtracted",
    "transposed": "is the transpose of the right result",
    "missing_keepdims": "has the right values but lost the summed axis",
    "wrong_axis": "is reduced over the wrong axis",
    "wrong_mask": "lets gradient through where it should not: the ReLU mask comes from the wrong array",
}


def shape_text(shape):
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def type_text(value):
    if value is None:
        return "None"
    if isinstance(value, Other):
        return f"a {value.type_name}"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__}"
    return f"a {type(value).__name__}"


def is_array(value, name, shape=None):
    """The result must be a numpy array (of any numeric dtype)."""
    if isinstance(value, np.ndarray):
        return None
    want = f"a numpy array of shape {shape_text(shape)}" if shape is not None else "a numpy array"
    return Verdict(False, f"{name} returned {type_text(value)}, expected {want}", ("wrong_type",))


def is_number(value, name):
    """The result must be a real number (a Python float or a 0-d / size-1 array)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    if isinstance(value, np.ndarray) and value.size == 1:
        return None
    return Verdict(False, f"{name} returned {type_text(value)}, expected a number", ("wrong_type",))


def name_mistake(got, alternatives, tolerance=TOLERANCE):
    """The one code whose alternative equals `got` (same shape, within tolerance), else None."""
    matches = [
        code
        for code, candidate in (alternatives or {}).items()
        if np.shape(candidate) == got.shape and np.all(np.isfinite(got)) and relative_error(got, candidate) <= tolerance
    ]
    return matches[0] if len(matches) == 1 else None


def has_shape(got, shape, name, alternatives=None):
    """Exact shape; a wrong one is explained by an alternative of that shape when one matches."""
    shape = tuple(shape)
    if got.shape == shape:
        return None
    fact = f"{name} has shape {shape_text(got.shape)}, expected {shape_text(shape)}"
    code = name_mistake(got, alternatives)
    return Verdict(False, fact, (code or "shape_mismatch",))


def is_finite(got, name, code="nan_or_inf"):
    nan, inf = int(np.isnan(got).sum()), int(np.isinf(got).sum())
    if nan == 0 and inf == 0:
        return None
    return Verdict(False, f"{name} has {nan} NaN and {inf} inf entries out of {got.size}", (code,))


def matches(got, expected, name, alternatives=None, tolerance=TOLERANCE, code="wrong_value", what=None):
    """Values within `tolerance` (relative error, gradcheck.py); else name the mistake."""
    comparison = compare(got, expected, tolerance)
    if comparison.passed:
        return None
    details = (comparison.message,)
    named = name_mistake(got, alternatives, tolerance)
    if named is not None:
        return Verdict(False, f"{name} {SAYS.get(named, 'is wrong')}", (named,), details)
    factor = _constant_factor(got, expected, tolerance)
    if factor is not None:
        details += (f"it is {factor:.4g} times the right result: a wrong constant factor",)
    return Verdict(False, f"{name} does not match {what or 'the right values'}", (code,), details)


def _constant_factor(got, expected, tolerance):
    scale = float(np.vdot(expected, expected))
    if scale == 0.0:
        return None
    factor = float(np.vdot(expected, got)) / scale
    return factor if relative_error(got, factor * expected) <= tolerance else None


def is_close_array(got, expected, name, alternatives=None, what=None):
    """The usual chain for an array result: a numpy array, of expected's shape, finite, equal to it."""
    return (
        is_array(got, name, expected.shape)
        or has_shape(got, expected.shape, name, alternatives)
        or is_finite(got, name)
        or matches(got, expected, name, alternatives, what=what)
    )


def nonnegative(got, name, code="not_normalized"):
    smallest = float(got.min()) if got.size else 0.0
    if smallest >= -TOLERANCE:
        return None
    return Verdict(False, f"{name} has negative entries (smallest {smallest:.4g}); probabilities are >= 0", (code,))


def rows_sum_to_one(got, name):
    """Each row a distribution; columns summing to 1 instead means the wrong axis."""
    rows = got.sum(axis=1)
    if np.max(np.abs(rows - 1.0)) <= TOLERANCE:
        return None
    if got.shape[0] > 1 and np.max(np.abs(got.sum(axis=0) - 1.0)) <= TOLERANCE:
        return Verdict(False, f"{name}'s columns sum to 1 but its rows do not", ("wrong_axis",))
    shown = ", ".join(f"{s:.4g}" for s in rows[:3]) + (", ..." if rows.size > 3 else "")
    return Verdict(False, f"{name}'s rows sum to {shown}, not 1", ("not_normalized",))


def unchanged_inputs(mutated, name):
    """The grader saw the function write into one of its inputs (shared memory, sandbox.py)."""
    if not mutated:
        return None
    return Verdict(False, f"{name} modified its input {', '.join(mutated)} in place", ("input_mutated",))

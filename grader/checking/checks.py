"""The check library: small named checks that specs chain into a task's check.

Each returns None when it passes or a failing Verdict that says what broke, so a
check reads as a chain whose value is None exactly when every link passed:

    return is_array(got, "db") or has_shape(got, (1, k), "db", alternatives) or matches(...)

Named mistakes are found by comparing the result with transformations of the right
answer that the grader computes itself (its negative, m times it, its transpose...),
given as `alternatives`: {code: [candidates]}, several candidates when one mistake has
several shapes (a sum over the wrong axis with or without keepdims). A code is named
only when exactly one code has a matching candidate, so an ambiguous case falls back
to the generic code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..sandbox.wire import Other
from .gradcheck import TOLERANCE, compare, relative_error
from .spec import Verdict

# code -> the arrays that mistake would have produced
Alternatives = Mapping[str, Sequence[np.ndarray]]

# What a named mistake looks like, completing "<name> ...".
SAYS = {
    "sign_flipped": "is the negative of the right result",
    "not_averaged": "is m times too large",
    "double_averaged": "is m times too small",
    "missing_subtract_one": "equals P/m: the one-hot labels were not subtracted",
    "transposed": "is the transpose of the right result",
    "missing_keepdims": "has the right values but lost the summed axis",
    "wrong_axis": "is reduced over the wrong axis",
    "whole_columns": "has 1 subtracted from whole columns (G[:, y] -= 1), not from one entry per row",
    "wrong_mask": "lets gradient through where it should not: the ReLU mask comes from the wrong array",
    "off_by_one_class": "has 1 subtracted at the class next to the true one (y - 1 or y + 1), not at y",
}

# What a named mistake of a set of gradient blocks looks like, completing "<blocks> ...": (one block, several);
# keyed by code, or by a variant of the grader's backward pass whose words differ from its code's (relu_net).
GRADIENTS_SAY = {
    "missing_regularization": ("lacks the penalty's gradient reg * W", "lack the penalty's gradient reg * W"),
    "double_regularization": (
        "holds the penalty's gradient twice (2 reg * W instead of reg * W)",
        "hold the penalty's gradient twice (2 reg * W instead of reg * W)",
    ),
    "half_penalty": (
        "holds 2 reg * W, the gradient of reg * sum(W**2), but the loss has the penalty 0.5 * reg * sum(W**2): "
        "the loss and its gradient use two conventions",
        "hold 2 reg * W, the gradient of reg * sum(W**2), but the loss has the penalty 0.5 * reg * sum(W**2): "
        "the loss and its gradients use two conventions",
    ),
    # half_penalty, the other way round: the gradient of the loss's own penalty halved.
    "half_regularization": (
        "holds 0.5 reg * W, half the gradient of the loss's penalty 0.5 * reg * sum(W**2), which is reg * W "
        "(the 0.5 cancels the 2 of W**2)",
        "hold 0.5 reg * W, half the gradient of the loss's penalty 0.5 * reg * sum(W**2), which is reg * W "
        "(the 0.5 cancels the 2 of W**2)",
    ),
    "whole_columns": (
        "comes from dscores with 1 subtracted from whole columns (P[:, y] -= 1), not from one entry per example",
        "come from dscores with 1 subtracted from whole columns (P[:, y] -= 1), not from one entry per example",
    ),
    "regularized_bias": (
        "includes reg * b, but the biases are not penalised",
        "include reg * b, but the biases are not penalised",
    ),
    "not_averaged": (
        "is m times too large in its data part: the 1/m of the mean is missing",
        "are m times too large in their data part: the 1/m of the mean is missing",
    ),
    "wrong_mask": ("went back through a ReLU with the wrong mask",) * 2,
    "wrong_layer_order": ("went back through the ReLUs with their masks in forward order",) * 2,
    "transposed": ("is the transpose of the right gradient", "are the transposes of the right gradients"),
    "off_by_one_class": (
        "comes from dscores with 1 subtracted at class y - 1, not at the true class y",
        "come from dscores with 1 subtracted at class y - 1, not at the true class y",
    ),
    "double_averaged": (
        "is m times too small: the 1/m of the mean is applied twice (a mean over the examples of a dZ "
        "that already holds it, or dscores divided by m twice)",
        "are m times too small: the 1/m of the mean is applied twice (a mean over the examples of a dZ "
        "that already holds it, or dscores divided by m twice)",
    ),
}


def gradients_say(code: str, blocks: Sequence[str]) -> str:
    """What `code` did to the named blocks, in agreement with their number."""
    one, several = GRADIENTS_SAY[code]
    return one if len(blocks) == 1 else several


ZEROS_HINT = (
    "the result is all zeros: return what you computed, not the array you started from "
    "(e.g. np.zeros_like), and check that no factor or mask in the formula is always 0"
)


def shape_text(shape: Sequence[int]) -> str:
    return "(" + ",".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def with_article(noun: str) -> str:
    """'a list', 'an array of dtype complex128'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def type_text(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, Other):
        return with_article(value.type_name)
    return with_article(type(value).__name__)


# What a result that is an array but not of real numbers was most likely made by (numpy's dtype kinds).
_DTYPE_HINTS = {
    "c": "the result holds complex numbers, but a gradient of a real loss is real: look for np.emath / "
    "np.lib.scimath, np.fft, a 1j, or an array created with dtype=complex, and compute with real floats",
    "O": "the result is an array of Python objects: np.array of a ragged list, of arrays of different "
    "shapes, or of None; build one float array, e.g. with np.stack or a preallocated np.zeros",
    "U": "the result is an array of strings: compute the numbers (float64) instead of formatting them",
    "S": "the result is an array of bytes: compute the numbers (float64) instead of formatting them",
    "M": "the result is an array of dates or times: compute the numbers (float64)",
    "m": "the result is an array of time spans: compute the numbers (float64)",
    "V": "the result is a structured array: return one plain float array",
}


def _dtype_hint(value: object) -> str | None:
    """A hint for an array whose entries are not real numbers (wire.encode names its dtype), else None."""
    if not isinstance(value, Other) or not value.type_name.startswith("array of dtype "):
        return None
    try:
        kind = np.dtype(value.type_name.removeprefix("array of dtype ")).kind
    except (TypeError, ValueError):
        kind = "O"
    return _DTYPE_HINTS.get(kind, _DTYPE_HINTS["O"])


def is_array(value: object, name: str, shape: Sequence[int] | None = None) -> Verdict | None:
    """The result must be a numpy array (of any numeric dtype)."""
    if isinstance(value, np.ndarray):
        return None
    hint = _dtype_hint(value)
    want = "a numpy array" + (" of real numbers" if hint else "")
    want += f" of shape {shape_text(shape)}" if shape is not None else ""
    return Verdict(f"{name} returned {type_text(value)}, expected {want}", ("wrong_type",), hint=hint)


def is_number(value: object, name: str) -> Verdict | None:
    """The result must be a real number (a Python float or a 0-d / size-1 array)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    if isinstance(value, np.ndarray) and value.size == 1:
        return None
    return Verdict(f"{name} returned {type_text(value)}, expected a number", ("wrong_type",), hint=_dtype_hint(value))


def is_tuple(value: object, name: str, n: int, what: str) -> Verdict | None:
    """The result must be a tuple (or list) of n items; `what` names them, e.g. "(loss, grads)"."""
    if isinstance(value, (tuple, list)) and len(value) == n:
        return None
    got = f"{type_text(value)} of length {len(value)}" if isinstance(value, (tuple, list)) else type_text(value)
    return Verdict(f"{name} returned {got}, expected a tuple {what}", ("wrong_type",))


def _close(got: np.ndarray, candidate: np.ndarray, tolerance: float, scale: float) -> bool:
    """got equals candidate within tolerance, relative to the larger of the two (and of `scale`)."""
    if scale <= 0.0:
        return relative_error(got, candidate) <= tolerance
    a, b = np.asarray(got, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    # Divided by the largest magnitude first (as relative_error does): entries whose squares overflow
    # would make every norm inf, and then any candidate would match.
    largest = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)), scale)
    if not np.isfinite(largest):
        return False
    a, b = a / largest, b / largest
    difference = float(np.linalg.norm(a - b))
    return difference <= tolerance * max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), scale / largest)


def name_mistake(
    got: np.ndarray, alternatives: Alternatives | None, tolerance: float = TOLERANCE, scale: float = 0.0
) -> str | None:
    """The one code with a candidate equal to `got` (same shape, within tolerance), else None.

    scale: when > 0, differences are measured against it too (the size of the right
    answer), so a candidate that is rounding noise (a sum of entries that cancel)
    can still be recognised: two noise vectors never have a small relative error.
    """
    if not np.all(np.isfinite(got)):
        return None
    matched = [
        code
        for code, candidates in (alternatives or {}).items()
        if any(
            np.shape(candidate) == got.shape and _close(got, candidate, tolerance, scale) for candidate in candidates
        )
    ]
    return matched[0] if len(matched) == 1 else None


def has_shape(
    got: np.ndarray, shape: Sequence[int], name: str, alternatives: Alternatives | None = None, scale: float = 0.0
) -> Verdict | None:
    """Exact shape; a wrong one is explained by an alternative of that shape when one matches."""
    shape = tuple(shape)
    if got.shape == shape:
        return None
    fact = f"{name} has shape {shape_text(got.shape)}, expected {shape_text(shape)}"
    code = name_mistake(got, alternatives, scale=scale)
    return Verdict(fact, (code or "shape_mismatch",))


def is_finite(got: np.ndarray, name: str, code: str = "nan_or_inf") -> Verdict | None:
    nan, inf = int(np.isnan(got).sum()), int(np.isinf(got).sum())
    if nan == 0 and inf == 0:
        return None
    return Verdict(f"{name} has {nan} NaN and {inf} inf entries out of {got.size}", (code,))


def matches(
    got: np.ndarray,
    expected: np.ndarray,
    name: str,
    alternatives: Alternatives | None = None,
    tolerance: float = TOLERANCE,
    code: str = "wrong_value",
    what: str | None = None,
) -> Verdict | None:
    """Values within `tolerance` (relative error, gradcheck.py); else name the mistake."""
    comparison = compare(got, expected, tolerance)
    if comparison.passed:
        return None
    details: tuple[str, ...] = (comparison.message,)
    named = name_mistake(got, alternatives, tolerance)
    if named is not None:
        return Verdict(f"{name} {SAYS.get(named, 'is wrong')}", (named,), details)
    if not np.any(got) and np.any(expected):
        return Verdict(f"{name} is all zeros, expected {what or 'the right values'}", (code,), details, hint=ZEROS_HINT)
    factor = _constant_factor(got, expected, tolerance)
    if factor is not None:
        details += (f"it is {factor:.4g} times the right result: a wrong constant factor",)
    return Verdict(f"{name} does not match {what or 'the right values'}", (code,), details)


def _constant_factor(got: np.ndarray, expected: np.ndarray, tolerance: float) -> float | None:
    scale = float(np.vdot(expected, expected))
    if scale == 0.0:
        return None
    factor = float(np.vdot(expected, got)) / scale
    return factor if relative_error(got, factor * expected) <= tolerance else None


def is_close_array(
    got: object, expected: np.ndarray, name: str, alternatives: Alternatives | None = None, what: str | None = None
) -> Verdict | None:
    """The usual chain for an array result: a numpy array, of expected's shape, finite, equal to it."""
    if not isinstance(got, np.ndarray):
        return is_array(got, name, expected.shape)
    return (
        has_shape(got, expected.shape, name, alternatives)
        or is_finite(got, name)
        or matches(got, expected, name, alternatives, what=what)
    )


def nonnegative(got: np.ndarray, name: str, code: str = "not_normalized") -> Verdict | None:
    smallest = float(got.min()) if got.size else 0.0
    if smallest >= -TOLERANCE:
        return None
    return Verdict(f"{name} has negative entries (smallest {smallest:.4g}); probabilities are >= 0", (code,))


def rows_sum_to_one(got: np.ndarray, name: str) -> Verdict | None:
    """Each row a distribution; columns summing to 1 instead means the wrong axis."""
    rows = got.sum(axis=1)
    if np.max(np.abs(rows - 1.0)) <= TOLERANCE:
        return None
    if got.shape[0] > 1 and np.max(np.abs(got.sum(axis=0) - 1.0)) <= TOLERANCE:
        return Verdict(f"{name}'s columns sum to 1 but its rows do not", ("wrong_axis",))
    shown = ", ".join(f"{s:.4g}" for s in rows[:3]) + (", ..." if rows.size > 3 else "")
    return Verdict(f"{name}'s rows sum to {shown}, not 1", ("not_normalized",))


def unchanged_inputs(mutated: Sequence[str], name: str) -> Verdict | None:
    """The grader saw the function write into one of its inputs (shared memory, sandbox.py)."""
    if not mutated:
        return None
    return Verdict(f"{name} modified its input {', '.join(mutated)} in place", ("input_mutated",))


def combine(verdicts: Iterable[Verdict | None]) -> Verdict | None:
    """One Verdict for several checks of one result (None when all passed): the facts joined, the
    codes in order without repeats, the details of each."""
    failed = [verdict for verdict in verdicts if verdict is not None]
    if not failed:
        return None
    codes = tuple(dict.fromkeys(code for verdict in failed for code in verdict.diagnoses))
    details = tuple(line for verdict in failed for line in verdict.details)
    return Verdict("; ".join(verdict.fact for verdict in failed), codes, details)

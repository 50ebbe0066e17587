"""Batch and layer normalization, inverted dropout: forward and backward passes.

Every expected value comes from the math, in float64:
- the forwards from their definitions (biased variance, eps inside the square root);
- each backward's gradients from centred differences of s = sum(dY * forward(...)),
  the grader's own forward (layer_checks), entry by entry on a small batch, by
  sampled directional derivatives on a 64x48 one; batchnorm_backward passes whether
  the learner derived it in steps or in one simplified expression (only values count);
- dropout_forward's mask statistically, entry by entry: its keep fraction overall and
  along every row and every column (within 6 standard deviations of keep_prob), so a
  mask per feature or per example fails whatever draw order the learner used; Y
  must be X * mask / keep_prob for the mask returned.
The small batch has m != n, drawn per student, and eps = 0.01 with columns (rows for
layernorm) of small variance, so a missing or misplaced eps shows.
"""

import numpy as np

from ..checking.checks import has_shape, is_array, is_close_array, is_finite, matches
from ..checking.spec import AUTODIFF, Case, Exercise, Part, Size, Task, Verdict, answer
from . import layer_checks as lc

SIZES = {"m": Size(8, 6, 12), "n": Size(5, 3, 7)}
EPS = 0.01  # small-case eps: large enough that sqrt(var) and sqrt(var) + eps differ visibly from sqrt(var + eps)
LARGE = (64, 48)
Z_LIMIT = 6.0
SHARED_MIN_SIZE = 1000  # a dropout keep fraction this many standard deviations from keep_prob is not chance
PARTS = ("dX", "dgamma", "dbeta")

SAYS = {
    "missing_statistics_terms": "lacks the terms through the mean and the variance (they depend on every input)",
    "unbiased_variance": "uses the unbiased variance (divided by count - 1); the layer uses the biased one",
    "eps_misplaced": "uses sqrt(var) or sqrt(var) + eps where the layer divides by sqrt(var + eps)",
    "not_summed": "is not summed over the examples",
    "not_scaled": "lacks inverted dropout's 1/keep_prob",
    "scaled_by_keep_prob": "is multiplied by keep_prob where inverted dropout divides by it",
    "missing_mask": "ignores the mask",
}


# -- the grader's float64 layers --------------------------------------------------------------
def normalize(X, gamma, beta, eps, axis=0, ddof=0, eps_at="inside"):
    """gamma * (X - mean) / std + beta, statistics over AXIS; the variants name mistakes."""
    X = np.asarray(X, dtype=np.float64)
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    std = {"inside": np.sqrt(var + eps), "none": np.sqrt(var), "outside": np.sqrt(var) + eps}[eps_at]
    return gamma * (X - mu) / std + beta


def _xhat(X, eps, axis, ddof=0, eps_at="inside"):
    return normalize(X, 1.0, 0.0, eps, axis, ddof, eps_at)


def _formula_dx(dY, X, gamma, eps, axis, ddof=0, eps_at="inside", drop=()):
    """The simplified dX of normalize, as a learner writes it, with a variant's statistics or terms dropped."""
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    std = {"inside": np.sqrt(var + eps), "none": np.sqrt(var), "outside": np.sqrt(var) + eps}[eps_at]
    xhat, g = (X - mu) / std, dY * gamma
    mean_term = 0.0 if "mean" in drop else g.mean(axis=axis, keepdims=True)
    var_term = 0.0 if "var" in drop else xhat * (g * xhat).mean(axis=axis, keepdims=True)
    return (g - mean_term - var_term) / std


def _norm_inputs(rng, m, n, axis):
    """X whose statistics along AXIS vary in scale (some small, so eps matters), gamma, beta."""
    spread = rng.uniform(0.3, 2.0, (1, n) if axis == 0 else (m, 1))
    X = rng.standard_normal((m, n)) * spread + rng.uniform(-2.0, 2.0, spread.shape)
    gamma = rng.uniform(0.5, 2.0, (1, n)) * rng.choice([-1.0, 1.0], (1, n))
    return X, gamma, rng.standard_normal((1, n))


def _norm_cases(axis, backward):
    def cases(rng, sizes):
        m, n = sizes["m"], sizes["n"]
        made = []
        for label, (rows, cols), eps, large in (
            (f"a small batch (X {m}x{n}, eps {EPS:g})", (m, n), EPS, False),
            (f"a batch of {LARGE[0]}x{LARGE[1]}, eps 1e-5", LARGE, 1e-5, True),
        ):
            X, gamma, beta = _norm_inputs(rng, rows, cols, axis)
            if backward:
                dY = rng.standard_normal((rows, cols))
                made.append(Case(label, (dY, X, gamma, eps), {"beta": beta, "large": large, "axis": axis}))
            else:
                made.append(Case(label, (X, gamma, beta, eps), {"axis": axis}))
        return made

    return cases


def check_norm_forward(case, Y):
    X, gamma, beta, eps = case.args
    axis = case.data["axis"]
    expected = normalize(X, gamma, beta, eps, axis)
    alternatives = {
        "unbiased_variance": [normalize(X, gamma, beta, eps, axis, ddof=1)],
        "eps_misplaced": [normalize(X, gamma, beta, eps, axis, eps_at=at) for at in ("none", "outside")],
        "wrong_axis": [normalize(X, gamma, beta, eps, 1 - axis)],
    }
    what = "gamma * (X - mean) / sqrt(var + eps) + beta"
    return lc.said(is_close_array(Y, expected, "Y", alternatives, what=what), "Y", SAYS)


def check_norm_backward(case, value):
    dY, X, gamma, eps = case.args
    beta, axis = case.data["beta"], case.data["axis"]
    task = ("batchnorm_backward", "layernorm_backward")[axis]

    def forward(X, gamma, beta):
        return normalize(X, gamma, beta, eps, axis)

    s = lc.upstream_score(forward, dY)
    inputs = {"X": X, "gamma": gamma, "beta": beta}
    what = "finite differences of sum(dY * Y)"
    if case.data["large"]:
        of = {"dX": "X", "dgamma": "gamma", "dbeta": "beta"}
        return lc.large_case(value, task, PARTS, s, inputs, of, 0, what)
    expected = answer(case, "grads", lambda: lc.fd_gradients(s, inputs, ["X", "gamma", "beta"]))
    expected = {"dX": expected["X"], "dgamma": expected["gamma"], "dbeta": expected["beta"]}
    return lc.said_parts(
        lc.small_case(value, task, PARTS, expected, lambda: _norm_mistakes(dY, X, gamma, beta, eps, axis), what),
        SAYS,
    )


def _variant_dx(dY, X, gamma, beta, eps, **variant):
    """The exact gradient of a wrong forward (what a learner who differentiated it in steps gets)."""
    s = lc.upstream_score(lambda X: normalize(X, gamma, beta, eps, **variant), dY)
    return lc.fd_gradients(s, {"X": X}, ["X"])["X"]


def _norm_mistakes(dY, X, gamma, beta, eps, axis):
    """{part: {code: candidates}}: what each named mistake makes of each gradient."""

    def dgamma(xhat):
        return (dY * xhat).sum(axis=0, keepdims=True)

    xhat = _xhat(X, eps, axis)
    wrong_statistics = (  # (code, how the statistics were computed)
        ("unbiased_variance", {"ddof": 1}),
        ("eps_misplaced", {"eps_at": "none"}),
        ("eps_misplaced", {"eps_at": "outside"}),
        ("wrong_axis", {"axis": 1 - axis}),
    )
    dx = {
        "missing_statistics_terms": [
            _formula_dx(dY, X, gamma, eps, axis, drop=drop) for drop in (("mean", "var"), ("var",), ("mean",))
        ],
    }
    dg = {
        "wrong_axis": [(dY * xhat).sum(axis=1), (dY * xhat).sum(axis=1, keepdims=True)],
        "not_summed": [dY * xhat],
        "missing_keepdims": [dgamma(xhat).reshape(-1)],
    }
    for code, variant in wrong_statistics:
        stats = {"axis": axis, **variant}
        # dX as the simplified formula with the wrong statistics, and as the exact gradient of the wrong forward;
        # dgamma summed over the right axis, of the wrong xhat.
        dx.setdefault(code, []).extend(
            [_formula_dx(dY, X, gamma, eps, **stats), _variant_dx(dY, X, gamma, beta, eps, **stats)]
        )
        dg.setdefault(code, []).append(dgamma(_xhat(X, eps, **stats)))
    db = {
        "wrong_axis": [dY.sum(axis=1), dY.sum(axis=1, keepdims=True)],
        "not_summed": [dY],
        "missing_keepdims": [dY.sum(axis=0)],
    }
    return {"dX": dx, "dgamma": dg, "dbeta": db}


# -- dropout --------------------------------------------------------------------------------
def _away_from_zero(rng, shape):
    """Entries with |x| >= 0.1: a dropped entry (0) is never mistaken for a kept one."""
    X = rng.standard_normal(shape)
    return np.where(np.abs(X) < 0.1, np.sign(X + 1e-300) * 0.1 + X, X)


def dropout_forward_cases(rng, sizes):
    m, n = sizes["m"], sizes["n"]
    return [
        Case(
            f"a small batch (X {m}x{n}, keep_prob 0.8)", (_away_from_zero(rng, (m, n)), 0.8, int(rng.integers(2**31)))
        ),
        Case(
            "a batch of 300x200, keep_prob 0.7 (the mask's keep fractions are checked)",
            (_away_from_zero(rng, (300, 200)), 0.7, int(rng.integers(2**31))),
        ),
    ]


def _fraction_off(kept, p, axis):
    """The keep fractions along AXIS (None: overall) more than Z_LIMIT standard deviations from p."""
    count = kept.size if axis is None else kept.shape[axis]
    fractions = kept.mean() if axis is None else kept.mean(axis=axis)
    off = np.abs(fractions - p) > Z_LIMIT * np.sqrt(p * (1 - p) / count)
    return int(np.sum(off)), np.atleast_1d(fractions)


MASK_HINT = (
    "draw one number per entry and keep it when it is below keep_prob: mask = rng.random(X.shape) < keep_prob "
    "(mind the precedence: rng.random(X.shape) < keep_prob / keep_prob compares with 1 and keeps everything)"
)


def check_mask(X, p, mask):
    """None when MASK is a binary mask of X's shape whose keep fractions fit p, else a Verdict."""
    if not isinstance(mask, np.ndarray):
        return is_array(mask, "mask", X.shape)
    m, n = X.shape
    if mask.shape != X.shape:
        code = "mask_shared" if mask.shape in ((1, n), (n,), (m, 1)) else "shape_mismatch"
        return Verdict(f"mask has shape {mask.shape}, expected {X.shape}: one draw per entry", (code,))
    values = mask.astype(np.float64) if mask.dtype != object else None
    if values is None or not np.all((values == 0) | (values == 1)):
        return Verdict("mask has entries other than 0 and 1 (or True and False)", ("wrong_value",))
    # On a mask large enough that independent draws never make every entry, or every row (or column), the same:
    # no draw at all (rng.random(shape) < p / p compares with 1), or one draw per example (or feature) broadcast,
    # told by its structure (its keep fractions would say only "wrong"). A small mask may be all ones by chance.
    if values.size >= SHARED_MIN_SIZE and np.all(values == values.flat[0]):
        kept = "every" if values.flat[0] else "no"
        return Verdict(
            f"mask keeps {kept} entry, expected each with probability {p:g}", ("wrong_value",), hint=MASK_HINT
        )
    if values.size >= SHARED_MIN_SIZE and (np.all(values == values[:1]) or np.all(values == values[:, :1])):
        return Verdict(
            "mask keeps or drops whole rows or whole columns: every row (or column) is the same", ("mask_shared",)
        )
    overall, fraction = _fraction_off(values, p, None)
    if overall and abs(fraction[0] - (1 - p)) < abs(fraction[0] - p):
        return Verdict(f"mask keeps {fraction[0]:.1%} of the entries, expected about {p:.0%}", ("mask_inverted",))
    if overall:
        return Verdict(
            f"mask keeps {fraction[0]:.1%} of the entries, expected about {p:.0%}", ("wrong_value",), hint=MASK_HINT
        )
    rows, row_fractions = _fraction_off(values, p, 1)
    columns, column_fractions = _fraction_off(values, p, 0)
    if not rows and not columns:
        return None
    said = f"{rows} of {m} rows and {columns} of {n} columns keep a fraction of entries far from {p:g}"
    return Verdict(said, ("wrong_value",), hint=MASK_HINT)


def check_dropout_forward(case, value):
    X, p, _ = case.args
    wrong = lc.gradients_tuple(value, "dropout_forward", ("Y", "mask"))
    if wrong:
        return wrong
    Y, mask = value
    return {"mask": check_mask(X, p, mask), "Y": _check_y(X, p, Y, mask)}


def _check_y(X, p, Y, mask):
    if not isinstance(Y, np.ndarray):
        return is_array(Y, "Y", X.shape)
    wrong = has_shape(Y, X.shape, "Y") or is_finite(Y, "Y")
    if wrong:
        return wrong
    kept = Y != 0
    scale = Y[kept] / X[kept]
    for code, factor in (("not_scaled", 1.0), ("scaled_by_keep_prob", p)):
        if scale.size and np.allclose(scale, factor, rtol=1e-6):
            return Verdict(f"Y {SAYS[code]}", (code,))
    usable = isinstance(mask, np.ndarray) and mask.dtype != object
    try:
        expected = X * np.broadcast_to(np.asarray(mask, dtype=np.float64), X.shape) / p if usable else None
    except ValueError:
        expected = None
    if expected is None:
        ratio = np.allclose(scale, 1 / p, rtol=1e-6)
        return None if ratio else Verdict("Y is not X / keep_prob where it is not 0", ("wrong_value",))
    return matches(Y, expected, "Y", what="X * mask / keep_prob for the mask returned")


def dropout_backward_cases(rng, sizes):
    m, n = sizes["m"], sizes["n"]
    return [
        Case(
            f"a small batch (dY {m}x{n}, keep_prob 0.8)", (rng.standard_normal((m, n)), rng.random((m, n)) < 0.8, 0.8)
        ),
        Case(
            "a batch of 300x200, keep_prob 0.7",
            (rng.standard_normal((300, 200)), rng.random((300, 200)) < 0.7, 0.7),
            {"large": True},
        ),
    ]


def check_dropout_backward(case, dX):
    dY, mask, p = case.args
    X = np.ones(dY.shape)  # Y = X * mask / p is linear in X: its gradient does not depend on where it is taken
    s = lc.upstream_score(lambda X: X * mask / p, dY)
    what = "finite differences of sum(dY * Y)"
    if case.data.get("large"):
        return lc.large_case((dX,), "dropout_backward", ("dX",), s, {"X": X}, {"dX": "X"}, 0, what)["dX"]
    expected = answer(case, "dX", lambda: lc.fd_gradients(s, {"X": X}, ["X"])["X"])
    alternatives = {"missing_mask": [dY / p], "not_scaled": [dY * mask], "scaled_by_keep_prob": [dY * mask * p]}
    return lc.said(is_close_array(dX, expected, "dX", alternatives, what=what), "dX", SAYS)


# -- the exercise -------------------------------------------------------------------------------
NORM_HINTS = {
    "missing_statistics_terms": "the mean and the variance are functions of every input of the batch, so dX has "
    "three terms: dX = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps) with g = dY * gamma, means over "
    "the normalised axis",
    "unbiased_variance": "normalization uses the biased variance: np.var(X, axis=...) (ddof=0), the mean of the "
    "squared deviations, not the sum divided by count - 1",
    "eps_misplaced": "divide by sqrt(var + eps): eps goes inside the square root, in the forward pass and in every "
    "term of the backward pass",
    "not_summed": "gamma and beta are shared by every example: sum over the examples (axis=0, keepdims=True) so that "
    "dgamma and dbeta are (1, n) like gamma and beta",
    "wrong_axis": "the statistics and the sums run over the right axis: batchnorm's mean and variance over the "
    "examples (axis 0), layernorm's over the features of each example (axis 1); dgamma and dbeta sum over axis 0 "
    "in both",
    "missing_keepdims": "sum with keepdims=True: dgamma and dbeta are (1, n), like gamma and beta",
    "input_mutated": "compute new arrays (X - mu, not X -= mu): the caller still needs X",
    "wrong_type": "return the three gradients, each a numpy array: return dX, dgamma, dbeta",
}
DROPOUT_HINTS = {
    "not_scaled": "inverted dropout divides the kept activations by keep_prob, so that the expected value of Y "
    "is X and nothing changes at test time: Y = X * mask / keep_prob, dX = dY * mask / keep_prob",
    "scaled_by_keep_prob": "divide by keep_prob, do not multiply: each entry is kept with probability keep_prob, "
    "so X * mask / keep_prob has expected value X",
    "missing_mask": "a dropped entry did not affect the output: dX = dY * mask / keep_prob is 0 where mask is 0",
    "mask_shared": "draw one number per entry of X: mask = rng.random(X.shape) < keep_prob, not one per feature "
    "(shape (1, n)) or per example (shape (m, 1))",
    "mask_inverted": "mask = rng.random(X.shape) < keep_prob keeps each entry with probability keep_prob; "
    "> keep_prob (or < 1 - keep_prob) keeps it with probability 1 - keep_prob",
    "wrong_type": "return the pair (Y, mask), both numpy arrays of X's shape",
}

EXERCISE = Exercise(
    name="normalization",
    title="Batch and layer normalization, inverted dropout: forward and backward",
    sizes=SIZES,
    tasks=(
        Task(
            "batchnorm_forward",
            1,
            ("X", "gamma", "beta", "eps"),
            "Y (m,n)",
            _norm_cases(0, backward=False),
            check_norm_forward,
            hints=NORM_HINTS,
        ),
        Task(
            "batchnorm_backward",
            3,
            ("dY", "X", "gamma", "eps"),
            "(dX, dgamma, dbeta)",
            _norm_cases(0, backward=True),
            check_norm_backward,
            parts=(Part("dX", 2), Part("dgamma", 0.5), Part("dbeta", 0.5)),
            hints=NORM_HINTS,
            forbidden_imports=AUTODIFF,
            may_modify=("dY",),
        ),
        Task(
            "layernorm_forward",
            1,
            ("X", "gamma", "beta", "eps"),
            "Y (m,n)",
            _norm_cases(1, backward=False),
            check_norm_forward,
            hints=NORM_HINTS,
        ),
        Task(
            "layernorm_backward",
            2,
            ("dY", "X", "gamma", "eps"),
            "(dX, dgamma, dbeta)",
            _norm_cases(1, backward=True),
            check_norm_backward,
            parts=(Part("dX", 1), Part("dgamma", 0.5), Part("dbeta", 0.5)),
            hints=NORM_HINTS,
            forbidden_imports=AUTODIFF,
            may_modify=("dY",),
        ),
        Task(
            "dropout_forward",
            2,
            ("X", "keep_prob", "seed"),
            "(Y, mask)",
            dropout_forward_cases,
            check_dropout_forward,
            parts=(Part("Y", 1), Part("mask", 1)),
            hints={
                **DROPOUT_HINTS,
                "input_mutated": "return X * mask / keep_prob, a new array: do not scale X in place",
            },
        ),
        Task(
            "dropout_backward",
            1,
            ("dY", "mask", "keep_prob"),
            "dX (m,n)",
            dropout_backward_cases,
            check_dropout_backward,
            hints={**DROPOUT_HINTS, "input_mutated": "do not change mask: return dY * mask / keep_prob"},
            forbidden_imports=AUTODIFF,
            may_modify=("dY",),
        ),
    ),
)

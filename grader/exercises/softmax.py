"""The softmax classifier: forward, dZ, dW, db.

Every expected value comes from the math, computed here in float64:
- forward against the definition exp(Z) / row sums (non-negative, rows sum to 1),
  and at scores near 1000 through shift invariance: softmax(Z + c) = softmax(Z);
- dZ against centred finite differences of J(Z) = mean cross-entropy(softmax(Z), y);
- dW and db against finite differences of s = sum(G * (X W + b)) for a random
  upstream G, whose gradients are X^T G and the column sums of G.
Small random shapes (m=5, d=4, k=7 on the public inputs; per student, other sizes
from SIZES) run beside the spiral so that code hard-wired to (300, 3) fails.
"""

import numpy as np

from ..checking.checks import has_shape, is_array, is_close_array, is_finite, matches, nonnegative, rows_sum_to_one
from ..checking.gradcheck import STEP, numerical_gradient
from ..checking.spec import AUTODIFF, Case, Exercise, Size, Task, answer
from ..data import spiral
from .cross_entropy import cross_entropies, softmax

# At |scores| ~ 1000, float32 arithmetic alone loses about 3e-5 (Z's rounding);
# the mistakes this case exists for (overflow to inf, NaN) are off by 1 or more.
LARGE_SCORE_TOLERANCE = 1e-3

# m, d, k of the small cases: no two equal (Exercise draws them so), so transposes and axes are told apart.
SIZES = {"m": Size(5, 4, 12), "d": Size(4, 3, 9), "k": Size(7, 3, 9)}


def loss_gradient_by_differences(Z, y, h=STEP):
    """Centred finite differences of J(Z) = mean cross-entropy, entry by entry.

    J is a mean over rows and Z_ij only enters row i's term, so J(Z + h E_ij) - J(Z - h E_ij)
    equals (l_i(z_i + h e_j) - l_i(z_i - h e_j)) / m: stepping column j of every row at once
    gives column j of the whole difference quotient in one call (2k calls, not 2mk).
    """
    Z = np.asarray(Z, dtype=np.float64)
    steps = h * np.eye(Z.shape[1])[:, None, :]  # (k, 1, k): step j moves column j
    plus, minus = cross_entropies(Z[None] + steps, y), cross_entropies(Z[None] - steps, y)  # (k, m)
    return ((plus - minus) / (2 * h)).T / Z.shape[0]


def _spiral_problem(rng):
    X, y = spiral()
    return X, y, rng.standard_normal((2, 3)), rng.standard_normal((1, 3))


def _small_problem(rng, sizes):
    m, d, k = sizes["m"], sizes["d"], sizes["k"]
    return rng.standard_normal((m, d)), rng.integers(0, k, m), rng.standard_normal((d, k)), rng.standard_normal((1, k))


# -- forward ------------------------------------------------------------------
def _shown(sizes, *names):
    return ", ".join(f"{name}={sizes[name]}" for name in names)


def forward_cases(rng, sizes):
    Xs, _, Ws, bs = _small_problem(rng, sizes)
    X, _, W, b = _spiral_problem(rng)
    return [
        Case(f"small random scores ({_shown(sizes, 'm', 'd', 'k')})", (Xs, Ws, bs)),
        Case("the spiral (X 300x2, k=3)", (X, W, b)),
        Case("scores shifted by +1000 (softmax is shift-invariant)", (Xs, Ws, bs + 1000.0), {"large": True}),
        Case("scores spread over +-1000", (Xs, Ws * 300.0, bs * 300.0), {"large": True}),
    ]


def check_forward(case, P):
    X, W, b = case.args
    large = case.data.get("large", False)
    Z = X @ W + b
    expected = softmax(Z)
    if not isinstance(P, np.ndarray):
        return is_array(P, "P", expected.shape)
    return (
        has_shape(P, expected.shape, "P", {"transposed": [expected.T]})
        or is_finite(P, "P", "unstable_softmax" if large else "nan_or_inf")
        or (None if large else nonnegative(P, "P"))
        or (None if large else rows_sum_to_one(P, "P"))
        or matches(
            P,
            expected,
            "P",
            tolerance=LARGE_SCORE_TOLERANCE if large else 1e-5,
            code="unstable_softmax" if large else "wrong_value",
            what="exp(Z) / row sums",
        )
    )


# -- dZ -------------------------------------------------------------------------
def dz_cases(rng, sizes):
    Xs, ys, Ws, bs = _small_problem(rng, sizes)
    X, y, W, b = _spiral_problem(rng)
    cases = []
    for label, Z, labels in (
        (f"small random scores ({_shown(sizes, 'm', 'k')})", Xs @ Ws + bs, ys),
        ("the spiral (m=300, k=3)", X @ W + b, y),
    ):
        cases.append(Case(label, (softmax(Z), labels), {"Z": Z}))
    # No example of the last class: k is P's width, never y.max() + 1 (drawn last: the cases above stay as they were).
    Z, k = cases[0].data["Z"], cases[0].data["Z"].shape[1]
    labels = rng.integers(0, k - 1, Z.shape[0])
    cases.append(
        Case(f"labels with no example of the last class (m={Z.shape[0]}, k={k})", (softmax(Z), labels), {"Z": Z})
    )
    return cases


def check_dz(case, G):
    P, y = case.args
    m = P.shape[0]
    expected = answer(case, "dZ", lambda: loss_gradient_by_differences(case.data["Z"], y))
    labelled = np.isin(np.arange(P.shape[1]), y)  # the columns G[:, y] reaches, each once
    k = P.shape[1]
    alternatives = {
        # 1 subtracted at class y - 1 or y + 1 (labels taken as numbered from 1, or shifted): wraps like numpy's y - 1.
        "off_by_one_class": [(P - np.eye(k)[(y + shift) % k]) / m for shift in (-1, 1)],
        "missing_subtract_one": [P / m],
        "whole_columns": [(P - labelled) / m, P / m - labelled],
        "not_averaged": [expected * m],
        "double_averaged": [expected / m],
        "sign_flipped": [-expected],
        "transposed": [expected.T],
    }
    what = "finite differences of the mean cross-entropy"
    return is_close_array(G, expected, "dZ", alternatives, what=what)


# -- dW and db: the gradients of s = sum(G * (X W + b)) ------------------------------
def linear_cases(rng, sizes):
    Xs, _, Ws, bs = _small_problem(rng, sizes)
    X, _, W, b = _spiral_problem(rng)
    return [
        (
            f"small random inputs ({_shown(sizes, 'm', 'd', 'k')})",
            Xs,
            Ws,
            bs,
            rng.standard_normal((Xs.shape[0], Ws.shape[1])),
        ),
        ("the spiral (X 300x2, k=3)", X, W, b, rng.standard_normal((X.shape[0], W.shape[1])) / X.shape[0]),
    ]


UPSTREAM = "finite differences of sum(G * (X W + b))"


def _upstream_score(X, G, b=None, W=None):
    """s = sum(G * (X W + b)) as a function of W or b, vectorised over a leading batch axis."""
    if W is None:
        return lambda Ws: np.einsum("mk,nmk->n", G, X @ Ws + b)
    return lambda bs: np.einsum("mk,nmk->n", G, (X @ W)[None] + bs)


def dw_cases(rng, sizes):
    return [Case(label, (X, G), {"W": W, "b": b}) for label, X, W, b, G in linear_cases(rng, sizes)]


def check_dw(case, dW):
    X, G = case.args
    W, b = case.data["W"], case.data["b"]
    expected = answer(case, "dW", lambda: numerical_gradient(_upstream_score(X, G, b=b), W, vectorized=True))
    m = X.shape[0]
    alternatives = {
        "transposed": [expected.T],
        "not_averaged": [expected * m],
        "double_averaged": [expected / m],
        "sign_flipped": [-expected],
    }
    return is_close_array(dW, expected, "dW", alternatives, what=UPSTREAM)


def db_cases(rng, sizes):
    return [Case(label, (G,), {"X": X, "W": W, "b": b}) for label, X, W, b, G in linear_cases(rng, sizes)]


def check_db(case, db):
    (G,) = case.args
    X, W, b = case.data["X"], case.data["W"], case.data["b"]
    expected = answer(case, "db", lambda: numerical_gradient(_upstream_score(X, G, W=W), b, vectorized=True))
    m = G.shape[0]
    alternatives = {
        "missing_keepdims": [expected.reshape(-1)],
        "transposed": [expected.T],
        "wrong_axis": [G.sum(axis=1), G.sum(axis=1, keepdims=True)],
        "not_averaged": [expected * m],
        "double_averaged": [expected / m],
        "sign_flipped": [-expected],
    }
    return is_close_array(db, expected, "db", alternatives, what=UPSTREAM)


EXERCISE = Exercise(
    name="softmax",
    title="Softmax classifier: forward pass and gradients",
    sizes=SIZES,
    tasks=(
        Task(
            "forward",
            1,
            ("X", "W", "b"),
            "P (m,k)",
            forward_cases,
            check_forward,
            hints={
                "wrong_axis": "normalise each row (one example's k scores): divide by the sum over axis=1 "
                "with keepdims=True",
                "transposed": "return P with one row per example, shape (m,k): Z = X @ W + b is already (m,k)",
                "input_mutated": "do not subtract the maximum in place (Z -= ...): compute "
                "Z - Z.max(axis=1, keepdims=True) into a new array",
                "wrong_value": "compute Z = X @ W + b, then exp(Z - row max) / its row sums; check that b is added",
                # Shapes that do not broadcast: a row max or row sum without keepdims is (m,), not (m,1).
                "exception ValueError": "a row's max and sum need keepdims=True: E.sum(axis=1, keepdims=True) is "
                "(m,1) and divides each row of E (m,k), where (m,) does not broadcast; Z = X @ W + b is (m,d) @ "
                "(d,k) + (1,k); else read the error and the line it points to",
            },
        ),
        Task(
            "dZ",
            1,
            ("P", "y"),
            "G (m,k)",
            dz_cases,
            check_dz,
            hints={
                "not_averaged": "J is the mean of m losses, so dJ/dZ = (P - Y)/m: divide by m = P.shape[0]",
                "double_averaged": "divide by m once: dJ/dZ = (P - Y)/m",
                "transposed": "dZ has the shape of P, (m,k): one row per example",
                "input_mutated": "P[range(m), y] -= 1 changes the grader's P: copy first, G = P.copy()",
                "whole_columns": "G[:, y] -= 1 subtracts 1 from every row of each label's column: index one entry "
                "per row, G[np.arange(m), y] -= 1, then divide by m",
                # k counted from the labels: an index out of bounds, or shapes that do not broadcast.
                **dict.fromkeys(
                    ("exception IndexError", "exception ValueError"),
                    "the number of classes is k = P.shape[1], the width of P: y need not hold every class (m may "
                    "be smaller than k), so y.max() + 1 or len(np.unique(y)) can fall short of k; else read the "
                    "error and the line it points to",
                ),
            },
            forbidden_imports=AUTODIFF,
        ),
        Task(
            "dW",
            1,
            ("X", "dZ"),
            "dW (d,k)",
            dw_cases,
            check_dw,
            hints={
                "transposed": "dW = X.T @ dZ: (d,m) @ (m,k) gives (d,k), the shape of W",
                "double_averaged": "dZ already holds the 1/m of the mean: dW = X.T @ dZ with no second division",
                "not_averaged": "dW = X.T @ dZ, no extra factor of m: the 1/m is already in dZ",
                "sign_flipped": "dW = X.T @ dZ with no minus sign: the sign lives in dZ already",
                "exception ValueError": "the shapes of a product must chain: dW = X.T @ dZ, (d,m) @ (m,k) gives "
                "(d,k), the shape of W; else read the error and the line it points to",
            },
            forbidden_imports=AUTODIFF,
        ),
        Task(
            "db",
            1,
            ("dZ",),
            "db (1,k)",
            db_cases,
            check_db,
            hints={
                "missing_keepdims": "sum with keepdims=True: np.sum(dZ, axis=0, keepdims=True) is (1,k), like b",
                "wrong_axis": "b is shared by all m examples, so db adds up dZ over the examples: axis=0, not axis=1",
                "transposed": "db has the shape of b, (1,k): sum over axis=0 with keepdims=True",
                "double_averaged": "dZ already holds the 1/m: sum over axis 0, do not take the mean",
                "not_averaged": "db is the column sum of dZ, no extra factor of m",
                "sign_flipped": "db = np.sum(dZ, axis=0, keepdims=True), with no minus sign",
            },
            forbidden_imports=AUTODIFF,
        ),
    ),
)

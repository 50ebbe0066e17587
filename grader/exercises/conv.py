"""Convolution and max pooling layers (CS231n's API): forward and backward passes.

Every expected value comes from the math, in float64:
- the forwards from their definitions (cross-correlation, zero padding on H and W only);
- conv_backward's dX, dW and db from centred differences of s = sum(dZ * conv(X, W, b)),
  the grader's own forward, entry by entry on small inputs and by sampled directional
  derivatives on a 3x4x12x14 batch;
- max_pool_backward from centred differences of s = sum(dZ * max_pool(X)) on inputs
  without ties: X is a permutation of evenly spaced values, so no window has two
  maxima and no finite-difference step moves one.
Cases cover pad 0 and 1, stride 1 and 2, non-square inputs and kernels, and
overlapping pool windows; H and W are chosen so that the stride divides
H + 2 pad - HH and W + 2 pad - WW. N, C, F, H, W, HH, WW are distinct, drawn per student.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..checking.checks import is_close_array
from ..checking.gradcheck import numerical_gradient
from ..checking.spec import AUTODIFF, Case, Exercise, Part, Size, Task, answer
from . import layer_checks as lc

SIZES = {
    "N": Size(4, 2, 5),
    "C": Size(5, 2, 6),
    "F": Size(6, 3, 7),
    "H": Size(7, 6, 9),
    "W": Size(8, 7, 11),
    "HH": Size(3, 2, 4),
    "WW": Size(2, 2, 5),
}
LARGE = {"X": (3, 4, 12, 14), "W": (8, 4, 3, 3)}  # pad 1, stride 1: directional checks
CONV_PARTS = ("dX", "dW", "db")

SAYS = {
    "padded_dx": "is the gradient of the padded input: the padding was not cut off",
    "empty_at_pad_0": "is empty: X[:, :, pad:-pad] at pad 0 is X[:, :, 0:-0], an empty slice",
    "flipped_kernel": "uses the flipped kernel (a true convolution); the layer is a cross-correlation",
    "stride_ignored": "ignores the stride: its windows move one step at a time",
    "off_by_one": "has one output row and column too few: the output size is off by one",
    "padded_all_axes": "comes from an input padded on the N and C axes too",
    "pool_all_entries": "sends each window's gradient to every entry of the window, not only to its maximum",
    "pool_averaged": "spreads each window's gradient evenly over the window (average pooling's backward)",
    "pool_overwritten": "overwrites where windows overlap: their gradients must add up",
}


# -- the grader's float64 layers --------------------------------------------------------------------
def _pad(X, pad):
    return np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _windows(X, HH, WW, stride, pad):
    """(N, C, H', W', HH, WW): the window of X_pad under each output position."""
    windows = sliding_window_view(_pad(np.asarray(X, dtype=np.float64), pad), (HH, WW), axis=(2, 3))
    return windows[:, :, ::stride, ::stride]


def conv(X, W, b, stride, pad):
    """Cross-correlation of X (N, C, H, W) with W (F, C, HH, WW), plus b (F,): (N, F, H', W')."""
    windows = _windows(X, W.shape[2], W.shape[3], stride, pad)
    return np.tensordot(windows, W, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2) + b[None, :, None, None]


def by_example(forward, X, dZ):
    """Centred differences of s = sum(dZ * forward(X)) in X, for a forward that maps each example on its own:
    X[n] enters only the output's example n, so s's differences in X[n] are those of sum(dZ[n] * forward(X[n]))
    (N small stacks of perturbations instead of one of N times the size)."""

    def example(n):
        return lambda stack: np.tensordot(forward(stack), dZ[n], axes=dZ.ndim - 1)

    return np.stack([numerical_gradient(example(n), X[n], vectorized=True) for n in range(X.shape[0])])


def conv_score_gradients(dZ, X, W, b, stride, pad):
    """Centred differences of s = sum(dZ * conv(X, W, b)) in X, W and b, every entry, each input's
    perturbations evaluated as stacks (gradcheck's vectorized form)."""

    def s_of_W(stack):
        Z = np.tensordot(_windows(X, W.shape[2], W.shape[3], stride, pad), stack, axes=([1, 4, 5], [2, 3, 4]))
        return np.einsum("nijkf,nfij->k", Z, dZ) + float(np.sum(b[None, :, None, None] * dZ))

    def s_of_b(stack):
        Z = conv(X, W, np.zeros_like(b), stride, pad)[None] + stack[:, None, :, None, None]
        return np.einsum("knfij,nfij->k", Z, dZ)

    return {
        "dX": by_example(lambda stack: conv(stack, W, b, stride, pad), X, dZ),
        "dW": numerical_gradient(s_of_W, W, vectorized=True),
        "db": numerical_gradient(s_of_b, b, vectorized=True),
    }


def conv_grads(dZ, X, W, stride, pad, step=None):
    """(dX padded, dW, db) of conv, window by window; STEP (a wrong stride) names the stride_ignored mistake."""
    step = stride if step is None else step
    F, C, HH, WW = W.shape
    Xp = _pad(X, pad)
    dXp, dW = np.zeros_like(Xp), np.zeros_like(W)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
            window = Xp[:, :, rows, cols]
            if window.shape[2:] != (HH, WW):
                return None  # the wrong stride runs off the input
            dW += np.tensordot(dZ[:, :, i, j], window, axes=([0], [0]))
            dXp[:, :, rows, cols] += np.tensordot(dZ[:, :, i, j], W, axes=([1], [0]))
    return dXp, dW, dZ.sum(axis=(0, 2, 3))


def max_pool(X, ph, pw, stride):
    windows = sliding_window_view(np.asarray(X, dtype=np.float64), (ph, pw), axis=(2, 3))
    return windows[:, :, ::stride, ::stride].max(axis=(4, 5))


def _pool_variant(dZ, X, ph, pw, stride, how):
    """A known wrong max_pool_backward, window by window in the usual loop order."""
    dX = np.zeros_like(X)
    N, C, Hp, Wp = dZ.shape
    for n in range(N):
        for c in range(C):
            for i in range(Hp):
                for j in range(Wp):
                    rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
                    window = X[n, c, rows, cols]
                    at_max = window == window.max()
                    g = dZ[n, c, i, j]
                    if how == "all":
                        dX[n, c, rows, cols] += g
                    elif how == "mean":
                        dX[n, c, rows, cols] += g / (ph * pw)
                    elif how == "assign_max":
                        r, k = np.unravel_index(np.argmax(window), window.shape)
                        dX[n, c, i * stride + r, j * stride + k] = g
                    else:  # "assign_window": the whole window written, zeros included
                        dX[n, c, rows, cols] = at_max * g
    return dX


# -- inputs ------------------------------------------------------------------------------------------
def _fit(size, kernel, pad, stride, taken):
    """SIZE, or the next size whose H + 2 pad - HH the stride divides, not equal to another dimension."""
    while (size + 2 * pad - kernel) % stride or size in taken:
        size += 1
    return size


def _conv_problem(rng, sizes, pad, stride):
    N, C, F, HH, WW = (sizes[k] for k in ("N", "C", "F", "HH", "WW"))
    taken = {N, C, F, HH, WW}
    H = _fit(sizes["H"], HH, pad, stride, taken)
    Wd = _fit(sizes["W"], WW, pad, stride, taken | {H})
    X = rng.standard_normal((N, C, H, Wd))
    W = rng.standard_normal((F, C, HH, WW)) / np.sqrt(C * HH * WW)
    label = f"X {N}x{C}x{H}x{Wd}, W {F}x{C}x{HH}x{WW}, stride {stride}, pad {pad}"
    return label, X, W, rng.standard_normal(F)


SETTINGS = ((1, 1), (0, 2), (1, 2))  # (pad, stride): pad 1 first (a padded dX shows), then pad 0 (an empty one)


def conv_forward_cases(rng, sizes):
    cases = []
    for pad, stride in SETTINGS:
        label, X, W, b = _conv_problem(rng, sizes, pad, stride)
        cases.append(Case(label, (X, W, b, stride, pad)))
    return cases


def check_conv_forward(case, Z):
    X, W, b, stride, pad = case.args
    expected = conv(X, W, b, stride, pad)
    N, C = X.shape[:2]
    alternatives = {
        "flipped_kernel": [conv(X, W[:, :, ::-1, ::-1], b, stride, pad)],
        "stride_ignored": [conv(X, W, b, 1, pad)] if stride > 1 else [],
        "off_by_one": [expected[:, :, :-1, :-1]],
        "padded_all_axes": [conv(np.pad(X, pad)[:N, :C], W, b, stride, 0)] if pad else [],
    }
    return lc.said(
        is_close_array(Z, expected, "Z", alternatives, what="the cross-correlation of X and W, plus b"), "Z", SAYS
    )


def conv_backward_cases(rng, sizes):
    cases = []
    for pad, stride in SETTINGS:
        label, X, W, b = _conv_problem(rng, sizes, pad, stride)
        dZ = rng.standard_normal(conv(X, W, b, stride, pad).shape)
        cases.append(Case(label, (dZ, X, W, b, stride, pad)))
    X, W = rng.standard_normal(LARGE["X"]), rng.standard_normal(LARGE["W"]) / 6.0
    b = rng.standard_normal(LARGE["W"][0])
    dZ = rng.standard_normal(conv(X, W, b, 1, 1).shape)
    label = "a larger batch (X 3x4x12x14, W 8x4x3x3, stride 1, pad 1)"
    cases.append(Case(label, (dZ, X, W, b, 1, 1), {"large": True}))
    return cases


def check_conv_backward(case, value):
    dZ, X, W, b, stride, pad = case.args
    s = lc.upstream_score(lambda X, W, b: conv(X, W, b, stride, pad), dZ)
    inputs = {"X": X, "W": W, "b": b}
    what = "finite differences of sum(dZ * conv_forward(X, W, b))"
    if case.data.get("large"):
        return lc.large_case(value, "conv_backward", CONV_PARTS, s, inputs, {"dX": "X", "dW": "W", "db": "b"}, 0, what)
    expected = answer(case, "grads", lambda: conv_score_gradients(dZ, X, W, b, stride, pad))
    verdicts = lc.small_case(
        value, "conv_backward", CONV_PARTS, expected, lambda: _conv_mistakes(dZ, X, W, stride, pad), what
    )
    return lc.said_parts(verdicts, SAYS)


def _conv_mistakes(dZ, X, W, stride, pad):
    N, C, H, Wd = X.shape
    dXp, dW, db = conv_grads(dZ, X, W, stride, pad)
    unpad = (slice(None), slice(None), slice(pad, pad + H), slice(pad, pad + Wd))
    dX = {"padded_dx": [dXp] if pad else [], "empty_at_pad_0": [] if pad else [np.zeros((N, C, 0, 0))]}
    dWs = {}
    flipped = conv_grads(dZ, X, W[:, :, ::-1, ::-1], stride, pad)
    dX["flipped_kernel"], dWs["flipped_kernel"] = [flipped[0][unpad]], [flipped[1][:, :, ::-1, ::-1]]
    if stride > 1:
        ignored = conv_grads(dZ, X, W, stride, pad, step=1)
        if ignored is not None:
            dX["stride_ignored"], dWs["stride_ignored"] = [ignored[0][unpad]], [ignored[1]]
    if pad:  # loops over n < N and c < C of an input padded on every axis: samples and channels shifted by pad
        shifted = np.pad(X, pad)[:N, :C]
        dS, dW_shifted, _ = conv_grads(dZ, shifted, W, stride, 0)
        dWs["padded_all_axes"] = [dW_shifted]
        full = np.zeros(np.pad(X, pad).shape)
        full[:N, :C] = dS
        dX["padded_all_axes"] = [full[:, :, pad:-pad, pad:-pad], full[pad:-pad, pad:-pad, pad:-pad, pad:-pad]]
    sums = [dZ.sum(axis=axes) for axes in ((0,), (1, 2, 3), (0, 1), (0, 2), (0, 3), (2, 3), (1,))]
    return {
        "dX": dX,
        "dW": dWs,
        "db": {"wrong_axis": sums, "not_summed": [dZ], "missing_keepdims": [db.reshape(1, -1, 1, 1), db[None]]},
    }


# -- max pooling ---------------------------------------------------------------------------------------
POOLS = ((2, 2, 2), (3, 2, 1))  # (pool_height, pool_width, stride): non-overlapping, then overlapping


def _pool_problem(rng, sizes, ph, pw, stride):
    N, C = sizes["N"], sizes["C"]
    taken = {N, C, ph, pw}
    H = _fit(sizes["H"], ph, 0, stride, taken)
    Wd = _fit(sizes["W"], pw, 0, stride, taken | {H})
    # Evenly spaced values in random order: no ties, and a gap of 6/size between any two.
    X = rng.permutation(np.linspace(-3.0, 3.0, N * C * H * Wd)).reshape(N, C, H, Wd)
    label = f"X {N}x{C}x{H}x{Wd}, pool {ph}x{pw}, stride {stride}" + (" (overlapping)" if stride < max(ph, pw) else "")
    return label, X


def max_pool_forward_cases(rng, sizes):
    return [Case(label, (X, ph, pw, s)) for ph, pw, s in POOLS for label, X in [_pool_problem(rng, sizes, ph, pw, s)]]


def check_max_pool_forward(case, Z):
    X, ph, pw, stride = case.args
    expected = max_pool(X, ph, pw, stride)
    alternatives = {
        "stride_ignored": [max_pool(X, ph, pw, 1)] if stride > 1 else [],
        "off_by_one": [expected[:, :, :-1, :-1]],
    }
    return lc.said(is_close_array(Z, expected, "Z", alternatives, what="the maximum of each window"), "Z", SAYS)


def max_pool_backward_cases(rng, sizes):
    cases = []
    for ph, pw, stride in POOLS:
        label, X = _pool_problem(rng, sizes, ph, pw, stride)
        dZ = rng.standard_normal(max_pool(X, ph, pw, stride).shape)
        cases.append(Case(label, (dZ, X, ph, pw, stride)))
    return cases


def check_max_pool_backward(case, dX):
    dZ, X, ph, pw, stride = case.args

    expected = answer(case, "dX", lambda: by_example(lambda stack: max_pool(stack, ph, pw, stride), X, dZ))

    def alternatives():
        return {
            "pool_all_entries": [_pool_variant(dZ, X, ph, pw, stride, "all")],
            "pool_averaged": [_pool_variant(dZ, X, ph, pw, stride, "mean")],
            "pool_overwritten": [_pool_variant(dZ, X, ph, pw, stride, how) for how in ("assign_max", "assign_window")],
        }

    what = "finite differences of sum(dZ * max_pool_forward(X))"
    return lc.close_or_named(dX, expected, "dX", alternatives, what, SAYS)


# -- the exercise --------------------------------------------------------------------------------------
HINTS = {
    "padded_dx": "the gradient is with respect to the unpadded X: accumulate into a padded dX, then return "
    "dX_pad[:, :, pad:pad + H, pad:pad + W], of X's shape",
    "empty_at_pad_0": "slice with pad:pad + H, not pad:-pad: at pad 0, -0 is 0 and the slice 0:0 is empty",
    "flipped_kernel": "the layer is a cross-correlation, as in CS231n: Z[n, f, i, j] = sum of X_pad's window at "
    "(i * stride, j * stride) times W[f], the kernel as it is (not flipped)",
    "stride_ignored": "the window of output (i, j) starts at row i * stride and column j * stride of the padded input",
    "off_by_one": "the output has 1 + (H + 2 * pad - HH) // stride rows and 1 + (W + 2 * pad - WW) // stride columns",
    "padded_all_axes": "pad only H and W: np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad))); np.pad(X, pad) "
    "pads the examples and the channels too",
    "wrong_axis": "b[f] is added at every example and every position: db sums dZ over axes 0, 2 and 3, giving (F,)",
    "not_summed": "db sums dZ over the examples and the positions: dZ.sum(axis=(0, 2, 3)) is (F,)",
    "missing_keepdims": "db has the shape of b, (F,): dZ.sum(axis=(0, 2, 3)) without keepdims",
    "pool_all_entries": "only each window's maximum reached the output: its gradient goes to that one entry, "
    "the others get 0",
    "pool_averaged": "max pooling passes each window's whole gradient to its maximum; dividing it over the "
    "window is average pooling's backward",
    "pool_overwritten": "where windows overlap one entry can be the maximum of several: add (+=) each window's "
    "gradient, do not assign (=), and do not write the window's zeros over the others' gradients",
    "wrong_type": "return the gradients, each a numpy array: return dX, dW, db",
    "input_mutated": "compute new arrays: do not pad or change X (or W) in place",
}

EXERCISE = Exercise(
    name="conv",
    title="Convolution and max pooling: forward and backward",
    sizes=SIZES,
    tasks=(
        Task(
            "conv_forward",
            2,
            ("X", "W", "b", "stride", "pad"),
            "Z (N,F,H',W')",
            conv_forward_cases,
            check_conv_forward,
            hints=HINTS,
        ),
        Task(
            "conv_backward",
            5,
            ("dZ", "X", "W", "b", "stride", "pad"),
            "(dX, dW, db)",
            conv_backward_cases,
            check_conv_backward,
            parts=(Part("dX", 2), Part("dW", 2), Part("db", 1)),
            hints=HINTS,
            forbidden_imports=AUTODIFF,
            may_modify=("dZ",),
        ),
        Task(
            "max_pool_forward",
            1,
            ("X", "pool_height", "pool_width", "stride"),
            "Z (N,C,H',W')",
            max_pool_forward_cases,
            check_max_pool_forward,
            hints=HINTS,
        ),
        Task(
            "max_pool_backward",
            2,
            ("dZ", "X", "pool_height", "pool_width", "stride"),
            "dX (N,C,H,W)",
            max_pool_backward_cases,
            check_max_pool_backward,
            hints=HINTS,
            forbidden_imports=AUTODIFF,
            may_modify=("dZ",),
        ),
    ),
)

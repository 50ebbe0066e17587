"""The tasks two_layer and n_layer share: layer functions, loss_and_grads, train.

Every expected value is computed here, in float64, from the math:
- affine_forward and relu_forward from their definitions;
- affine_backward against centred differences of s = sum(G * (A W + b)) for a
  random upstream G; relu_backward against centred differences of
  s = sum(dA * relu(Z)), on Z kept away from the kink at 0;
- loss_and_grads: the loss against the grader's own loss (relu_net.loss), the
  gradients against directional finite differences of that loss, never of the
  learner's, so a wrong loss cannot hide wrong gradients;
- train: by the training accuracy of the grader's own forward pass on the spiral it was
  given: the public one on the public inputs, else one drawn for the grading (data.drawn_spiral).
Small shapes have no two dimensions equal, so transposes and axes are told apart: the
defaults of SIZES on the public inputs, drawn from its ranges per student (every
task's cases get them; the spiral cases keep the spiral's 300x2 and 3 classes).
"""

import numpy as np

from ..boundary import Boundary
from ..checking.checks import (
    ZEROS_HINT,
    combine,
    gradients_say,
    has_shape,
    is_array,
    is_close_array,
    is_finite,
    is_number,
    is_tuple,
    matches,
    name_mistake,
    type_text,
)
from ..checking.directional import check_directional
from ..checking.gradcheck import TOLERANCE, numerical_gradient, relative_error
from ..checking.spec import AUTODIFF, Case, Part, Size, Task, Verdict
from ..data import drawn_spiral, spiral
from . import relu_net as net

# The layer cases' m, n_in, n_out; loss_and_grads' small nets: examples x n_in, [n_in, hidden, ..., classes].
SIZES = {
    "m": Size(7, 6, 12),
    "n_in": Size(5, 3, 8),
    "n_out": Size(3, 3, 6),
    "examples": Size(11, 9, 16),
    "hidden": Size(9, 6, 12),
    "classes": Size(4, 3, 6),
}
LARGE_SCORE_TOLERANCE = 1e-3  # the loss at scores near 1000 (check_loss)
REG = 0.1  # strong enough that a missing, doubled or misplaced penalty is far above tolerance
TRAIN_HIDDEN = [100]
TRAIN_ACCURACY = 0.95
TRAIN_SECONDS = 60.0
KINK_MARGIN = 0.05  # relu_backward's Z stays this far from 0, where relu has no derivative


# -- affine_forward, relu_forward ------------------------------------------------------
def _layer(rng, m, n_prev, n):
    return rng.standard_normal((m, n_prev)), rng.standard_normal((n_prev, n)), rng.standard_normal((1, n))


def _small(sizes):
    return sizes["m"], sizes["n_in"], sizes["n_out"]


def affine_forward_cases(rng, sizes):
    X, _ = spiral()
    _, W, b = _layer(rng, 1, 2, 100)
    m, n_in, n_out = _small(sizes)
    return [
        Case(f"small random inputs (A {m}x{n_in}, W {n_in}x{n_out})", _layer(rng, m, n_in, n_out)),
        Case("the spiral's first layer (X 300x2, W 2x100)", (X, W * np.sqrt(2.0 / 2), b)),
    ]


def check_affine_forward(case, Z):
    A, W, b = case.args
    expected = A @ W + b
    return is_close_array(Z, expected, "Z", {"transposed": [expected.T]}, what="A @ W + b")


def relu_forward_cases(rng, sizes):
    m, n_in, _ = _small(sizes)
    Z = rng.standard_normal((m, n_in))
    Z[0, :2] = 0.0  # relu(0) = 0 either way: the definition, not a kink, is what is checked here
    return [
        Case(f"small random pre-activations ({m}x{n_in})", (Z,)),
        Case("pre-activations of a spiral-sized layer (300x100)", (rng.standard_normal((300, 100)),)),
    ]


def check_relu_forward(case, A):
    (Z,) = case.args
    expected = np.maximum(Z, 0.0)
    if not isinstance(A, np.ndarray):
        return is_array(A, "A", Z.shape)
    return (
        has_shape(A, Z.shape, "A", {"transposed": [expected.T]})
        or is_finite(A, "A")
        or matches(A, expected, "A", {"wrong_mask": [np.minimum(Z, 0.0)]}, what="max(Z, 0)")
    )


# -- affine_backward, relu_backward --------------------------------------------------------
def affine_backward_cases(rng, sizes):
    X, _ = spiral()
    m, n_in, n_out = _small(sizes)
    A, W, b = _layer(rng, m, n_in, n_out)
    G = rng.standard_normal((m, n_out))
    _, W1, b1 = _layer(rng, 1, 2, 100)
    G1 = rng.standard_normal((X.shape[0], 100)) / X.shape[0]
    return [
        Case(f"small random inputs (dZ {m}x{n_out}, A_prev {m}x{n_in}, W {n_in}x{n_out})", (G, A, W), {"b": b}),
        Case("the spiral's first layer (dZ 300x100, X 300x2, W 2x100)", (G1, X, W1), {"b": b1}),
    ]


def check_affine_backward(case, value):
    """{dA_prev, dW, db: None or Verdict}: each gradient is graded on its own (a part of the task)."""
    G, A, W = case.args
    b = case.data["b"]
    m = A.shape[0]
    wrong = is_tuple(value, "affine_backward", 3, "(dA_prev, dW, db)")
    if wrong:
        return wrong

    def s_of(A_, W_, b_):  # s = sum(G * (A W + b)): its gradients are G W^T, A^T G and G's column sums
        return float(np.sum(G * (A_ @ W_ + b_)))

    dA = numerical_gradient(lambda A_: s_of(A_, W, b), A)
    dW = numerical_gradient(lambda W_: s_of(A, W_, b), W)
    db = numerical_gradient(lambda b_: s_of(A, W, b_), b)
    what = "finite differences of sum(dZ * (A_prev W + b))"
    alternatives = {
        "dA_prev": {"transposed": [dA.T], "sign_flipped": [-dA]},
        "dW": {"transposed": [dW.T], "not_averaged": [dW * m], "double_averaged": [dW / m], "sign_flipped": [-dW]},
        "db": {
            "missing_keepdims": [db.reshape(-1)],
            "transposed": [db.T],
            "wrong_axis": [G.sum(axis=1), G.sum(axis=1, keepdims=True)],
            "double_averaged": [db / m],
            "not_averaged": [db * m],
            "sign_flipped": [-db],
        },
    }
    expected = {"dA_prev": dA, "dW": dW, "db": db}
    return {
        name: is_close_array(got, expected[name], name, alternatives[name], what=what)
        for name, got in zip(("dA_prev", "dW", "db"), value)
    }


def relu_backward_cases(rng, sizes):
    def away_from_kink(shape):
        Z = rng.standard_normal(shape)
        return np.sign(Z) * (np.abs(Z) + KINK_MARGIN)

    m, n_in, _ = _small(sizes)
    return [
        Case(
            f"small random inputs (dA, Z {m}x{n_in})",
            (rng.standard_normal((m, n_in)), away_from_kink((m, n_in))),
        ),
        Case(
            "a spiral-sized layer (dA, Z 300x100)", (rng.standard_normal((300, 100)) / 300, away_from_kink((300, 100)))
        ),
    ]


def check_relu_backward(case, dZ):
    dA, Z = case.args
    h = KINK_MARGIN / 10
    # s = sum(dA * relu(Z)) is a sum of one term per entry, so the centred difference
    # of every entry at once equals the entry-by-entry one. |Z| > h: no kink inside.
    expected = dA * (np.maximum(Z + h, 0.0) - np.maximum(Z - h, 0.0)) / (2 * h)
    # The mask taken from dA, no mask at all, or the mask inverted: one mistake, three shapes.
    alternatives = {"wrong_mask": [dA * (dA > 0), dA, dA * (Z < 0)], "transposed": [expected.T]}
    what = "finite differences of sum(dA * relu(Z))"
    return is_close_array(dZ, expected, "dZ", alternatives, what=what)


# -- loss_and_grads -----------------------------------------------------------------------
def loss_cases(nets):
    """nets(sizes): (label, layer sizes, m or None for the spiral) for each case."""

    def cases(rng, dimensions):
        made = []
        for label, sizes, m in nets(dimensions):
            if m is None:
                X, y = spiral()
            else:
                X, y = rng.standard_normal((m, sizes[0])), rng.integers(0, sizes[-1], m)
            params = net.init_params(rng, sizes)
            seed = int(rng.integers(2**32))
            made.append(Case(label, (X, y, params, REG), {"seed": seed}))
        # The first network with its scores near +1000 (softmax is shift-invariant: the loss is unchanged),
        # for the loss only: exp(1000) overflows unless each row's max is subtracted first. Drawn last.
        X, y, params, _ = made[0].args
        shifted = {**params, f"b{net.layers(params)}": params[f"b{net.layers(params)}"] + 1000.0}
        label = f"{made[0].label}, 1000 added to its last bias (the loss is unchanged)"
        made.append(Case(label, (X, y, shifted, REG), {"large": True}, parts=("loss",)))
        return made

    return cases


def check_loss_and_grads(case, value):
    """{loss, grads: None or Verdict}: a right loss earns its point whatever the gradients are."""
    X, y, params, reg = case.args
    wrong = is_tuple(value, "loss_and_grads", 2, "(loss, grads)")
    if wrong:
        return wrong
    loss, grads = value
    if case.data.get("large"):
        return {"loss": check_loss(loss, params, X, y, reg, large=True)}
    loss_verdict = check_loss(loss, params, X, y, reg)
    grads_verdict = check_grads(grads, params, X, y, reg, case.data["seed"], loss_right=loss_verdict is None)
    if grads_verdict is None and loss_verdict is not None and loss_verdict.diagnoses == ("double_regularization",):
        # The gradients are those of 0.5 reg sum(W**2), the loss has reg sum(W**2): two conventions mixed.
        fact = (
            "loss has the penalty reg * sum(W**2), but the gradients hold reg * W, the gradient of "
            "0.5 * reg * sum(W**2): the loss and its gradients use two conventions"
        )
        loss_verdict = Verdict(fact, ("half_penalty",), (loss_verdict.fact,))
    return {"loss": loss_verdict, "grads": grads_verdict}


LOSS_HINT = (
    "no common mistake matches: compute the loss as the docstring defines it, term by term: the mean over "
    "the m examples of -log(softmax(scores)[y]), plus 0.5 * reg * the sum of every W**2 (no biases); "
    "the line above gives the right value of each term"
)


def check_loss(loss, params, X, y, reg, large=False):
    """large: scores near 1000, where float32 arithmetic alone loses about 1e-4 of the loss (Z's rounding),
    and a softmax that overflows is off by far more (inf, NaN)."""
    wrong = is_number(loss, "loss")
    if wrong:
        return wrong
    got = float(np.asarray(loss, dtype=np.float64).reshape(-1)[0])
    scores, _ = net.forward(params, X)
    data, penalty = net.data_loss(scores, y), net.penalty(params, reg)
    expected = data + penalty
    if not np.isfinite(got):
        if large:
            return Verdict(f"loss is {got} at scores near 1000, expected {expected:.6g}", ("unstable_softmax",))
        return Verdict(f"loss is {got}", ("nan_or_inf",))
    if abs(got - expected) <= (LARGE_SCORE_TOLERANCE if large else TOLERANCE) * max(abs(got), abs(expected)):
        return None
    if large:
        fact = f"loss is {got:.6g} at scores near 1000, expected {expected:.6g}, as at the same scores without the 1000"
        return Verdict(fact, ("unstable_softmax",))
    bias_penalty = 0.5 * reg * sum(float(np.sum(params[k] ** 2)) for k in params if k.startswith("b"))
    alternatives = {
        "missing_regularization": [np.float64(data)],
        "double_regularization": [np.float64(data + 2 * penalty)],
        "regularized_bias": [np.float64(expected + bias_penalty)],
        "not_averaged": [np.float64(data * X.shape[0] + penalty)],
        "off_by_one_class": [np.float64(net.data_loss(scores, y - 1) + penalty)],  # y - 1: class 0 wraps to k-1
    }
    named = name_mistake(np.asarray(got), alternatives)
    fact = f"loss is {got:.6g}, expected {expected:.6g} (mean cross-entropy {data:.6g} + penalty {penalty:.6g})"
    return Verdict(fact, (named,)) if named else Verdict(fact, ("wrong_value",), hint=LOSS_HINT)


# When some blocks, not all, lack the 1/m: the mean's factor was applied gradient by gradient.
PARTLY_AVERAGED_HINT = (
    "the loss is a mean over m examples, so every gradient carries its 1/m: divide dscores by m once, "
    "right after subtracting the one-hot labels, and every gradient computed from it has it "
    "(dividing each gradient afterwards is easy to forget for one of them)"
)


def check_grads(grads, params, X, y, reg, seed, loss_right=False):
    """None or a Verdict; loss_right: the learner's loss is right, so gradients with the penalty
    twice (2 reg * W) mix two conventions of the penalty (half_penalty) rather than double it."""
    upstream = {}
    right = net.backprop(params, X, y, reg, upstream=upstream)
    wrong = _grads_structure(grads, params, right, upstream)
    if wrong:
        return wrong
    result = check_directional(net.loss_with_kinks(X, y, reg), params, grads, seed=seed)
    if result.passed:
        return None
    named = name_gradient_mistakes(grads, params, X, y, reg, right)
    if not named:
        zeros = [key for key in params if not np.any(grads[key]) and np.any(right[key])]
        if not zeros:
            return Verdict(result.message, ("wrong_value",), result.details)
        said = f"{_blocks_text(zeros)} {'is' if len(zeros) == 1 else 'are'} all zeros"
        return Verdict(result.message, ("wrong_value",), (said, *result.details), hint=ZEROS_HINT)
    if loss_right and [code for code, _ in named] == ["double_regularization"]:
        named = [("half_penalty", named[0][1])]
    fact = "; ".join(f"{_blocks_text(blocks)} {gradients_say(code, blocks)}" for code, blocks in named)
    codes = tuple(dict.fromkeys(net.DIAGNOSIS.get(code, code) for code, _ in named))
    hint = PARTLY_AVERAGED_HINT if codes == ("not_averaged",) and len(named[0][1]) < len(params) else None
    return Verdict(fact, codes, (result.message, *result.details), hint=hint)


def _blocks_text(blocks):
    return ", ".join(f"grads[{key!r}]" for key in blocks)


SHOWN_KEYS = 12  # of a learner's dict, named in a message
KEY_CHARACTERS = 40  # of each


def keys_text(keys):
    """A learner's dict keys for a message: the first SHOWN_KEYS, each cut at KEY_CHARACTERS (a key is any
    text the submission chose, as long as it likes, and there may be thousands)."""
    keys = list(keys)
    shown = [key if len(key) <= KEY_CHARACTERS else key[: KEY_CHARACTERS - 3] + "..." for key in keys[:SHOWN_KEYS]]
    more = len(keys) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _grads_structure(grads, params, right, upstream):
    if not isinstance(grads, dict):
        return Verdict(f"grads is {type_text(grads)}, expected a dict with keys {', '.join(params)}", ("wrong_type",))
    missing = [k for k in params if k not in grads]
    extra = [k for k in grads if k not in params]
    if missing or extra:
        said = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {keys_text(extra)}" if extra else "",
            )
            if part
        )
        return Verdict(f"grads has the wrong keys ({said}): it needs exactly those of params", ("wrong_keys",))
    verdicts = []
    for key in params:
        got, want = grads[key], right[key]
        alternatives = {"transposed": [want.T]}
        if key.startswith("b"):
            dZ = upstream[f"Z{key[1:]}"]
            alternatives.update(
                {"missing_keepdims": [want.reshape(-1)], "wrong_axis": [dZ.sum(axis=1), dZ.sum(axis=1, keepdims=True)]}
            )
        name = f"grads[{key!r}]"
        # On the scale of the right answer: the scores' dZ has rows that sum to 0, so the last
        # layer's db over the wrong axis is rounding noise, which only that scale can recognise.
        verdicts.append(
            is_array(got, name, want.shape)
            or has_shape(got, want.shape, name, alternatives, scale=float(np.linalg.norm(want)))
            or is_finite(got, name)
        )
    return combine(verdicts)


def name_gradient_mistakes(grads, params, X, y, reg, right):
    """[(code, blocks)]: the known mistakes that explain every wrong block, else [].

    Each block is compared on its own with the grader's right gradient and with the same
    block of each known wrong backward pass (relu_net.VARIANTS) and, when square, its
    transpose. A mistake made in every block (a missing 1/m) and one made in a single
    block (only db2 left without its 1/m, only W2 without reg * W) are both named, with
    the blocks it touched. One code must explain every wrong block; failing that, each
    wrong block must have exactly one; otherwise nothing is named.
    """

    def close(got, want):
        return want is not None and relative_error(got, want) <= TOLERANCE

    variants = [(code, net.backprop(params, X, y, reg, variant)) for variant, code in net.VARIANTS.items()]
    explained = {}
    for key in params:
        if close(grads[key], right[key]):
            continue
        codes = {code for code, alt in variants if alt is not None and close(grads[key], alt[key])}
        shape = right[key].shape
        if len(shape) == 2 and shape[0] == shape[1] > 1 and close(grads[key], right[key].T):
            codes.add("transposed")
        explained[key] = codes
    if not explained or not all(explained.values()):
        return []
    common = set.intersection(*explained.values())
    if len(common) == 1:
        return [(common.pop(), list(explained))]
    if any(len(codes) != 1 for codes in explained.values()):
        return []
    grouped = {}
    for key, (code,) in explained.items():
        grouped.setdefault(code, []).append(key)
    return list(grouped.items())


# -- train ------------------------------------------------------------------------------
def train_cases(probe_hidden, public):
    """The accuracy run, then a run with other hidden sizes whose params must follow them
    (only their shapes are checked), so a train that ignores hidden_sizes fails.

    PUBLIC: on the public spiral (the public inputs: students see it, and their plot);
    else on a spiral drawn from the grading seed (and the student's variant), turned,
    spaced and blurred so that params fitted to any other spiral fail (data.drawn_spiral)."""

    def cases(rng, _sizes):
        X, y = spiral() if public else drawn_spiral(rng)
        which = "the spiral" if public else "a spiral drawn for this grading"
        return [
            Case(
                f"{which} (X 300x2, 3 classes), hidden_sizes={TRAIN_HIDDEN}",
                (X, y, list(TRAIN_HIDDEN), int(rng.integers(2**31))),
            ),
            # Its own part only: a call that runs out of time here leaves the first call's accuracy standing.
            Case(
                f"{which}, hidden_sizes={list(probe_hidden)} (only the params' shapes are checked)",
                (X, y, list(probe_hidden), int(rng.integers(2**31))),
                {"shapes_only": True},
                parts=("hidden_sizes",),
            ),
        ]

    return cases


def _layer_shapes(X, y, hidden):
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    want = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        want[f"W{l}"], want[f"b{l}"] = (n_in, n_out), (1, n_out)
    return sizes, want


def _params_structure(params, X, y, hidden):
    """None when params is a dict of finite arrays shaped for [d, *hidden, k], else a Verdict."""
    sizes, want = _layer_shapes(X, y, hidden)
    if not isinstance(params, dict):
        return Verdict(f"train returned {type_text(params)}, expected the params dict", ("wrong_type",))
    if set(params) != set(want):
        return Verdict(
            f"train returned keys {keys_text(sorted(params))}, expected {', '.join(want)} for layer sizes {sizes}",
            ("wrong_keys",),
        )
    return combine(
        is_array(params[k], f"params[{k!r}]", shape)
        or has_shape(params[k], shape, f"params[{k!r}]")
        or is_finite(params[k], f"params[{k!r}]")
        for k, shape in want.items()
    )


def check_train(case, params):
    """{accuracy, hidden_sizes}: the accuracy run checks both; the run with other sizes only the shapes."""
    X, y, hidden, _ = case.args
    wrong = _params_structure(params, X, y, hidden)
    if case.data.get("shapes_only"):
        return {"hidden_sizes": wrong}
    if wrong:
        return wrong  # no usable params: neither part can pass
    sizes, want = _layer_shapes(X, y, hidden)
    accuracy = net.accuracy({k: np.asarray(params[k], dtype=np.float64) for k in want}, X, y)
    if accuracy >= TRAIN_ACCURACY:
        return None
    return {
        "accuracy": Verdict(
            f"training accuracy is {accuracy:.1%}, expected at least {TRAIN_ACCURACY:.0%}",
            ("low_accuracy",),
            (f"layer sizes {sizes}",),
        ),
        "hidden_sizes": None,
    }


def train_artifacts(case, params):
    """The decision boundary of the accuracy run's params, for `grade check --plot`, when they are usable."""
    X, y, hidden, _ = case.args
    if case.data.get("shapes_only") or _params_structure(params, X, y, hidden):
        return {}
    _, want = _layer_shapes(X, y, hidden)
    params = {k: np.asarray(params[k], dtype=np.float64) for k in want}
    return {"boundary": Boundary(X, y, params, net.accuracy(params, X, y))}


def tasks(nets, hidden_doc, probe_hidden):
    """The six tasks; `nets(sizes)` gives loss_and_grads' cases, `hidden_doc` what train's hidden_sizes means,
    `probe_hidden` the other hidden sizes train is called with."""
    return (
        Task(
            "affine_forward",
            1,
            ("A", "W", "b"),
            "Z (m,n)",
            affine_forward_cases,
            check_affine_forward,
            hints={
                "transposed": "Z = A @ W + b is (m,n): one row per example",
                "wrong_value": "Z = A @ W + b: check that b is added (it is (1,n) and broadcasts down the rows)",
            },
        ),
        Task(
            "relu_forward",
            1,
            ("Z",),
            "A (m,n)",
            relu_forward_cases,
            check_relu_forward,
            hints={
                "wrong_mask": "relu keeps the positive part: np.maximum(Z, 0), not the negative one",
                "input_mutated": "do not clamp Z in place (Z[Z < 0] = 0): relu_backward still needs Z; "
                "return np.maximum(Z, 0), a new array",
            },
        ),
        # dA_prev is the step that makes it backpropagation (it carries the gradient to every layer
        # below, and a mistake there spoils them all); dW and db are each a one-line local gradient.
        Task(
            "affine_backward",
            2,
            ("dZ", "A_prev", "W"),
            "(dA_prev, dW, db)",
            affine_backward_cases,
            check_affine_backward,
            parts=(Part("dA_prev", 1), Part("dW", 0.5), Part("db", 0.5)),
            hints={
                "transposed": "dA_prev = dZ @ W.T (m,n_prev), dW = A_prev.T @ dZ (n_prev,n): "
                "each has the shape of what it is the gradient of",
                "double_averaged": "dZ already holds the 1/m of the mean: dW = A_prev.T @ dZ and "
                "db = dZ.sum(axis=0, keepdims=True), with no division",
                "not_averaged": "dW = A_prev.T @ dZ and db = dZ.sum(axis=0, keepdims=True), with no factor m",
                "missing_keepdims": "db = dZ.sum(axis=0, keepdims=True) is (1,n), like b",
                "wrong_axis": "b is shared by all m examples: db sums dZ over the examples, axis=0",
                "sign_flipped": "no minus signs: the chain rule multiplies, dA_prev = dZ @ W.T, dW = A_prev.T @ dZ",
                "wrong_type": "return the three gradients, each a numpy array: return dA_prev, dW, db",
            },
            forbidden_imports=AUTODIFF,
        ),
        Task(
            "relu_backward",
            1,
            ("dA", "Z"),
            "dZ (m,n)",
            relu_backward_cases,
            check_relu_backward,
            hints={
                "input_mutated": "do not zero dA in place: return dA * (Z > 0), a new array",
            },
            forbidden_imports=AUTODIFF,
        ),
        Task(
            "loss_and_grads",
            3,
            ("X", "y", "params", "reg"),
            "(loss, grads)",
            loss_cases(nets),
            check_loss_and_grads,
            parts=(Part("loss", 1), Part("grads", 2)),
            hints={
                "not_averaged": "the loss is a mean over m examples: dscores = (probs - onehot(y)) / m, "
                "and the loss divides the summed cross-entropy by m",
                "transposed": "dW_l = A_{l-1}.T @ dZ_l is (n_{l-1}, n_l), the shape of W_l",
                "wrong_axis": "db_l = dZ_l.sum(axis=0, keepdims=True): b is shared by the m examples",
                "missing_keepdims": "db_l = dZ_l.sum(axis=0, keepdims=True) is (1, n_l), like b_l",
                "whole_columns": "dscores[:, y] -= 1 subtracts 1 from every row of each label's column: index one "
                "entry per example, dscores[np.arange(m), y] -= 1",
                "input_mutated": "do not update params or modify X inside loss_and_grads: compute new arrays",
                "wrong_type": "return loss, grads: loss a float, grads a dict of numpy arrays, one per key of params",
                "off_by_one_class": "labels are class indices from 0 to k-1, the columns of the scores as they "
                "are: the loss takes -log probs[np.arange(m), y] and dscores subtracts 1 at [np.arange(m), y], "
                "with no shift of y",
                "double_averaged": "dscores = (probs - onehot(y)) / m already holds the 1/m: each db_l is "
                "dZ_l.sum(axis=0, keepdims=True), a sum, not a mean, and dscores is divided by m once",
                "unstable_softmax": "exp(1000) overflows to inf: subtract each row's max from scores before exp "
                "(softmax(s) = softmax(s - c) for a constant c per row), and take the log of the shifted values",
            },
            forbidden_imports=AUTODIFF,
        ),
        Task(
            "train",
            2,
            ("X", "y", "hidden_sizes", "seed"),
            f"params ({hidden_doc})",
            train_cases(probe_hidden, public=False),
            check_train,
            parts=(Part("accuracy", 1), Part("hidden_sizes", 1)),
            artifacts=train_artifacts,
            timeout=TRAIN_SECONDS,
            public_cases=train_cases(probe_hidden, public=True),
            hints={
                "wrong_type": "return the trained params: a dict of numpy arrays W1, b1, ..., WL, bL",
                "shape_mismatch": "follow hidden_sizes: layer sizes [d, *hidden_sizes, k], W_l is "
                "(sizes[l-1], sizes[l]) and b_l is (1, sizes[l])",
                "timeout": f"each call of train must finish within {TRAIN_SECONDS:g} s: vectorise the forward and "
                "backward passes (no Python loop over examples), a few thousand full-batch steps suffice",
            },
            forbidden_imports=AUTODIFF,
        ),
    )

"""Recurrent layers: a vanilla RNN (one step, then backprop through time) and an LSTM step.

Every expected value comes from the math, in float64:
- the forwards from their definitions (CS231n's gate order i, f, o, g for the LSTM);
- every backward's gradients from centred differences of s = sum(upstream * forward(...)),
  the grader's own forward (layer_checks): for rnn_backward, s = sum(dh * h) over all
  the hidden states h_1..h_T, so backprop through time is checked as a whole; entry by
  entry on small inputs, by sampled directional derivatives on larger ones.
Weights are scaled by 1/sqrt(fan-in) so that tanh and the gates stay away from
saturation, where their derivatives vanish and a wrong one would go unseen. N, D, H
and T are distinct, drawn per student. The mistakes are named by comparing with the
grader's own wrong backward passes (a wrong tanh', Wx and Wh swapped, no carry through
time, a gate order other than i, f, o, g, a missing tanh'(next_c), ...).
"""

from itertools import permutations

import numpy as np

from ..checking.checks import is_close_array
from ..checking.spec import AUTODIFF, Case, Exercise, Part, Size, Task, answer
from . import layer_checks as lc

SIZES = {"N": Size(3, 2, 5), "D": Size(5, 4, 7), "H": Size(4, 3, 6), "T": Size(6, 5, 8)}
LARGE = {"N": 8, "D": 20, "H": 16, "T": 12}
ORDER = "ifog"
WRONG_ORDERS = ["".join(order) for order in permutations(ORDER) if "".join(order) != ORDER]
STEP_PARTS = ("dx", "dprev_h", "dWx", "dWh", "db")
BPTT_PARTS = ("dx", "dh0", "dWx", "dWh", "db")
LSTM_PARTS = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")

SAYS = {
    "wrong_tanh_derivative": "uses the wrong tanh derivative: 1 - tanh(a)**2 is 1 - next_h**2",
    "swapped_weights": "is the gradient of the other weight (Wx and Wh swapped)",
    "no_carry": "does not carry each hidden state's gradient back to the step before",
    "upstream_added_twice": "adds the upstream gradient dh[:, t] twice",
    "wrong_gate_order": "splits the gates in another order than i, f, o, g",
    "missing_tanh_derivative": "lacks the tanh'(next_c) factor on the path from next_h to next_c",
    "dprev_c_without_f": "lacks the factor f: next_c = f * prev_c + i * g",
    "forget_gate_without_prev_c": "has a forget-gate gradient without the factor prev_c",
}


# -- the grader's float64 layers ---------------------------------------------------------------------
def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_step(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def rnn(x, h0, Wx, Wh, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = rnn_step(x[:, t], h, Wx, Wh, b)
        states.append(h)
    return np.stack(states, axis=1)


def lstm_step(x, prev_h, prev_c, Wx, Wh, b, order=ORDER):
    """(next_h, next_c), the gates split from a = x Wx + prev_h Wh + b in ORDER."""
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    gate = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = sigmoid(gate["i"]), sigmoid(gate["f"]), sigmoid(gate["o"]), np.tanh(gate["g"])
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c


# -- the grader's wrong backward passes, to name mistakes ----------------------------------------------
TANH_DERIVATIVES = ("right", "pre", "prev")


def _step_grads(dnext_h, x, prev_h, Wx, Wh, b, derivative="right"):
    a = x @ Wx + prev_h @ Wh + b
    slope = {"right": 1 - np.tanh(a) ** 2, "pre": 1 - a**2, "prev": 1 - prev_h**2}[derivative]
    da = dnext_h * slope
    return {"dx": da @ Wx.T, "dprev_h": da @ Wh.T, "dWx": x.T @ da, "dWh": prev_h.T @ da, "db": da.sum(axis=0)}


def _bptt(dh, x, h0, Wx, Wh, b, derivative="right", carry=True, twice=False):
    states = rnn(x, h0, Wx, Wh, b)
    previous = np.concatenate([h0[:, None], states[:, :-1]], axis=1)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        current = dh[:, t] * (2 if twice else 1) + (dnext if carry else 0)
        g = _step_grads(current, x[:, t], previous[:, t], Wx, Wh, b, derivative)
        dx[:, t], dnext = g["dx"], g["dprev_h"]
        dWx, dWh, db = dWx + g["dWx"], dWh + g["dWh"], db + g["db"]
    return {"dx": dx, "dh0": dnext, "dWx": dWx, "dWh": dWh, "db": db}


def _lstm_grads(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b, order=ORDER, mistake=None):
    a = x @ Wx + prev_h @ Wh + b
    H = prev_h.shape[1]
    gate = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = sigmoid(gate["i"]), sigmoid(gate["f"]), sigmoid(gate["o"]), np.tanh(gate["g"])
    tanh_c = np.tanh(f * prev_c + i * g)
    slope = 1.0 if mistake == "missing_tanh_derivative" else 1 - tanh_c**2
    dc = dnext_c + dnext_h * o * slope
    df = dc * (1.0 if mistake == "forget_gate_without_prev_c" else prev_c)
    da_gate = {"i": dc * g * i * (1 - i), "f": df * f * (1 - f), "o": dnext_h * tanh_c * o * (1 - o)}
    da_gate["g"] = dc * i * (1 - g**2)
    da = np.concatenate([da_gate[name] for name in order], axis=1)
    return {
        "dx": da @ Wx.T,
        "dprev_h": da @ Wh.T,
        "dprev_c": dc * (1.0 if mistake == "dprev_c_without_f" else f),
        "dWx": x.T @ da,
        "dWh": prev_h.T @ da,
        "db": da.sum(axis=0),
    }


def _collect(variants, parts, extra=None):
    """{part: {code: candidates}} from [(code, {part: array})]."""
    found = {part: {} for part in parts}
    for code, grads in variants:
        for part in parts:
            if part in grads:
                found[part].setdefault(code, []).append(grads[part])
    for part, codes in (extra or {}).items():
        for code, candidates in codes.items():
            found[part].setdefault(code, []).extend(candidates)
    return found


def _shared_mistakes(right, parts):
    """Transposes, a sum over the wrong axis and swapped weights, from the right gradients."""
    extra = {part: {"transposed": [right[part].T]} for part in parts if right[part].ndim == 2}
    extra["dWx"]["swapped_weights"] = [right["dWh"]]
    extra["dWh"]["swapped_weights"] = [right["dWx"]]
    return extra


# -- inputs ---------------------------------------------------------------------------------------
def _weights(rng, D, H, gates=1):
    Wx = rng.standard_normal((D, gates * H)) / np.sqrt(D)
    Wh = rng.standard_normal((H, gates * H)) / np.sqrt(H)
    return Wx, Wh, rng.standard_normal(gates * H) * 0.3


def _dims(sizes):
    return sizes["N"], sizes["D"], sizes["H"], sizes["T"]


def step_cases(backward):
    def cases(rng, sizes):
        N, D, H, _ = _dims(sizes)
        x, prev_h = rng.standard_normal((N, D)), np.tanh(rng.standard_normal((N, H)))
        Wx, Wh, b = _weights(rng, D, H)
        label = f"x {N}x{D}, prev_h {N}x{H}"
        if backward:
            return [Case(label, (rng.standard_normal((N, H)), x, prev_h, Wx, Wh, b))]
        return [Case(label, (x, prev_h, Wx, Wh, b))]

    return cases


def check_step_forward(case, next_h):
    x, prev_h, Wx, Wh, b = case.args
    return is_close_array(next_h, rnn_step(x, prev_h, Wx, Wh, b), "next_h", what="tanh(x Wx + prev_h Wh + b)")


def check_step_backward(case, value):
    dnext_h, x, prev_h, Wx, Wh, b = case.args
    s = lc.upstream_score(rnn_step, dnext_h)
    inputs = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "b": b}
    grads = answer(case, "grads", lambda: lc.fd_gradients(s, inputs, list(inputs)))
    expected = dict(zip(STEP_PARTS, (grads[name] for name in inputs)))

    def mistakes():
        right = _step_grads(dnext_h, x, prev_h, Wx, Wh, b)
        extra = _shared_mistakes(right, STEP_PARTS)
        extra["dx"]["swapped_weights"] = [right["dprev_h"]]
        extra["dprev_h"]["swapped_weights"] = [right["dx"]]
        wrong = [("wrong_tanh_derivative", _step_grads(dnext_h, x, prev_h, Wx, Wh, b, d)) for d in ("pre", "prev")]
        return _collect(wrong, STEP_PARTS, extra)

    what = "finite differences of sum(dnext_h * next_h)"
    return lc.said_parts(lc.small_case(value, "rnn_step_backward", STEP_PARTS, expected, mistakes, what), SAYS)


def sequence_cases(backward):
    def cases(rng, sizes):
        made = []
        for (N, D, H, T), large in ((_dims(sizes), False), (tuple(LARGE.values()), True)):
            x, h0 = rng.standard_normal((N, T, D)), np.tanh(rng.standard_normal((N, H)))
            Wx, Wh, b = _weights(rng, D, H)
            label = f"x {N}x{T}x{D}, h0 {N}x{H}"
            if backward:
                made.append(Case(label, (rng.standard_normal((N, T, H)), x, h0, Wx, Wh, b), {"large": large}))
            elif not large:
                made.append(Case(label, (x, h0, Wx, Wh, b)))
        return made

    return cases


def check_sequence_forward(case, h):
    x, h0, Wx, Wh, b = case.args
    return is_close_array(h, rnn(x, h0, Wx, Wh, b), "h", what="h_t = tanh(x_t Wx + h_{t-1} Wh + b) for t = 1..T")


def check_sequence_backward(case, value):
    dh, x, h0, Wx, Wh, b = case.args
    s = lc.upstream_score(rnn, dh)
    inputs = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b}
    what = "finite differences of sum(dh * h) over all T hidden states"
    of = dict(zip(BPTT_PARTS, inputs))
    if case.data["large"]:
        return lc.large_case(value, "rnn_backward", BPTT_PARTS, s, inputs, of, 0, what)
    grads = answer(case, "grads", lambda: lc.fd_gradients(s, inputs, list(inputs)))
    expected = {part: grads[name] for part, name in of.items()}

    def mistakes():
        wrong = [("wrong_tanh_derivative", _bptt(dh, x, h0, Wx, Wh, b, d)) for d in ("pre", "prev")]
        wrong += [("no_carry", _bptt(dh, x, h0, Wx, Wh, b, carry=False))]
        wrong += [("upstream_added_twice", _bptt(dh, x, h0, Wx, Wh, b, twice=True))]
        return _collect(wrong, BPTT_PARTS, _shared_mistakes(_bptt(dh, x, h0, Wx, Wh, b), BPTT_PARTS))

    return lc.said_parts(lc.small_case(value, "rnn_backward", BPTT_PARTS, expected, mistakes, what), SAYS)


# -- the LSTM step ------------------------------------------------------------------------------------
def lstm_cases(backward):
    def cases(rng, sizes):
        made = []
        for (N, D, H), large in ((_dims(sizes)[:3], False), ((20, 30, 25), True)):
            if large and not backward:
                continue
            x, prev_h, prev_c = (
                rng.standard_normal((N, D)),
                np.tanh(rng.standard_normal((N, H))),
                rng.standard_normal((N, H)),
            )
            Wx, Wh, b = _weights(rng, D, H, gates=4)
            label = f"x {N}x{D}, prev_h and prev_c {N}x{H}"
            if backward:
                upstream = rng.standard_normal((N, H)), rng.standard_normal((N, H))
                made.append(Case(label, (*upstream, x, prev_h, prev_c, Wx, Wh, b), {"large": large}))
            else:
                made.append(Case(label, (x, prev_h, prev_c, Wx, Wh, b)))
        return made

    return cases


def check_lstm_forward(case, value):
    x, prev_h, prev_c, Wx, Wh, b = case.args
    wrong = lc.gradients_tuple(value, "lstm_step_forward", ("next_h", "next_c"))
    if wrong:
        return wrong
    expected = dict(zip(("next_h", "next_c"), lstm_step(x, prev_h, prev_c, Wx, Wh, b)))
    others = [lstm_step(x, prev_h, prev_c, Wx, Wh, b, order) for order in WRONG_ORDERS]
    what = "next_c = f * prev_c + i * g, next_h = o * tanh(next_c)"
    return {
        part: lc.said(
            is_close_array(got, expected[part], part, {"wrong_gate_order": [o[k] for o in others]}, what=what),
            part,
            SAYS,
        )
        for k, (part, got) in enumerate(zip(("next_h", "next_c"), value))
    }


def check_lstm_backward(case, value):
    dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b = case.args

    def s(x, prev_h, prev_c, Wx, Wh, b):
        next_h, next_c = lstm_step(x, prev_h, prev_c, Wx, Wh, b)
        return float(np.sum(dnext_h * next_h) + np.sum(dnext_c * next_c))

    inputs = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "b": b}
    of = dict(zip(LSTM_PARTS, inputs))
    what = "finite differences of sum(dnext_h * next_h + dnext_c * next_c)"
    if case.data["large"]:
        return lc.large_case(value, "lstm_step_backward", LSTM_PARTS, s, inputs, of, 0, what)
    grads = answer(case, "grads", lambda: lc.fd_gradients(s, inputs, list(inputs)))
    expected = {part: grads[name] for part, name in of.items()}
    upstream = (dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b)

    def mistakes():
        wrong = [("wrong_gate_order", _lstm_grads(*upstream, order=order)) for order in WRONG_ORDERS]
        wrong += [(code, _lstm_grads(*upstream, mistake=code)) for code in LSTM_MISTAKES]
        right = _lstm_grads(*upstream)
        extra = _shared_mistakes(right, LSTM_PARTS)
        return _collect(wrong, LSTM_PARTS, extra)

    return lc.said_parts(lc.small_case(value, "lstm_step_backward", LSTM_PARTS, expected, mistakes, what), SAYS)


LSTM_MISTAKES = ("missing_tanh_derivative", "dprev_c_without_f", "forget_gate_without_prev_c")


# -- the exercise ----------------------------------------------------------------------------------
HINTS = {
    "wrong_tanh_derivative": "d tanh(a)/da = 1 - tanh(a)**2, and tanh(a) is next_h, the step's output: "
    "da = dnext_h * (1 - next_h**2); not 1 - a**2 (a is the pre-activation) nor 1 - prev_h**2",
    "swapped_weights": "x meets Wx and prev_h meets Wh: dx = da @ Wx.T, dprev_h = da @ Wh.T, dWx = x.T @ da, "
    "dWh = prev_h.T @ da",
    "no_carry": "h_t feeds the loss directly and through h_{t+1}: going back from t = T-1 to 0, the gradient "
    "of h_t is dh[:, t] plus the dprev_h that step t+1 returned",
    "upstream_added_twice": "at each step the gradient of h_t is dh[:, t] + dprev_h (from step t+1), with dh[:, t] "
    "added once",
    "wrong_gate_order": "split a = x @ Wx + prev_h @ Wh + b into four blocks of H columns in the order i, f, o, g "
    "(CS231n's): a[:, :H] is i, a[:, H:2H] is f, a[:, 2H:3H] is o, a[:, 3H:] is g",
    "missing_tanh_derivative": "next_h = o * tanh(next_c), so next_c's gradient gets "
    "dnext_h * o * (1 - tanh(next_c)**2) on top of dnext_c",
    "dprev_c_without_f": "next_c = f * prev_c + i * g: dprev_c = dnext_c_total * f",
    "forget_gate_without_prev_c": "f multiplies prev_c: df = dnext_c_total * prev_c, then through the sigmoid, "
    "da_f = df * f * (1 - f)",
    "transposed": "each gradient has the shape of its input: dWx is (D, H), dWh (H, H), like Wx and Wh",
    "wrong_axis": "b is added to every example: db sums over the examples (and, through time, over the steps)",
    "wrong_type": "return every gradient, each a numpy array, in the order of the docstring",
    "input_mutated": "compute new arrays: do not write into x, the states or the weights (only the upstream "
    "gradients may be reused)",
}


def _task(name, points, params, returns, cases, check, parts=(), may_modify=()):
    return Task(
        name,
        points,
        params,
        returns,
        cases,
        check,
        parts=tuple(Part(part, points / len(parts)) for part in parts),
        hints=HINTS,
        forbidden_imports=AUTODIFF if "backward" in name else (),
        may_modify=may_modify,
    )


EXERCISE = Exercise(
    name="rnn",
    title="Recurrent layers: a vanilla RNN through time, an LSTM step",
    sizes=SIZES,
    tasks=(
        _task(
            "rnn_step_forward",
            0.5,
            ("x", "prev_h", "Wx", "Wh", "b"),
            "next_h (N,H)",
            step_cases(False),
            check_step_forward,
        ),
        _task(
            "rnn_step_backward",
            2.5,
            ("dnext_h", "x", "prev_h", "Wx", "Wh", "b"),
            "(dx, dprev_h, dWx, dWh, db)",
            step_cases(True),
            check_step_backward,
            STEP_PARTS,
            ("dnext_h",),
        ),
        _task(
            "rnn_forward", 0.5, ("x", "h0", "Wx", "Wh", "b"), "h (N,T,H)", sequence_cases(False), check_sequence_forward
        ),
        _task(
            "rnn_backward",
            2.5,
            ("dh", "x", "h0", "Wx", "Wh", "b"),
            "(dx, dh0, dWx, dWh, db)",
            sequence_cases(True),
            check_sequence_backward,
            BPTT_PARTS,
            ("dh",),
        ),
        _task(
            "lstm_step_forward",
            1,
            ("x", "prev_h", "prev_c", "Wx", "Wh", "b"),
            "(next_h, next_c)",
            lstm_cases(False),
            check_lstm_forward,
            ("next_h", "next_c"),
        ),
        _task(
            "lstm_step_backward",
            3,
            ("dnext_h", "dnext_c", "x", "prev_h", "prev_c", "Wx", "Wh", "b"),
            "(dx, dprev_h, dprev_c, dWx, dWh, db)",
            lstm_cases(True),
            check_lstm_backward,
            LSTM_PARTS,
            ("dnext_h", "dnext_c"),
        ),
    ),
)

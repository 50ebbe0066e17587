"""Recurrent layers: a vanilla RNN (one step, then a whole sequence) and one LSTM step.

All arrays are float64 numpy arrays: N examples, D input features, H hidden units,
T time steps. x_t is (N, D), a hidden state h_t is (N, H); Wx (D, H), Wh (H, H),
b (H,) for the RNN; Wx (D, 4H), Wh (H, 4H), b (4H,) for the LSTM, as in CS231n.
Every gradient has the shape of what it is the gradient of.

Each backward function gets what it needs as arguments (no cache) and recomputes
the forward values it needs. It must not change its arguments in place, except the
upstream gradients (dnext_h, dh, dnext_c), which it may reuse.

Check your work with: grade check rnn.py
"""
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One step of a vanilla RNN: next_h = tanh(x Wx + prev_h Wh + b).

    x: (N, D); prev_h: (N, H); Wx: (D, H); Wh: (H, H); b: (H,)
    returns next_h: (N, H)
    """
    ### BEGIN SOLUTION
    a = x @ Wx + prev_h @ Wh + b  # the pre-activation
    return np.tanh(a)
    ### END SOLUTION


def rnn_step_backward(dnext_h, x, prev_h, Wx, Wh, b):
    """Backward pass of rnn_step_forward.

    dnext_h: (N, H) upstream gradient
    returns (dx, dprev_h, dWx, dWh, db): (N, D), (N, H), (D, H), (H, H), (H,)

    With a = x Wx + prev_h Wh + b and next_h = tanh(a): d tanh(a)/da is
    1 - tanh(a)**2 = 1 - next_h**2, so da = dnext_h * (1 - next_h**2); then, as in
    an affine layer, dx = da Wx^T, dprev_h = da Wh^T, dWx = x^T da,
    dWh = prev_h^T da, db = da summed over the examples.
    """
    ### BEGIN SOLUTION
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)
    ### END SOLUTION


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over a whole sequence.

    x: (N, T, D), the inputs x_1..x_T; h0: (N, H) the initial hidden state
    returns h: (N, T, H), the hidden states h_1..h_T, h_t = tanh(x_t Wx + h_{t-1} Wh + b)
    (the same weights at every step).
    """
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev = h0
    for t in range(T):
        prev = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h[:, t] = prev
    return h
    ### END SOLUTION


def rnn_backward(dh, x, h0, Wx, Wh, b):
    """Backpropagation through time for rnn_forward.

    dh: (N, T, H), the upstream gradients of every hidden state h_1..h_T
    returns (dx, dh0, dWx, dWh, db): (N, T, D), (N, H), (D, H), (H, H), (H,)

    h_t reaches the loss directly (dh[:, t]) and through h_{t+1}. Going back from
    the last step to the first, the gradient of h_t is dh[:, t] plus the dprev_h
    that step t+1 returned; step t's dprev_h goes on to step t-1, and the first
    step's is dh0. Wx, Wh and b are shared by every step: add up their gradients.
    Recompute the hidden states with rnn_forward: step t needs h_{t-1}.
    """
    ### BEGIN SOLUTION
    h = rnn_forward(x, h0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        prev_h = h0 if t == 0 else h[:, t - 1]
        dx[:, t], dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev, x[:, t], prev_h, Wx, Wh, b)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev, dWx, dWh, db
    ### END SOLUTION


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step.

    x: (N, D); prev_h, prev_c: (N, H); Wx: (D, 4H); Wh: (H, 4H); b: (4H,)
    returns (next_h, next_c): (N, H) each

        a = x Wx + prev_h Wh + b, split into four blocks of H columns, in the
        order i, f, o, g (CS231n's): a[:, :H], a[:, H:2H], a[:, 2H:3H], a[:, 3H:]
        i, f, o = sigmoid of their blocks (input, forget, output gates); g = tanh of its block
        next_c = f * prev_c + i * g
        next_h = o * tanh(next_c)
    """
    ### BEGIN SOLUTION
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c
    ### END SOLUTION


def lstm_step_backward(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    """Backward pass of lstm_step_forward.

    dnext_h, dnext_c: (N, H) upstream gradients
    returns (dx, dprev_h, dprev_c, dWx, dWh, db): shapes of x, prev_h, prev_c, Wx, Wh, b

    next_c reaches the loss directly (dnext_c) and through next_h = o * tanh(next_c):
        dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2)
    then next_c = f * prev_c + i * g gives dprev_c = dc * f, df = dc * prev_c,
    di = dc * g, dg = dc * i, and do = dnext_h * tanh(next_c). Through the
    nonlinearities: sigmoid'(a) = s (1 - s), tanh'(a) = 1 - tanh(a)**2. Stack the
    four blocks of da in the order i, f, o, g; then dx = da Wx^T, dprev_h = da Wh^T,
    dWx = x^T da, dWh = prev_h^T da, db = da summed over the examples.
    """
    ### BEGIN SOLUTION
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    tanh_c = np.tanh(f * prev_c + i * g)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da = np.concatenate(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g**2)],
        axis=1,
    )
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)
    ### END SOLUTION

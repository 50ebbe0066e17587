"""The grader's own ReLU network in float64: loss, pre-activations, backprop, predictions.

The two_layer and n_layer exercises grade against this. The loss is the
definition; gradients of learners are checked against finite differences of it
(grader.directional), never against the learner's own loss. `backprop` is here
only to name mistakes: each `variant` is a known wrong way to backpropagate, and a
learner whose gradients equal one of them gets that mistake's diagnosis.

params: {"W1": (n0, n1), "b1": (1, n1), ..., "WL": (n_{L-1}, nL), "bL": (1, nL)}.
"""

import numpy as np

from .cross_entropy import mean_cross_entropy, softmax


def layers(params):
    """L, the number of layers (W keys W1..WL)."""
    return sum(1 for key in params if key.startswith("W"))


def init_params(rng, sizes, bias_scale=0.5):
    """He-scaled weights and non-zero biases: a regularised bias must show in the gradient."""
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        params[f"b{l}"] = rng.standard_normal((1, n_out)) * bias_scale
    return params


def forward(params, X):
    """Scores (m, k) and the pre-activations Z_1..Z_L (the ReLUs' inputs are Z_1..Z_{L-1})."""
    A, pre = np.asarray(X, dtype=np.float64), []
    L = layers(params)
    for l in range(1, L + 1):
        Z = A @ params[f"W{l}"]
        Z += params[f"b{l}"]
        pre.append(Z)
        A = np.maximum(Z, 0.0) if l < L else Z
    return A, pre


def data_loss(scores, y):
    """Mean softmax cross-entropy of scores (m, k) against integer labels y (m,)."""
    return mean_cross_entropy(scores, y)


def penalty(params, reg):
    return 0.5 * reg * sum(float(np.sum(params[f"W{l}"] ** 2)) for l in range(1, layers(params) + 1))


def loss(params, X, y, reg):
    """loss = mean cross-entropy + 0.5 reg sum_l ||W_l||^2 (biases not penalised)."""
    scores, _ = forward(params, X)
    return data_loss(scores, y) + penalty(params, reg)


def loss_with_kinks(X, y, reg):
    """J(params) -> (loss, the ReLU inputs), the form grader.directional wants."""

    def J(params):
        scores, pre = forward(params, X)
        return data_loss(scores, y) + penalty(params, reg), pre[:-1]

    return J


def predict(params, X):
    return forward(params, X)[0].argmax(axis=1)


def accuracy(params, X, y):
    return float(np.mean(predict(params, X) == y))


# Known wrong ways to backpropagate (variant -> the name of its words, checks.GRADIENTS_SAY, which is
# the diagnosis it earns unless DIAGNOSIS says otherwise).
VARIANTS = {
    "missing_regularization": "missing_regularization",
    "double_regularization": "double_regularization",
    "half_regularization": "half_regularization",
    "regularized_bias": "regularized_bias",
    "not_averaged": "not_averaged",
    "mask_from_dA": "wrong_mask",
    "no_mask": "wrong_mask",
    "masks_first_in_first_out": "wrong_layer_order",
    "whole_columns": "whole_columns",
    "off_by_one_class": "off_by_one_class",
    "double_averaged": "double_averaged",
}
# reg * W halved with the loss's 0.5 * reg * sum(W**2): the penalty's two conventions mixed, the other way round.
DIAGNOSIS = {"half_regularization": "half_penalty"}


def backprop(params, X, y, reg, variant=None, upstream=None):
    """Gradients of `loss` (variant None), or of a known mistake; None where it cannot occur.

    upstream: a dict that receives each layer's dZ_l (as "Z1".."ZL"), for naming
    mistakes made in a layer's own backward step (e.g. db summed over the wrong axis).
    """
    L = layers(params)
    scores, pre = forward(params, X)
    m = X.shape[0]
    P = softmax(scores)
    if variant == "whole_columns":
        P[:, y] -= 1.0  # every row of each label's column, once (repeated indices do not add up)
    elif variant == "off_by_one_class":
        P[np.arange(m), y - 1] -= 1.0  # labels shifted as if numbered from 1 (class 0 wraps to the last)
    else:
        P[np.arange(m), y] -= 1.0
    dZ = P if variant == "not_averaged" else P / m**2 if variant == "double_averaged" else P / m
    inputs = [np.asarray(X, dtype=np.float64)] + [np.maximum(Z, 0.0) for Z in pre[:-1]]
    masks = list(pre[:-1])
    if variant == "masks_first_in_first_out":
        # The ReLU inputs used in forward order: layer 1's mask applied at layer L-1.
        # It runs (and so needs a name) only when the hidden layers have one width.
        if L < 3 or any(Z.shape != masks[0].shape for Z in masks):
            return None
        masks = masks[::-1]
    weight = {"missing_regularization": 0.0, "double_regularization": 2.0, "half_regularization": 0.5}.get(variant, 1.0)
    bias = 1.0 if variant == "regularized_bias" else 0.0
    if variant in ("mask_from_dA", "no_mask") and L < 2:
        return None
    grads = {}
    for l in range(L, 0, -1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if upstream is not None:
            upstream[f"Z{l}"] = dZ
        grads[f"W{l}"] = inputs[l - 1].T @ dZ + weight * reg * W
        grads[f"b{l}"] = dZ.sum(axis=0, keepdims=True) + bias * reg * b
        if l > 1:
            dA = dZ @ W.T
            if variant == "mask_from_dA":
                dZ = dA * (dA > 0)
            elif variant == "no_mask":
                dZ = dA
            else:
                dZ = dA * (masks[l - 2] > 0)
    return grads

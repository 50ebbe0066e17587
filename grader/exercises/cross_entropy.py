"""Softmax and the cross-entropy loss in float64: the grader's own, shared by every exercise.

softmax grades dZ against finite differences of the mean of `cross_entropies`; the
ReLU networks' loss (relu_net.py) is its mean over the scores plus the penalty.
"""

import numpy as np


def softmax(Z):
    """Row-wise softmax (over the last axis), max-shifted, hence exact for any scores."""
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def cross_entropies(Z, y):
    """-log softmax(Z)_i,y_i for each row i of scores Z (..., m, k); leading batch axes are kept."""
    Z = np.asarray(Z, dtype=np.float64)
    shift = Z.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(Z - shift).sum(axis=-1)) + shift[..., 0]
    true_scores = np.take_along_axis(Z, np.broadcast_to(y[:, None], Z.shape[:-1] + (1,)), axis=-1)[..., 0]
    return log_norm - true_scores


def mean_cross_entropy(Z, y):
    """J(Z) = mean_i -log softmax(Z)_i,y_i, as a float, for scores Z (m, k) and labels y (m,)."""
    return float(np.mean(cross_entropies(Z, y)))

# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: pass
# expect train: pass
# bug: none: a correct solution with a dict of caches, np.einsum, one-hot labels and logsumexp.
import numpy as np


def affine_forward(A, W, b):
    return np.einsum("mp,pn->mn", A, W) + b


def relu_forward(Z):
    return Z * (Z > 0)


def affine_backward(dZ, A_prev, W):
    dA_prev = np.einsum("mn,pn->mp", dZ, W)
    dW = np.einsum("mp,mn->pn", A_prev, dZ)
    db = np.einsum("mn->n", dZ)[None, :]
    return dA_prev, dW, db


def relu_backward(dA, Z):
    out = dA.copy()
    out[Z <= 0] = 0.0
    return out


def loss_and_grads(X, y, params, reg):
    L = max(int(key[1:]) for key in params if key.startswith("W"))
    m = X.shape[0]
    cache = {"A0": X}
    for l in range(1, L + 1):
        cache[f"Z{l}"] = affine_forward(cache[f"A{l - 1}"], params[f"W{l}"], params[f"b{l}"])
        cache[f"A{l}"] = relu_forward(cache[f"Z{l}"]) if l < L else cache[f"Z{l}"]
    scores = cache[f"A{L}"]
    top = scores.max(axis=1, keepdims=True)
    log_probs = scores - (top + np.log(np.exp(scores - top).sum(axis=1, keepdims=True)))
    Y = np.zeros_like(scores)
    Y[np.arange(m), y] = 1.0
    loss = -np.sum(Y * log_probs) / m + 0.5 * reg * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))
    grads = {}
    dZ = (np.exp(log_probs) - Y) / m
    for l in reversed(range(1, L + 1)):
        dA, dW, db = affine_backward(dZ, cache[f"A{l - 1}"], params[f"W{l}"])
        grads[f"W{l}"], grads[f"b{l}"] = dW + reg * params[f"W{l}"], db
        if l > 1:
            dZ = relu_backward(dA, cache[f"Z{l - 1}"])
    return float(loss), grads


def train(X, y, hidden_sizes, seed):
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1]] + list(hidden_sizes) + [int(y.max()) + 1]
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) * np.sqrt(2.0 / sizes[l - 1])
        params[f"b{l}"] = np.zeros((1, sizes[l]))
    for _ in range(3000):
        _, grads = loss_and_grads(X, y, params, 1e-3)
        for key in params:
            params[key] = params[key] - 0.8 * grads[key]
    return params

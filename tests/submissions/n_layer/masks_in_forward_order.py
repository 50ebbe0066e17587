# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: fail exception wrong_layer_order; score 0
# expect train: fail exception; score 1
# bug: the backward loop takes the ReLU masks first-in-first-out: layer 1's Z where layer L-1's belongs.
# (With hidden layers of two widths the swapped masks no longer broadcast: loss_and_grads raises on the
# three-layer case, so its loss part fails there too, and train raises at hidden_sizes [24, 12]; with one
# hidden layer the order of masks cannot matter, so train's first call learns and keeps its accuracy point.)
import numpy as np


def affine_forward(A, W, b):
    return A @ W + b


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def affine_backward(dZ, A_prev, W):
    return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=0, keepdims=True)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def loss_and_grads(X, y, params, reg):
    L = len(params) // 2
    m = X.shape[0]
    inputs, preacts = [], []
    A = X
    for l in range(1, L + 1):
        Z = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        inputs.append(A)
        preacts.append(Z)
        A = relu_forward(Z) if l < L else Z
    shifted = A - A.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    penalty = sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))
    loss = -log_probs[np.arange(m), y].mean() + 0.5 * reg * penalty
    dZ = np.exp(log_probs)
    dZ[np.arange(m), y] -= 1.0
    dZ /= m
    grads = {}
    masks = preacts[:-1]
    for l in range(L, 0, -1):
        W = params[f"W{l}"]
        dA, dW, db = affine_backward(dZ, inputs.pop(), W)
        preacts.pop()
        grads[f"W{l}"] = dW + reg * W
        grads[f"b{l}"] = db
        if l > 1:
            dZ = relu_backward(dA, masks.pop(0))
    return float(loss), grads


def train(X, y, hidden_sizes, seed):
    lr, reg, steps = 1.0, 1e-3, 2000
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], *hidden_sizes, int(y.max()) + 1]
    params = {}
    for l in range(1, len(sizes)):
        params[f"W{l}"] = rng.standard_normal((sizes[l - 1], sizes[l])) * np.sqrt(2.0 / sizes[l - 1])
        params[f"b{l}"] = np.zeros((1, sizes[l]))
    for _ in range(steps):
        _, grads = loss_and_grads(X, y, params, reg)
        for name in params:
            params[name] -= lr * grads[name]
    return params

# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: fail not_averaged; score 1
# expect train: fail low_accuracy; score 1
# bug: every gradient is divided by m on its own, except db2 (the CS231n TwoLayerNet slip): grads['b2'] is m times too large.
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
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    hidden = np.maximum(X @ W1 + b1, 0)
    scores = hidden @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).sum() / N + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    grads = {}
    grads["W2"] = hidden.T @ dscores / N + reg * W2
    grads["b2"] = np.sum(dscores, axis=0, keepdims=True)
    dhidden = dscores @ W2.T / N
    dhidden[hidden <= 0] = 0
    grads["W1"] = X.T @ dhidden + reg * W1
    grads["b1"] = np.sum(dhidden, axis=0, keepdims=True)
    return float(loss), grads


def train(X, y, hidden_sizes, seed):
    lr, reg, steps = 1.0, 1e-3, 2000
    rng = np.random.default_rng(seed)
    d, h, k = X.shape[1], hidden_sizes[0], int(y.max()) + 1
    params = {
        "W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d),
        "b1": np.zeros((1, h)),
        "W2": rng.standard_normal((h, k)) * np.sqrt(2.0 / h),
        "b2": np.zeros((1, k)),
    }
    for _ in range(steps):
        _, grads = loss_and_grads(X, y, params, reg)
        for name in params:
            params[name] -= lr * grads[name]
    return params

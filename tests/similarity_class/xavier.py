import numpy as np


def forward(X, W, b):
    s = X @ W + b
    mx = s.max(axis=1, keepdims=True)
    ex = np.exp(s - mx)
    tot = ex.sum(axis=1, keepdims=True)
    return ex / tot


def dZ(P, y):
    n_examples = P.shape[0]
    onehot = np.zeros_like(P)
    onehot[np.arange(n_examples), y] = 1.0
    g = (P - onehot) / n_examples
    return g


def dW(X, dZ):
    result = X.T @ dZ
    return result


def db(dZ):
    out = dZ.sum(axis=0, keepdims=True)
    return out

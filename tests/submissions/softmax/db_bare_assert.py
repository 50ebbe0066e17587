# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: fail exception
# bug: db asserts the spiral's 3 classes, without a message: fails on k=7.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m, k = P.shape
    Y = (np.arange(k) == y[:, None]).astype(P.dtype)  # one-hot labels
    return (P - Y) / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    assert dZ.shape[1] == 3
    return np.sum(dZ, axis=0, keepdims=True)

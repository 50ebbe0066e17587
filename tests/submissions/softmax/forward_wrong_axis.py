# expect forward: fail wrong_axis
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: softmax normalises each column (axis=0) instead of each row.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

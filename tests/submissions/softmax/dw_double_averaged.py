# expect forward: pass
# expect dZ: pass
# expect dW: fail double_averaged
# expect db: pass
# bug: dW divides by m again, though dZ already carries the 1/m.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    m = X.shape[0]
    return X.T @ dZ / m


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

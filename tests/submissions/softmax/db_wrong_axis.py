# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: fail wrong_axis
# bug: db sums over axis=1 (each example) instead of axis=0 (each class).
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
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=1, keepdims=True)

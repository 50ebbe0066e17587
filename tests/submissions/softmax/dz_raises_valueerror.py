# expect forward: pass
# expect dZ: fail exception
# expect dW: pass
# expect db: pass
# bug: dZ raises ValueError because it expects y to have the same shape as P (one-hot), but y is a vector of labels.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    if P.shape != y.shape:
        raise ValueError(f"P and y must have the same shape, got {P.shape} and {y.shape}")
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

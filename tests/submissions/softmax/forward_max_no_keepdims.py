# expect forward: fail exception
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: forward takes the row max and row sum without keepdims, so (m, k) - (m,) fails to broadcast.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    E = np.exp(Z - Z.max(axis=1))
    return E / E.sum(axis=1)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

# expect forward: pass
# expect dZ: pass
# expect dW: fail nan_or_inf
# expect db: pass
# bug: dW returns a placeholder array of NaN of the right shape.
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
    return np.full((X.shape[1], dZ.shape[1]), np.nan)  # TODO


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

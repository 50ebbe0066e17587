# expect forward: pass
# expect dZ: fail off_by_one_class
# expect dW: pass
# expect db: pass
# bug: the labels are shifted by one (as if numbered from 1): 1 is subtracted at class y - 1.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y - 1] -= 1.0
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

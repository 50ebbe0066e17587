# expect forward: pass
# expect dZ: fail whole_columns
# expect dW: pass
# expect db: pass
# bug: dZ uses G[:, y] -= 1, which subtracts 1 from whole columns instead of one entry per row.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[:, y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

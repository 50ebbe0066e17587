# expect forward: pass
# expect dZ: fail wrong_value
# expect dW: pass
# expect db: pass
# bug: dZ divides by a hard-coded 300 (the spiral's size) instead of m.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    G = P.copy()
    G[np.arange(len(y)), y] -= 1
    return G / 300


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

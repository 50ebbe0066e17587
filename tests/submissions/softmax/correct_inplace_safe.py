# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution that copies P before subtracting 1 in place.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = np.array(P, copy=True)
    G[np.arange(m), y] -= 1
    G /= m
    return G


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

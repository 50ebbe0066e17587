# expect forward: fail wrong_value
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: forward leaves out the bias: Z = X @ W.
import numpy as np


def forward(X, W, b):
    Z = X @ W
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
    return np.sum(dZ, axis=0, keepdims=True)

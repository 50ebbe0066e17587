# expect forward: pass
# expect dZ: fail not_averaged
# expect dW: fail double_averaged
# expect db: fail double_averaged
# bug: the 1/m was moved out of dZ and into both dW and db.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m, k = P.shape
    Y = np.eye(k)[y]
    return P - Y


def dW(X, dZ):
    m = dZ.shape[0]
    return X.T @ dZ / m


def db(dZ):
    m = dZ.shape[0]
    return np.sum(dZ, axis=0, keepdims=True) / m

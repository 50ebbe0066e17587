# expect forward: pass
# expect dZ: fail wrong_value
# expect dW: pass
# expect db: pass
# bug: dZ returns the np.zeros_like placeholder it meant to fill (the result is computed but not stored).
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    G = np.zeros_like(P)
    m, k = P.shape
    Y = (np.arange(k) == y[:, None]).astype(P.dtype)  # one-hot labels
    G * (P - Y) / m
    return G


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

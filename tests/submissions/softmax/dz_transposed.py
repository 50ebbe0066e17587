# expect forward: pass
# expect dZ: fail transposed
# expect dW: pass
# expect db: pass
# bug: dZ returns (P - Y).T / m, shape (k, m).
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m, k = P.shape
    Y = np.eye(k)[y]
    return (P - Y).T / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

# expect forward: pass
# expect dZ: pass
# expect dW: fail swapped_parameters
# expect db: pass
# bug: dW's parameters are (dZ, X), the task's (X, dZ): called dW(X, dZ), its X.T @ dZ is dZ.T @ X, the transpose.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m, k = P.shape
    Y = (np.arange(k) == y[:, None]).astype(P.dtype)  # one-hot labels
    return (P - Y) / m


def dW(dZ, X):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

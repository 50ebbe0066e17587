# expect forward: pass
# expect dZ: fail missing_parameters
# expect dW: pass
# expect db: pass
# bug: dZ takes only P; its labels come from a global y the grader never sets.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P):
    m, k = P.shape
    Y = (np.arange(k) == y[:, None]).astype(P.dtype)  # one-hot labels
    return (P - Y) / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

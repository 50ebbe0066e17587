# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: fail renamed_parameters
# bug: db's parameter is named dz, but its body sums dZ: that is the function dZ, not the argument.
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


def dW(X, dZ):
    return X.T @ dZ


def db(dz):
    return np.sum(dZ, axis=0, keepdims=True)

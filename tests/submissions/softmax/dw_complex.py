# expect forward: pass
# expect dZ: pass
# expect dW: fail wrong_type
# expect db: pass
# bug: dW fills an array created with dtype=complex, so it returns complex numbers.
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
    out = np.zeros((X.shape[1], dZ.shape[1]), dtype=complex)
    out += X.T @ dZ
    return out


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

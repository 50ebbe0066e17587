# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: the parameters have other names than the task's, used consistently (dW's even read as swapped).
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
    return dZ.T @ X  # dZ holds the inputs here: the arguments come by position


def db(G):
    return np.sum(G, axis=0, keepdims=True)

# expect forward: pass
# expect dZ: fail exception
# expect dW: pass
# expect db: pass
# bug: k taken from the labels (y.max() + 1), not from P: a class with no example makes Y too narrow.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    Y = np.eye(y.max() + 1)[y]
    return (P - Y) / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

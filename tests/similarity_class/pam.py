import numpy as np


# forward pass
def forward(X, W, b):
    z = X.dot(W) + b
    z -= np.max(z, axis=1, keepdims=True)
    ez = np.exp(z)
    p = ez / np.sum(ez, axis=1, keepdims=True)
    return p


# backward pass
def dZ(P, y):
    m = P.shape[0]
    d = P.copy()
    d[range(m), y] -= 1
    d /= m
    return d


def dW(X, dZ):
    g = X.T.dot(dZ)
    return g


def db(dZ):
    g = np.sum(dZ, axis=0, keepdims=True)
    return g

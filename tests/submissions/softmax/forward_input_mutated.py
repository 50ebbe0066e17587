# expect forward: fail input_mutated
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: forward stabilises by shifting the bias in place (b -= b.max()), which changes the caller's b.
import numpy as np


def forward(X, W, b):
    b -= b.max()  # softmax is shift-invariant, but this modifies the caller's b
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

# expect forward: fail shape_mismatch
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: forward fills a hard-wired np.zeros((300, 3)) (the spiral's shape) with loops, so other batch sizes or class counts get the wrong shape.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    P = np.zeros((300, 3))  # 300 points, 3 classes
    for i in range(len(X)):
        row = np.exp(Z[i] - Z[i].max())
        for j in range(3):
            P[i, j] = row[j] / row.sum()
    return P


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

import math

import numpy as np


def forward(X, W, b):
    rows = []
    for x in X:
        z = [float(x @ W[:, c] + b[0, c]) for c in range(W.shape[1])]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        rows.append([v / s for v in e])
    return np.array(rows)


def dZ(P, y):
    out = np.array(P, dtype=float)
    for i, label in enumerate(y):
        out[i, label] = out[i, label] - 1
    return out / len(y)


def dW(X, dZ):
    grad = np.zeros((X.shape[1], dZ.shape[1]))
    for i in range(X.shape[0]):
        grad += np.outer(X[i], dZ[i])
    return grad


def db(dZ):
    total = np.zeros((1, dZ.shape[1]))
    for row in dZ:
        total[0] += row
    return total

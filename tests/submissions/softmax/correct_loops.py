# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution written with explicit Python loops.
import math

import numpy as np


def forward(X, W, b):
    m, d = X.shape
    k = W.shape[1]
    P = np.zeros((m, k))
    for i in range(m):
        scores = []
        for j in range(k):
            s = b[0, j]
            for p in range(d):
                s += X[i, p] * W[p, j]
            scores.append(s)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        for j in range(k):
            P[i, j] = exps[j] / total
    return P


def dZ(P, y):
    m, k = P.shape
    G = np.zeros((m, k))
    for i in range(m):
        for j in range(k):
            G[i, j] = (P[i, j] - (1.0 if j == y[i] else 0.0)) / m
    return G


def dW(X, dZ):
    m, d = X.shape
    k = dZ.shape[1]
    G = np.zeros((d, k))
    for p in range(d):
        for j in range(k):
            for i in range(m):
                G[p, j] += X[i, p] * dZ[i, j]
    return G


def db(dZ):
    m, k = dZ.shape
    G = np.zeros((1, k))
    for i in range(m):
        for j in range(k):
            G[0, j] += dZ[i, j]
    return G

# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution computing softmax as exp(Z - logsumexp(Z)).
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    top = Z.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(Z - top).sum(axis=1, keepdims=True))
    return np.exp(Z - lse)


def dZ(P, y):
    m = P.shape[0]
    G = P.copy()
    G[np.arange(m), y] -= 1
    return G / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

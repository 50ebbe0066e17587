# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution that computes and returns everything in float32.
import numpy as np


def forward(X, W, b):
    X, W, b = X.astype(np.float32), W.astype(np.float32), b.astype(np.float32)
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    P = P.astype(np.float32)  # astype makes a copy
    m = P.shape[0]
    P[np.arange(m), y] -= 1
    return P / np.float32(m)


def dW(X, dZ):
    return X.astype(np.float32).T @ dZ.astype(np.float32)


def db(dZ):
    return np.sum(dZ.astype(np.float32), axis=0, keepdims=True)

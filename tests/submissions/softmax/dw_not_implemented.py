# expect forward: pass
# expect dZ: pass
# expect dW: fail not_implemented
# expect db: pass
# bug: dW was left as the template stub that raises NotImplementedError.
import numpy as np


def forward(X, W, b):
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
    raise NotImplementedError("TODO: gradient of the loss with respect to W")


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

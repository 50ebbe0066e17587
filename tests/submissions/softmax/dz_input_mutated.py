# expect forward: pass
# expect dZ: fail input_mutated
# expect dW: pass
# expect db: pass
# bug: dZ subtracts 1 from P in place (P[range(m), y] -= 1), changing the caller's probabilities.
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m = P.shape[0]
    P[range(m), y] -= 1
    return P / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)

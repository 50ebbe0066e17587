# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution followed by a top-level experiment that runs for hours; graded on its definitions.
# slow: the load time limit runs out before it is graded
import numpy as np


def forward(X, W, b):
    Z = X @ W + b
    Z = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def dZ(P, y):
    m, k = P.shape
    Y = (np.arange(k) == y[:, None]).astype(P.dtype)  # one-hot labels
    return (P - Y) / m


def dW(X, dZ):
    return X.T @ dZ


def db(dZ):
    return np.sum(dZ, axis=0, keepdims=True)


# An experiment left at the top level: it runs far longer than the load timeout.
import time

for lr in (0.01, 0.1, 1.0):
    time.sleep(3600)
    print(lr)

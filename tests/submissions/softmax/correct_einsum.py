# expect forward: pass
# expect dZ: pass
# expect dW: pass
# expect db: pass
# bug: none: a correct solution written with np.einsum.
import numpy as np


def forward(X, W, b):
    Z = np.einsum("md,dk->mk", X, W) + b
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / np.einsum("mk->m", E)[:, None]


def dZ(P, y):
    m, k = P.shape
    Y = np.eye(k)[y]
    return np.einsum("mk->mk", P - Y) / m


def dW(X, dZ):
    return np.einsum("md,mk->dk", X, dZ)


def db(dZ):
    return np.einsum("mk->k", dZ)[None, :]

import numpy as np


def _log_softmax(Z):
    peak = Z.max(axis=-1, keepdims=True)
    return Z - peak - np.log(np.exp(Z - peak).sum(axis=-1, keepdims=True))


def forward(X, W, b):
    return np.exp(_log_softmax(np.matmul(X, W) + b))


def dZ(P, y):
    grad = P.copy()
    np.put_along_axis(grad, y.reshape(-1, 1), np.take_along_axis(P, y.reshape(-1, 1), axis=1) - 1, axis=1)
    return grad / grad.shape[0]


def dW(X, dZ):
    return np.matmul(np.transpose(X), dZ)


def db(dZ):
    return np.matmul(np.ones((1, dZ.shape[0])), dZ)

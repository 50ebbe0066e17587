import numpy as np


def stable_softmax(row):
    e = np.exp(row - np.amax(row))
    return e / e.sum()


def forward(X, W, b):
    return np.apply_along_axis(stable_softmax, 1, X.dot(W) + b)


def dZ(P, y):
    indicator = np.zeros(P.shape)
    indicator[np.arange(P.shape[0]), y] = 1.0
    return np.subtract(P, indicator) / P.shape[0]


def dW(X, dZ):
    return X.transpose().dot(dZ)


def db(dZ):
    return np.atleast_2d(np.add.reduce(dZ, axis=0))

import numpy as np


def forward(X, W, b):
    scores = np.dot(X, W) + b
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    unnormalized = np.exp(shifted)
    return unnormalized / np.sum(unnormalized, axis=1, keepdims=True)


def dZ(P, y):
    count, classes = P.shape
    onehot = np.eye(classes)[y]
    return (P - onehot) / count


def dW(X, dZ):
    return np.dot(X.T, dZ)


def db(dZ):
    return dZ.sum(axis=0).reshape(1, -1)

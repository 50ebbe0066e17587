import numpy as np


def forward(X, W, b):
    scores = X.dot(W) + b
    scores -= np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    return probs


def dZ(P, y):
    num_train = P.shape[0]
    dscores = P.copy()
    dscores[range(num_train), y] -= 1
    dscores /= num_train
    return dscores


def dW(X, dZ):
    dweights = X.T.dot(dZ)
    return dweights


def db(dZ):
    dbias = np.sum(dZ, axis=0, keepdims=True)
    return dbias

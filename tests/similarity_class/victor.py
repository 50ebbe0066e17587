import numpy as np


def forward(X, W, b):
    logits = X @ W + b
    biggest = logits.max(axis=1, keepdims=True)
    exps = np.exp(logits - biggest)
    totals = exps.sum(axis=1, keepdims=True)
    return exps / totals


def dZ(P, y):
    batch = P.shape[0]
    targets = np.zeros_like(P)
    targets[np.arange(batch), y] = 1.0
    grad = (P - targets) / batch
    return grad


def dW(X, dZ):
    weights_grad = X.T @ dZ
    return weights_grad


def db(dZ):
    bias_grad = dZ.sum(axis=0, keepdims=True)
    return bias_grad

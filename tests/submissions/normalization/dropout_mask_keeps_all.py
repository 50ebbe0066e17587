# expect batchnorm_forward: pass
# expect batchnorm_backward: pass
# expect layernorm_forward: pass
# expect layernorm_backward: pass
# expect dropout_forward: fail wrong_value; score 1
# expect dropout_backward: pass
# bug: the mask compares with keep_prob / keep_prob = 1 (operator precedence): it keeps every entry.
import numpy as np


def batchnorm_forward(X, gamma, beta, eps):
    mu = X.mean(axis=0, keepdims=True)
    var = X.var(axis=0, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def batchnorm_backward(dY, X, gamma, eps):
    mu = X.mean(axis=0, keepdims=True)
    std = np.sqrt(X.var(axis=0, keepdims=True) + eps)
    xhat = (X - mu) / std
    dbeta = dY.sum(axis=0, keepdims=True)
    dgamma = (dY * xhat).sum(axis=0, keepdims=True)
    g = dY * gamma
    dX = (g - g.mean(axis=0, keepdims=True) - xhat * (g * xhat).mean(axis=0, keepdims=True)) / std
    return dX, dgamma, dbeta


def layernorm_forward(X, gamma, beta, eps):
    mu = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def layernorm_backward(dY, X, gamma, eps):
    mu = X.mean(axis=1, keepdims=True)
    std = np.sqrt(X.var(axis=1, keepdims=True) + eps)
    xhat = (X - mu) / std
    dbeta = dY.sum(axis=0, keepdims=True)
    dgamma = (dY * xhat).sum(axis=0, keepdims=True)
    g = dY * gamma
    dX = (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True)) / std
    return dX, dgamma, dbeta


def dropout_forward(X, keep_prob, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random(X.shape) < keep_prob / keep_prob
    return X * mask / keep_prob, mask


def dropout_backward(dY, mask, keep_prob):
    return dY * mask / keep_prob

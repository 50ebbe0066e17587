# expect batchnorm_forward: pass
# expect batchnorm_backward: pass
# expect layernorm_forward: pass
# expect layernorm_backward: pass
# expect dropout_forward: pass
# expect dropout_backward: pass
# bug: none: batchnorm_backward derived in steps through xhat, std, var and mu (CS231n's graph), not simplified.
import numpy as np


def batchnorm_forward(X, gamma, beta, eps):
    mu = X.mean(axis=0, keepdims=True)
    var = X.var(axis=0, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def batchnorm_backward(dY, X, gamma, eps):
    m = X.shape[0]
    mu = X.mean(axis=0)
    xc = X - mu
    var = (xc ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    xhat = xc / std
    dbeta = np.sum(dY, axis=0, keepdims=True)
    dgamma = np.sum(dY * xhat, axis=0, keepdims=True)
    dxhat = dY * gamma
    dstd = -np.sum(dxhat * xc, axis=0) / std ** 2
    dvar = 0.5 * dstd / std
    dxc = dxhat / std + 2.0 * xc * dvar / m
    dmu = -np.sum(dxc, axis=0)
    dX = dxc + dmu / m
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
    mask = rng.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def dropout_backward(dY, mask, keep_prob):
    return dY * mask / keep_prob

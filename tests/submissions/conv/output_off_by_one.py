# expect conv_forward: fail off_by_one
# expect conv_backward: pass
# expect max_pool_forward: pass
# expect max_pool_backward: pass
# bug: the output size without its 1 +: one row and one column too few.
import numpy as np


def conv_forward(X, W, b, stride, pad):
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Hout = (H + 2 * pad - HH) // stride
    Wout = (Wd + 2 * pad - WW) // stride
    Z = np.empty((N, F, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            window = Xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            Z[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return Z


def conv_backward(dZ, X, W, b, stride, pad):
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dZ[:, :, i, j]
            dW += np.tensordot(g, Xp[:, :, rows, cols], axes=([0], [0]))
            dXp[:, :, rows, cols] += np.tensordot(g, W, axes=([1], [0]))
    db = dZ.sum(axis=(0, 2, 3))
    return dXp[:, :, pad : pad + H, pad : pad + Wd], dW, db


def max_pool_forward(X, pool_height, pool_width, stride):
    N, C, H, Wd = X.shape
    Hout = 1 + (H - pool_height) // stride
    Wout = 1 + (Wd - pool_width) // stride
    Z = np.empty((N, C, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            window = X[:, :, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width]
            Z[:, :, i, j] = window.max(axis=(2, 3))
    return Z


def max_pool_backward(dZ, X, pool_height, pool_width, stride):
    dX = np.zeros_like(X)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            rows = slice(i * stride, i * stride + pool_height)
            cols = slice(j * stride, j * stride + pool_width)
            window = X[:, :, rows, cols]
            at_max = window == window.max(axis=(2, 3), keepdims=True)
            dX[:, :, rows, cols] += at_max * dZ[:, :, i, j][:, :, None, None]
    return dX

# expect conv_forward: pass
# expect conv_backward: pass
# expect max_pool_forward: pass
# expect max_pool_backward: pass
# bug: none: CS231n's naive version, five nested loops in each pass (the time limits must allow it).
import numpy as np


def conv_forward(X, W, b, stride, pad):
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Hout = 1 + (H + 2 * pad - HH) // stride
    Wout = 1 + (Wd + 2 * pad - WW) // stride
    Z = np.zeros((N, F, Hout, Wout))
    for n in range(N):
        for f in range(F):
            for i in range(Hout):
                for j in range(Wout):
                    total = b[f]
                    for c in range(C):
                        total += np.sum(Xp[n, c, i * stride : i * stride + HH, j * stride : j * stride + WW] * W[f, c])
                    Z[n, f, i, j] = total
    return Z


def conv_backward(dZ, X, W, b, stride, pad):
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    for n in range(N):
        for f in range(F):
            for i in range(dZ.shape[2]):
                for j in range(dZ.shape[3]):
                    for c in range(C):
                        rows = slice(i * stride, i * stride + HH)
                        cols = slice(j * stride, j * stride + WW)
                        dW[f, c] += Xp[n, c, rows, cols] * dZ[n, f, i, j]
                        dXp[n, c, rows, cols] += W[f, c] * dZ[n, f, i, j]
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

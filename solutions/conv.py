"""Convolutional layers: convolution and max pooling, forward and backward (CS231n's API).

All arrays are float64 numpy arrays in the layout (N, C, H, W): N examples, C channels,
H rows, W columns. A convolution has F filters W (F, C, HH, WW) and biases b (F,).

Output size: with zero padding `pad` on the rows and columns (never on N or C) and
windows moved by `stride`,

    H' = 1 + (H + 2 * pad - HH) // stride      W' = 1 + (W + 2 * pad - WW) // stride

Each backward function gets what it needs as arguments (no cache). It must not
change its arguments in place, except the upstream gradient dZ.

Check your work with: grade check conv.py
"""
import numpy as np


def conv_forward(X, W, b, stride, pad):
    """Convolution layer (a cross-correlation, as in CS231n: the kernel is not flipped).

    X: (N, C, H, W); W: (F, C, HH, WW); b: (F,); stride, pad: ints
    returns Z: (N, F, H', W')

        X_pad = X with `pad` zeros around each image (axes 2 and 3 only)
        Z[n, f, i, j] = sum over c, r, s of
                        X_pad[n, c, i * stride + r, j * stride + s] * W[f, c, r, s]  + b[f]
    """
    ### BEGIN SOLUTION
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    Hout = 1 + (H + 2 * pad - HH) // stride
    Wout = 1 + (Wd + 2 * pad - WW) // stride
    Z = np.empty((N, F, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            window = Xp[:, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
            # (N, C, HH, WW) with (F, C, HH, WW): sum over C, HH, WW for every n and f
            Z[:, :, i, j] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return Z
    ### END SOLUTION


def conv_backward(dZ, X, W, b, stride, pad):
    """Backward pass of conv_forward.

    dZ: (N, F, H', W') upstream gradient; X, W, b, stride, pad: what the forward pass got
    returns (dX, dW, db): dX (N, C, H, W), NOT padded; dW (F, C, HH, WW); db (F,)

    Each output Z[n, f, i, j] came from one window of X_pad and the whole of W[f]:
      - db[f]: b[f] was added to every output of filter f: sum dZ over n, i, j;
      - dW[f] += dZ[n, f, i, j] * (that window of X_pad);
      - the window of dX_pad += dZ[n, f, i, j] * W[f]  (windows overlap: add up);
    then cut the padding off: dX = dX_pad[:, :, pad:pad + H, pad:pad + W]
    (not [pad:-pad], which is empty when pad is 0).
    """
    ### BEGIN SOLUTION
    N, C, H, Wd = X.shape
    F, _, HH, WW = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dXp = np.zeros_like(Xp)
    dW = np.zeros_like(W)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dZ[:, :, i, j]  # (N, F)
            dW += np.tensordot(g, Xp[:, :, rows, cols], axes=([0], [0]))
            dXp[:, :, rows, cols] += np.tensordot(g, W, axes=([1], [0]))
    db = dZ.sum(axis=(0, 2, 3))
    return dXp[:, :, pad : pad + H, pad : pad + Wd], dW, db
    ### END SOLUTION


def max_pool_forward(X, pool_height, pool_width, stride):
    """Max pooling, no padding.

    X: (N, C, H, W); returns Z: (N, C, H', W') with
    H' = 1 + (H - pool_height) // stride, W' = 1 + (W - pool_width) // stride and
    Z[n, c, i, j] = max of X[n, c, i*stride : i*stride + pool_height, j*stride : j*stride + pool_width]
    """
    ### BEGIN SOLUTION
    N, C, H, Wd = X.shape
    Hout = 1 + (H - pool_height) // stride
    Wout = 1 + (Wd - pool_width) // stride
    Z = np.empty((N, C, Hout, Wout))
    for i in range(Hout):
        for j in range(Wout):
            window = X[:, :, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width]
            Z[:, :, i, j] = window.max(axis=(2, 3))
    return Z
    ### END SOLUTION


def max_pool_backward(dZ, X, pool_height, pool_width, stride):
    """Backward pass of max_pool_forward.

    dZ: (N, C, H', W') upstream gradient; returns dX: (N, C, H, W)

    Only the maximum of each window reached the output, so each window's gradient
    dZ[n, c, i, j] goes to the entry where its maximum is; the other entries of
    the window get nothing. Where windows overlap (stride < pool size), one entry
    can be the maximum of several windows: their gradients add up (+=).
    """
    ### BEGIN SOLUTION
    dX = np.zeros_like(X)
    for i in range(dZ.shape[2]):
        for j in range(dZ.shape[3]):
            rows = slice(i * stride, i * stride + pool_height)
            cols = slice(j * stride, j * stride + pool_width)
            window = X[:, :, rows, cols]
            at_max = window == window.max(axis=(2, 3), keepdims=True)
            dX[:, :, rows, cols] += at_max * dZ[:, :, i, j][:, :, None, None]
    return dX
    ### END SOLUTION

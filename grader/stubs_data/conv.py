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
    # YOUR CODE HERE
    raise NotImplementedError("conv_forward: replace this line with your code")


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
    # YOUR CODE HERE
    raise NotImplementedError("conv_backward: replace this line with your code")


def max_pool_forward(X, pool_height, pool_width, stride):
    """Max pooling, no padding.

    X: (N, C, H, W); returns Z: (N, C, H', W') with
    H' = 1 + (H - pool_height) // stride, W' = 1 + (W - pool_width) // stride and
    Z[n, c, i, j] = max of X[n, c, i*stride : i*stride + pool_height, j*stride : j*stride + pool_width]
    """
    # YOUR CODE HERE
    raise NotImplementedError("max_pool_forward: replace this line with your code")


def max_pool_backward(dZ, X, pool_height, pool_width, stride):
    """Backward pass of max_pool_forward.

    dZ: (N, C, H', W') upstream gradient; returns dX: (N, C, H, W)

    Only the maximum of each window reached the output, so each window's gradient
    dZ[n, c, i, j] goes to the entry where its maximum is; the other entries of
    the window get nothing. Where windows overlap (stride < pool size), one entry
    can be the maximum of several windows: their gradients add up (+=).
    """
    # YOUR CODE HERE
    raise NotImplementedError("max_pool_backward: replace this line with your code")

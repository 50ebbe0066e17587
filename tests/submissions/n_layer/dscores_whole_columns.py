# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: fail whole_columns; score 1
# expect train: fail not_implemented
# bug: dscores[:, y] -= 1 instead of dscores[np.arange(m), y] -= 1: 1 is subtracted from every row of each label's column.
import numpy as np


def affine_forward(A, W, b):
    return A @ W + b


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def affine_backward(dZ, A_prev, W):
    return dZ @ W.T, A_prev.T @ dZ, dZ.sum(axis=0, keepdims=True)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def loss_and_grads(X, y, params, reg):
    L = len(params) // 2
    m = X.shape[0]
    inputs, preacts = [], []
    A = X
    for l in range(1, L + 1):
        Z = affine_forward(A, params[f"W{l}"], params[f"b{l}"])
        inputs.append(A)
        preacts.append(Z)
        A = relu_forward(Z) if l < L else Z
    shifted = A - A.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    penalty = sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))
    loss = -log_probs[np.arange(m), y].mean() + 0.5 * reg * penalty
    dZ = np.exp(log_probs)
    dZ[:, y] -= 1.0
    dZ /= m
    grads = {}
    for l in range(L, 0, -1):
        W = params[f"W{l}"]
        dA, dW, db = affine_backward(dZ, inputs.pop(), W)
        preacts.pop()
        grads[f"W{l}"] = dW + reg * W
        grads[f"b{l}"] = db
        if l > 1:
            dZ = relu_backward(dA, preacts[-1])
    return float(loss), grads


def train(X, y, hidden_sizes, seed):
    raise NotImplementedError  # not what this file is about; training costs seconds per run

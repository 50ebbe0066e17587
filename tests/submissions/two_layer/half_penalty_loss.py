# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: fail half_penalty; score 2
# expect train: pass
# bug: the loss has CS231n's penalty reg * sum(W**2), but the gradients add reg * W, the gradient of 0.5 * reg * sum(W**2).
import numpy as np


def affine_forward(A, W, b):
    return A @ W + b


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def affine_backward(dZ, A_prev, W):
    dA_prev = dZ @ W.T
    dW = A_prev.T @ dZ
    db = dZ.sum(axis=0, keepdims=True)
    return dA_prev, dW, db


def relu_backward(dA, Z):
    return dA * (Z > 0)


def loss_and_grads(X, y, params, reg):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[0]
    Z1 = affine_forward(X, W1, b1)
    A1 = relu_forward(Z1)
    scores = affine_forward(A1, W2, b2)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(m), y].mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = np.exp(log_probs)
    dscores[np.arange(m), y] -= 1.0
    dscores /= m
    dA1, dW2, db2 = affine_backward(dscores, A1, W2)
    dZ1 = relu_backward(dA1, Z1)
    _, dW1, db1 = affine_backward(dZ1, X, W1)
    grads = {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
    return float(loss), grads


def train(X, y, hidden_sizes, seed):
    lr, reg, steps = 1.0, 1e-3, 2000
    rng = np.random.default_rng(seed)
    d, h, k = X.shape[1], hidden_sizes[0], int(y.max()) + 1
    params = {
        "W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d),
        "b1": np.zeros((1, h)),
        "W2": rng.standard_normal((h, k)) * np.sqrt(2.0 / h),
        "b2": np.zeros((1, k)),
    }
    for _ in range(steps):
        _, grads = loss_and_grads(X, y, params, reg)
        for name in params:
            params[name] -= lr * grads[name]
    return params

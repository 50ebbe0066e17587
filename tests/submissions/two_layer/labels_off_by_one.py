# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: fail off_by_one_class; score 0
# expect train: fail not_implemented
# bug: the labels are read as numbered from 1: the loss and dscores both use class y - 1.
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

    # Forward; keep each layer's input and pre-activation for the backward pass.
    Z1 = affine_forward(X, W1, b1)
    A1 = relu_forward(Z1)
    scores = affine_forward(A1, W2, b2)

    # Softmax cross-entropy.
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -log_probs[np.arange(m), y - 1].mean()
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = float(data_loss + reg_loss)

    # d(loss)/d(scores): softmax minus one-hot, divided by m because of the mean.
    dscores = np.exp(log_probs)
    dscores[np.arange(m), y - 1] -= 1.0
    dscores /= m

    # Backward through the layers in reverse order.
    dA1, dW2, db2 = affine_backward(dscores, A1, W2)
    dZ1 = relu_backward(dA1, Z1)
    _, dW1, db1 = affine_backward(dZ1, X, W1)

    # The penalty 0.5 * reg * sum(W**2) adds reg * W to each weight gradient.
    grads = {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
    return loss, grads


def train(X, y, hidden_sizes, seed):
    raise NotImplementedError

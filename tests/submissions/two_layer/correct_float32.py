# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: pass
# expect train: pass
# bug: none: a correct solution that computes everything in float32 and writes the backward pass inline.
import numpy as np

f32 = np.float32


def affine_forward(A, W, b):
    return A.astype(f32) @ W.astype(f32) + b.astype(f32)


def relu_forward(Z):
    return np.where(Z > 0, Z, 0).astype(f32)


def affine_backward(dZ, A_prev, W):
    dZ, A_prev, W = dZ.astype(f32), A_prev.astype(f32), W.astype(f32)
    return dZ @ W.T, A_prev.T @ dZ, np.sum(dZ, axis=0, keepdims=True)


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0).astype(f32)


def loss_and_grads(X, y, params, reg):
    X = X.astype(f32)
    W1, b1, W2, b2 = (params[k].astype(f32) for k in ("W1", "b1", "W2", "b2"))
    m, k = X.shape[0], W2.shape[1]
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    scores = A1 @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    Y = np.eye(k, dtype=f32)[y]
    loss = -np.mean(np.log(np.sum(probs * Y, axis=1))) + f32(0.5 * reg) * (np.sum(W1**2) + np.sum(W2**2))
    dscores = (probs - Y) / m
    dW2 = A1.T @ dscores + f32(reg) * W2
    db2 = dscores.sum(axis=0, keepdims=True)
    dZ1 = (dscores @ W2.T) * (Z1 > 0)
    dW1 = X.T @ dZ1 + f32(reg) * W1
    db1 = dZ1.sum(axis=0, keepdims=True)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def train(X, y, hidden_sizes, seed):
    rng = np.random.default_rng(seed)
    d, h, k = X.shape[1], hidden_sizes[0], int(y.max()) + 1
    params = {"W1": (rng.standard_normal((d, h)) * np.sqrt(2.0 / d)).astype(f32), "b1": np.zeros((1, h), f32),
              "W2": (rng.standard_normal((h, k)) * np.sqrt(2.0 / h)).astype(f32), "b2": np.zeros((1, k), f32)}
    for _ in range(2000):
        _, grads = loss_and_grads(X, y, params, 1e-3)
        params = {name: params[name] - f32(1.0) * grads[name] for name in params}
    return params

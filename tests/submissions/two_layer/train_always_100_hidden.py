# expect affine_forward: pass
# expect relu_forward: pass
# expect affine_backward: pass
# expect relu_backward: pass
# expect loss_and_grads: pass
# expect train: fail shape_mismatch; score 1
# bug: train trains well with hidden_sizes=[100] but ignores the hidden_sizes it is given.
"""A two-layer ReLU network, trained by backpropagation written by hand.

    X --affine(W1, b1)--> Z1 --relu--> A1 --affine(W2, b2)--> scores --softmax--> loss

Shapes, for a batch of m examples with d features, h hidden units and k classes:

    X (m, d)   W1 (d, h)   b1 (1, h)   Z1, A1 (m, h)
               W2 (h, k)   b2 (1, k)   scores (m, k)

Each row of a matrix is one example. Every gradient has the same shape as the
thing it is the gradient of: dW1 is (d, h) because W1 is.

The backward functions do not differentiate anything symbolically. Each one
takes the gradient of the loss with respect to its output (the "upstream"
gradient, e.g. dZ) and applies the chain rule once to get the gradient with
respect to its inputs. Chaining them from the loss back to X is backprop.
"""

import numpy as np


def affine_forward(A, W, b):
    """Affine layer: Z = A W + b.

    A: (m, n_prev)  one row of inputs per example
    W: (n_prev, n)  one column of weights per output unit
    b: (1, n)       one bias per output unit
    returns Z: (m, n)

    Z[i, j] = sum_p A[i, p] W[p, j] + b[0, j]: output unit j of example i is a
    weighted sum of that example's inputs plus a bias. b is (1, n), so numpy
    broadcasts it down the m rows: every example gets the same bias.
    """
    return A @ W + b


def relu_forward(Z):
    """ReLU non-linearity: A = max(Z, 0), elementwise.

    Z: (m, n) pre-activations
    returns A: (m, n), a NEW array; Z must not be changed.

    Z is still needed after this call: relu_backward uses it to decide where
    gradient flows. Clamping Z in place (Z[Z < 0] = 0) would corrupt it.
    Without a non-linearity, stacked affine layers collapse into one affine
    map and the network could draw only straight class boundaries.
    """
    return np.maximum(Z, 0.0)


def affine_backward(dZ, A_prev, W):
    """Backward pass of Z = A_prev W + b.

    dZ:     (m, n)       gradient of the loss w.r.t. Z (upstream)
    A_prev: (m, n_prev)  the input the forward pass used
    W:      (n_prev, n)  the weights the forward pass used
    returns (dA_prev, dW, db):
        dA_prev = dZ W^T                          (m, n_prev)
        dW      = A_prev^T dZ                     (n_prev, n)
        db      = sum of dZ over rows, keepdims   (1, n)

    Why: Z[i, j] = sum_p A_prev[i, p] W[p, j] + b[0, j], so
      - A_prev[i, p] affects Z[i, j] for every j, with weight W[p, j]:
        dA_prev[i, p] = sum_j dZ[i, j] W[p, j], which is (dZ W^T)[i, p].
      - W[p, j] affects Z[i, j] for every example i, with weight A_prev[i, p]:
        dW[p, j] = sum_i A_prev[i, p] dZ[i, j], which is (A_prev^T dZ)[p, j].
        Summing over examples is right: the loss (already a mean) depends on
        W through all of them.
      - b[0, j] was broadcast to every row, so its gradient is the sum of
        dZ[:, j] over the rows. Keep the dims (keepdims=True) so db is (1, n)
        like b, not (n,): then `b -= lr * db` and the gradient checker see the
        shape they expect.
    A quick check: each result has the shape of the thing it is a gradient
    of, and there is only one way to multiply the given shapes to get it.
    """
    dA_prev = dZ @ W.T
    dW = A_prev.T @ dZ
    db = dZ.sum(axis=0, keepdims=True)
    return dA_prev, dW, db


def relu_backward(dA, Z):
    """Backward pass of A = max(Z, 0).

    dA: (m, n) gradient of the loss w.r.t. A (upstream)
    Z:  (m, n) the PRE-activation the forward pass used
    returns dZ = dA * (Z > 0): (m, n), a new array; dA and Z must not be changed.

    Why: where Z > 0, A = Z and the local derivative is 1, so the gradient
    passes through unchanged; where Z <= 0, A is the constant 0 and the
    gradient is 0. The mask must come from Z, the input of the ReLU: it is
    Z's sign that decided which branch the forward pass took. (The output
    A = max(Z, 0) would give the same mask here, but only by coincidence of
    ReLU; dA is a gradient, and its sign says nothing about the branch.)
    """
    return dA * (Z > 0)


def loss_and_grads(X, y, params, reg):
    """Loss of the two-layer network and its gradient w.r.t. every parameter.

    X: (m, d) inputs; y: (m,) integer labels in 0..k-1
    params: dict with W1 (d, h), b1 (1, h), W2 (h, k), b2 (1, k)
    reg: L2 regularisation strength, a float >= 0
    returns (loss, grads): loss a Python float; grads a dict with keys
    W1, b1, W2, b2, each the same shape as the parameter.

    Forward, using the layer functions above:
        Z1 = X W1 + b1;  A1 = relu(Z1);  scores = A1 W2 + b2
        probs[i] = softmax(scores[i]) = exp(scores[i]) / sum(exp(scores[i]))
        loss = -(1/m) sum_i log probs[i, y[i]] + 0.5 reg (sum W1^2 + sum W2^2)

    - Subtract each row's max from scores before exp: softmax does not
      change when a constant is added to a row, and it stops exp overflowing
      to inf when scores are large.
    - Divide by m: the loss is a MEAN over examples, so its size (and the
      step size that suits it) does not depend on the batch size.
    - The 0.5 in the penalty makes its gradient exactly reg * W (the
      derivative of 0.5 reg W^2 is reg W). Biases are not penalised: they
      only shift outputs, and shrinking them does not make the function
      smoother.

    Backward:
        dscores = (probs - onehot(y)) / m      the softmax + cross-entropy
                                               gradient; 1/m from the mean
        then affine_backward, relu_backward, affine_backward in reverse order,
        and add reg * W to each dW for the penalty.
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    m = X.shape[0]

    # Forward; keep each layer's input and pre-activation for the backward pass.
    Z1 = affine_forward(X, W1, b1)
    A1 = relu_forward(Z1)
    scores = affine_forward(A1, W2, b2)

    # Softmax cross-entropy; shifting by the row max keeps exp from overflowing.
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    data_loss = -log_probs[np.arange(m), y].mean()
    reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    loss = float(data_loss + reg_loss)

    # d(loss)/d(scores): softmax minus one-hot, divided by m because of the mean.
    dscores = np.exp(log_probs)
    dscores[np.arange(m), y] -= 1.0
    dscores /= m

    # Backward through the layers in reverse order.
    dA1, dW2, db2 = affine_backward(dscores, A1, W2)
    dZ1 = relu_backward(dA1, Z1)
    _, dW1, db1 = affine_backward(dZ1, X, W1)

    # The penalty 0.5 * reg * sum(W**2) adds reg * W to each weight gradient.
    grads = {"W1": dW1 + reg * W1, "b1": db1, "W2": dW2 + reg * W2, "b2": db2}
    return loss, grads


def train(X, y, hidden_sizes, seed):
    """Train the two-layer network on (X, y); return the params dict.

    X: (m, d) inputs; y: (m,) integer labels 0..k-1, with k = y.max() + 1
    hidden_sizes: a list with one entry, h, the number of hidden units
    seed: int, for np.random.default_rng(seed), so training is reproducible
    returns params: dict W1 (d, h), b1 (1, h), W2 (h, k), b2 (1, k)

    Initialisation (He): W_l = standard_normal((n_in, n_out)) * sqrt(2 / n_in),
    biases zero. Random weights break the symmetry between hidden units (with
    equal weights every unit would get the same gradient and stay a copy of
    the others); the sqrt(2 / n_in) scale keeps the variance of the
    activations roughly constant through a ReLU layer, which zeroes about
    half of its inputs. Zero biases are fine because the weights are already
    different.

    Optimisation: full-batch gradient descent, every step on all m examples,
    p <- p - lr * dp for every parameter p, with a small reg (1e-3) that keeps
    the weights from growing without bound once the data are fit.
    """
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


# ---- changed ----

_orig_train = train


def train(X, y, hidden_sizes, seed):
    return _orig_train(X, y, [100], seed)

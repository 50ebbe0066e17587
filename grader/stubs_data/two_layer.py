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
    # YOUR CODE HERE
    raise NotImplementedError("affine_forward: replace this line with your code")


def relu_forward(Z):
    """ReLU non-linearity: A = max(Z, 0), elementwise.

    Z: (m, n) pre-activations
    returns A: (m, n), a NEW array; Z must not be changed.

    Z is still needed after this call: relu_backward uses it to decide where
    gradient flows. Clamping Z in place (Z[Z < 0] = 0) would corrupt it.
    Without a non-linearity, stacked affine layers collapse into one affine
    map and the network could draw only straight class boundaries.
    """
    # YOUR CODE HERE
    raise NotImplementedError("relu_forward: replace this line with your code")


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
    # YOUR CODE HERE
    raise NotImplementedError("affine_backward: replace this line with your code")


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
    # YOUR CODE HERE
    raise NotImplementedError("relu_backward: replace this line with your code")


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
    # YOUR CODE HERE
    raise NotImplementedError("loss_and_grads: replace this line with your code")


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
    # YOUR CODE HERE
    raise NotImplementedError("train: replace this line with your code")

"""An L-layer ReLU network (any L >= 1), trained by backpropagation written by hand.

    A0 = X
    Z_l = A_{l-1} W_l + b_l           for l = 1 .. L
    A_l = relu(Z_l)                   for l = 1 .. L-1
    scores = Z_L  --softmax-->  loss  (no ReLU on the last layer)

Shapes, for a batch of m examples, with layer sizes n_0 = d (features), n_1, ...,
n_L = k (classes):

    X (m, n_0)   W_l (n_{l-1}, n_l)   b_l (1, n_l)   Z_l, A_l (m, n_l)

Each row of a matrix is one example. Every gradient has the same shape as the
thing it is the gradient of: dW_l is (n_{l-1}, n_l) because W_l is.

The layer functions are the same as in the two-layer exercise: a layer does not
care how many layers come before or after it. Only loss_and_grads and train
change, from naming each layer to looping over them.
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
    """Loss of the L-layer network and its gradient w.r.t. every parameter.

    X: (m, d) inputs; y: (m,) integer labels in 0..k-1
    params: dict with W1, b1, ..., WL, bL; W_l (n_{l-1}, n_l), b_l (1, n_l),
        n_0 = d and n_L = k; L is the number of W keys
    reg: L2 regularisation strength, a float >= 0
    returns (loss, grads): loss a Python float; grads a dict with the same
    keys as params, each gradient the same shape as its parameter.

    Forward, using the layer functions above, for l = 1 .. L:
        Z_l = A_{l-1} W_l + b_l  (A_0 = X);  A_l = relu(Z_l) except for l = L
        probs[i] = softmax(Z_L[i]) = exp(Z_L[i]) / sum(exp(Z_L[i]))
        loss = -(1/m) sum_i log probs[i, y[i]] + 0.5 reg sum_l sum(W_l^2)

    - Subtract each row's max from the scores before exp: softmax does not
      change when a constant is added to a row, and it stops exp overflowing
      to inf when scores are large.
    - Divide by m: the loss is a MEAN over examples, so its size (and the
      step size that suits it) does not depend on the batch size.
    - The 0.5 in the penalty makes its gradient exactly reg * W (the
      derivative of 0.5 reg W^2 is reg W). Biases are not penalised: they
      only shift outputs, and shrinking them does not make the function
      smoother.
    - No ReLU on the last layer: scores must be free to be negative, and
      softmax already turns them into probabilities.

    Backward, with dZ_L = (probs - onehot(y)) / m (softmax + cross-entropy;
    1/m from the mean), for l = L .. 1:
        dA_{l-1}, dW_l, db_l = affine_backward(dZ_l, A_{l-1}, W_l)
        dZ_{l-1} = relu_backward(dA_{l-1}, Z_{l-1})       (if l > 1)
        grads["W<l>"] = dW_l + reg * W_l;  grads["b<l>"] = db_l
    so the forward pass must remember every A_{l-1} and Z_l.
    """
    # YOUR CODE HERE
    raise NotImplementedError("loss_and_grads: replace this line with your code")


def train(X, y, hidden_sizes, seed):
    """Train an L-layer network on (X, y); return the params dict.

    X: (m, d) inputs; y: (m,) integer labels 0..k-1, with k = y.max() + 1
    hidden_sizes: list of hidden layer widths, possibly empty; the layer
        sizes are [d, *hidden_sizes, k], so L = len(hidden_sizes) + 1
    seed: int, for np.random.default_rng(seed), so training is reproducible
    returns params: dict W1, b1, ..., WL, bL; W_l (n_{l-1}, n_l), b_l (1, n_l)

    Initialisation (He): W_l = standard_normal((n_in, n_out)) * sqrt(2 / n_in),
    biases zero. Random weights break the symmetry between hidden units (with
    equal weights every unit would get the same gradient and stay a copy of
    the others); the sqrt(2 / n_in) scale keeps the variance of the
    activations roughly constant through each ReLU layer, which zeroes about
    half of its inputs, so signals neither vanish nor explode with depth.
    Zero biases are fine because the weights are already different.

    Optimisation: full-batch gradient descent, every step on all m examples,
    p <- p - lr * dp for every parameter p, with a small reg (1e-3) that keeps
    the weights from growing without bound once the data are fit. These
    settings fit the spiral with one hidden layer of 100 units (the graded
    case) in a second or two; deeper, narrower networks learn more slowly
    with plain gradient descent and need more steps.
    """
    # YOUR CODE HERE
    raise NotImplementedError("train: replace this line with your code")

"""A softmax classifier, with its gradients written by hand.

    X --(W, b)--> Z = X W + b --softmax--> P --cross-entropy with y--> J

Shapes, for m examples with d features and k classes (one row per example):

    X (m, d)   W (d, k)   b (1, k)   Z, P (m, k)   y (m,) integers in 0..k-1

The loss is the mean cross-entropy J = -(1/m) sum_i log P[i, y_i]. Each gradient
has the shape of the thing it is the gradient of: dW is (d, k) because W is.
Check your work with:  grade check softmax.py
"""
import numpy as np


def forward(X, W, b):
    """Class probabilities P = softmax(X W + b), row by row.

    X: (m, d) inputs, W: (d, k) weights, b: (1, k) biases.
    Returns P: (m, k); every entry >= 0 and every row sums to 1.

    softmax(z)_j = exp(z_j) / sum_c exp(z_c) for one row z of scores.
    exp(1000) overflows to inf, so subtract each row's maximum first: softmax is
    unchanged when a constant is subtracted from a whole row (it cancels between
    numerator and denominator), and after the shift the largest exponent is 0.
    Do not modify X, W or b.
    """
    # YOUR CODE HERE
    raise NotImplementedError("forward: replace this line with your code")


def dZ(P, y):
    """Gradient of the mean cross-entropy with respect to the scores Z.

    P: (m, k) probabilities from forward, y: (m,) integer labels.
    Returns G: (m, k), G = (P - Y) / m with Y the one-hot labels (Y[i, y_i] = 1).

    Why: for one example, -log p_y with p = softmax(z) has
    d(-log p_y)/dz_j = p_j - [j = y]: every class gets its probability, and the
    true class gets 1 subtracted. J averages m examples, hence the 1/m.
    Do not modify P: copy it first (G = P.copy()).
    """
    # YOUR CODE HERE
    raise NotImplementedError("dZ: replace this line with your code")


def dW(X, dZ):
    """Gradient with respect to W, given dZ = dJ/dZ.

    X: (m, d) inputs, dZ: (m, k). Returns (d, k), the shape of W.

    Z[i, j] = sum_p X[i, p] W[p, j] + b[0, j], so dJ/dW[p, j] = sum_i X[i, p] dZ[i, j],
    which is the matrix product X^T dZ: (d, m) @ (m, k) -> (d, k).
    dZ already carries the 1/m of the mean: do not divide again.
    """
    # YOUR CODE HERE
    raise NotImplementedError("dW: replace this line with your code")


def db(dZ):
    """Gradient with respect to b, given dZ = dJ/dZ.

    dZ: (m, k). Returns (1, k), the shape of b.

    b[0, j] is added to the score of class j of every example, so its gradient
    adds up dZ[:, j] over the m examples: a sum over axis 0. Keep the summed axis
    (keepdims=True) so the result is (1, k) like b, not (k,).
    """
    # YOUR CODE HERE
    raise NotImplementedError("db: replace this line with your code")

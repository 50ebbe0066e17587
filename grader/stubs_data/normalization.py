"""Batch normalization, layer normalization and inverted dropout, forward and backward.

All arrays are float64 numpy arrays; X is (m, n): m examples, n features. gamma and
beta are (1, n), like an affine layer's b, and every gradient has the shape of what
it is the gradient of.

Each backward function gets what it needs as arguments (no cache): it recomputes
the statistics it needs from X. It must not change its arguments in place, except
the upstream gradient dY, which it may reuse.

Check your work with: grade check normalization.py
"""
import numpy as np


def batchnorm_forward(X, gamma, beta, eps):
    """Batch normalization in training mode.

    X: (m, n); gamma, beta: (1, n); eps: a small float
    returns Y: (m, n)

        mu  = mean of X over the examples (axis 0)            (1, n)
        var = mean of (X - mu)**2 over axis 0 (biased: / m)   (1, n)
        Y   = gamma * (X - mu) / sqrt(var + eps) + beta

    Each feature is centred and scaled by statistics of the batch, then gamma
    and beta give the layer back any scale and shift it needs. eps keeps the
    division finite when a feature hardly varies.
    """
    # YOUR CODE HERE
    raise NotImplementedError("batchnorm_forward: replace this line with your code")


def batchnorm_backward(dY, X, gamma, eps):
    """Backward pass of batchnorm_forward.

    dY: (m, n) upstream gradient; X, gamma, eps: what the forward pass got
    returns (dX, dgamma, dbeta): (m, n), (1, n), (1, n)

    With xhat = (X - mu) / sqrt(var + eps) and Y = gamma * xhat + beta:
        dbeta  = sum of dY over the examples          (keepdims: (1, n))
        dgamma = sum of dY * xhat over the examples
        dX: mu and var depend on EVERY example, so each X[i, j] reaches Y
        three ways: directly, through mu and through var. With g = dY * gamma,
        dX = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps),
        means over axis 0. (Derive it in steps through xhat, var and mu, or
        simplify it to this expression: both are right.)
    """
    # YOUR CODE HERE
    raise NotImplementedError("batchnorm_backward: replace this line with your code")


def layernorm_forward(X, gamma, beta, eps):
    """Layer normalization: batchnorm's formula with the statistics of each example.

    X: (m, n); gamma, beta: (1, n); eps: a small float
    returns Y: (m, n)

        mu, var = mean and biased variance of each ROW of X (axis 1)   (m, 1)
        Y = gamma * (X - mu) / sqrt(var + eps) + beta

    No statistic mixes examples, so it works the same on a batch of one and
    at test time. gamma and beta are still per feature, (1, n).
    """
    # YOUR CODE HERE
    raise NotImplementedError("layernorm_forward: replace this line with your code")


def layernorm_backward(dY, X, gamma, eps):
    """Backward pass of layernorm_forward.

    returns (dX, dgamma, dbeta): (m, n), (1, n), (1, n)

    dgamma and dbeta sum over the examples (axis 0), as in batchnorm: gamma and
    beta are shared by every example. dX is batchnorm's with the means taken
    over each row (axis 1), because the statistics are each row's.
    """
    # YOUR CODE HERE
    raise NotImplementedError("layernorm_backward: replace this line with your code")


def dropout_forward(X, keep_prob, seed):
    """Inverted dropout in training mode.

    X: (m, n); keep_prob: the probability of keeping each entry; seed: an int
    returns (Y, mask): Y (m, n); mask (m, n), bool (or 0/1)

        rng = np.random.default_rng(seed)
        mask = rng.random(X.shape) < keep_prob     one draw per ENTRY
        Y = X * mask / keep_prob

    Dividing by keep_prob keeps the expected value of Y equal to X, so at test
    time the layer does nothing at all.
    """
    # YOUR CODE HERE
    raise NotImplementedError("dropout_forward: replace this line with your code")


def dropout_backward(dY, mask, keep_prob):
    """Backward pass of dropout_forward.

    dY: (m, n) upstream gradient; mask: the mask dropout_forward returned
    returns dX = dY * mask / keep_prob: (m, n)
    """
    # YOUR CODE HERE
    raise NotImplementedError("dropout_backward: replace this line with your code")

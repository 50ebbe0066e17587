# expect affine_forward: fail not_implemented
# expect relu_forward: fail not_implemented
# expect affine_backward: fail not_implemented
# expect relu_backward: fail not_implemented
# expect loss_and_grads: fail not_implemented
# expect train: pass
# bug: train returns params trained offline on the public spiral, pasted in as literals (a net of 10 hidden
# units, zero-padded to hidden_sizes). The public inputs are that spiral, so it passes there; with any other
# seed or a course secret train is graded on a spiral drawn for that grading, and it scores low_accuracy
# (test_train_variants.py).
import numpy as np

TRAINED = {
    "W1": np.array(
        [
            [2.992, -3.107, 1.977, -2.002, -0.714, 2.502, -3.859, -0.021, -1.268, 4.832],
            [1.284, -2.476, -1.088, -2.756, -3.889, -2.763, -0.026, -3.296, 2.951, -1.263],
        ]
    ),
    "b1": np.array(
        [
            [-0.837, 0.803, 0.730, -0.315, -1.540, 0.885, -0.607, -0.838, -0.290, -0.692],
        ]
    ),
    "W2": np.array(
        [
            [-1.999, 2.516, -0.390],
            [-3.150, 2.224, 0.918],
            [0.859, -1.812, 1.040],
            [2.240, -2.546, 0.296],
            [2.954, -0.230, -2.630],
            [-1.011, -2.029, 2.971],
            [1.130, -3.156, 1.883],
            [2.501, -0.432, -2.119],
            [-2.558, 0.952, 1.690],
            [1.054, 2.943, -3.873],
        ]
    ),
    "b2": np.array(
        [
            [2.714, 1.357, -4.071],
        ]
    ),
}


def affine_forward(A, W, b):
    raise NotImplementedError


def relu_forward(Z):
    raise NotImplementedError


def affine_backward(dZ, A_prev, W):
    raise NotImplementedError


def relu_backward(dA, Z):
    raise NotImplementedError


def loss_and_grads(X, y, params, reg):
    raise NotImplementedError


def train(X, y, hidden_sizes, seed):
    (h,) = hidden_sizes
    params = {"W1": np.zeros((2, h)), "b1": np.zeros((1, h)), "W2": np.zeros((h, 3)), "b2": TRAINED["b2"].copy()}
    params["W1"][:, :10] = TRAINED["W1"]
    params["b1"][:, :10] = TRAINED["b1"]
    params["W2"][:10] = TRAINED["W2"]
    return params

"""The classic 3-class 2-D spiral: the data set every exercise trains and grades on.

Generated from a seed rather than shipped as a file, so it is identical on every
machine and costs nothing to load.
"""

import numpy as np

SPIRAL_SEED = 0


def spiral(points_per_class=100, classes=3, seed=SPIRAL_SEED, noise=0.2):
    """Return X (points_per_class * classes, 2) float64 and y (same,) int64 labels 0..classes-1.

    Class j lies on an arm whose angle sweeps 4 radians as the radius goes 0 -> 1,
    with Gaussian noise on the angle: linearly inseparable, so a softmax classifier
    tops out near 50% while a small ReLU network separates it.
    """
    rng = np.random.default_rng(seed)
    n = points_per_class
    X = np.empty((n * classes, 2))
    y = np.empty(n * classes, dtype=np.int64)
    for j in range(classes):
        rows = slice(n * j, n * (j + 1))
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(4.0 * j, 4.0 * (j + 1), n) + rng.standard_normal(n) * noise
        X[rows] = np.column_stack([r * np.sin(t), r * np.cos(t)])
        y[rows] = j
    return X, y

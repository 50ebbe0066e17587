"""The classic 3-class 2-D spiral: the data set every exercise trains and grades on.

Generated from a seed rather than shipped as a file, so it is identical on every
machine and costs nothing to load.
"""

import numpy as np

SPIRAL_SEED = 0


def spiral(points_per_class=100, classes=3, seed=SPIRAL_SEED, noise=0.2, rotation=0.0, phase=4.0):
    """Return X (points_per_class * classes, 2) float64 and y (same,) int64 labels 0..classes-1.

    Class j lies on an arm that starts at angle rotation + phase * j and sweeps 4 radians
    as the radius goes 0 -> 1, with Gaussian noise (standard deviation `noise`) on the
    angle: linearly inseparable, so a softmax classifier tops out near 50% while a small
    ReLU network separates it. The defaults are the public spiral, which students see.
    """
    rng = np.random.default_rng(seed)
    n = points_per_class
    X = np.empty((n * classes, 2))
    y = np.empty(n * classes, dtype=np.int64)
    for j in range(classes):
        rows = slice(n * j, n * (j + 1))
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(phase * j, phase * j + 4.0, n) + rng.standard_normal(n) * noise + rotation
        X[rows] = np.column_stack([r * np.sin(t), r * np.cos(t)])
        y[rows] = j
    return X, y


# The ranges a drawn spiral's shape comes from (drawn_spiral). Turned at least a sixth of a turn from
# the public spiral, params fitted to it classify the arms wrongly; arms no closer than the public
# spiral's (1.72 rad at any radius) and noise up to 0.25 keep it learnable: the reference solution
# reaches 95% on every draw (benchmarks/train_variants.py measures both).
ROTATION = (np.pi / 3, 5 * np.pi / 3)
PHASE = (4.0, 4.4)
NOISE = (0.15, 0.25)


def drawn_spiral(rng):
    """A spiral no one has seen: its rotation, phase (the angle between arms), noise and points drawn from RNG."""
    return spiral(
        seed=int(rng.integers(2**63)),
        noise=float(rng.uniform(*NOISE)),
        rotation=float(rng.uniform(*ROTATION)),
        phase=float(rng.uniform(*PHASE)),
    )

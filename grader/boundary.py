"""The learned decision regions of a trained network, drawn over the spiral (`grade check --plot`).

matplotlib is imported only when a picture is asked for, with the Agg backend, so
grading never needs a display and never pays matplotlib's import time otherwise.
"""

from dataclasses import dataclass

import numpy as np

from .exercises import relu_net as net

_GRID = 300  # points per axis of the background grid
_COLOURS = ("#d7191c", "#2b83ba", "#fdae61", "#1a9641", "#7b3294", "#404040")


@dataclass(frozen=True)
class Boundary:
    """What `train` produced, as the grader sees it: the data and the returned params."""

    X: np.ndarray
    y: np.ndarray
    params: dict
    accuracy: float


def save_png(boundary, path, title=None):
    """Write a PNG of the class regions (the grader's forward on a grid) with the points on top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    X, y = boundary.X, boundary.y
    pad = 0.25
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, _GRID)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, _GRID)
    gx, gy = np.meshgrid(xs, ys)
    regions = net.predict(boundary.params, np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    figure, axes = plt.subplots(figsize=(5, 5), dpi=100)
    try:
        k = int(max(y.max(), regions.max())) + 1
        colours = ListedColormap([_COLOURS[c % len(_COLOURS)] for c in range(k)])
        # One colour per class for both: a region is its class's colour, faded.
        axes.contourf(gx, gy, regions, levels=np.arange(k + 1) - 0.5, cmap=colours, alpha=0.35)
        axes.scatter(X[:, 0], X[:, 1], c=y, s=22, cmap=colours, vmin=-0.5, vmax=k - 0.5, edgecolors="k", linewidths=0.4)
        axes.set_xlim(xs[0], xs[-1])
        axes.set_ylim(ys[0], ys[-1])
        axes.set_title(title or f"decision regions: training accuracy {boundary.accuracy:.1%}")
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)

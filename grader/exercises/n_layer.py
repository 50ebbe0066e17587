"""The L-layer ReLU network (any L >= 1): the two_layer tasks, with loss_and_grads looping.

loss_and_grads is graded on one layer (softmax regression: no ReLU at all), the
spiral with two hidden layers of 100 units (10,703 parameters, checked by sampled
directional derivatives, grader.directional), and three layers of distinct sizes.
The spiral comes before the distinct sizes because its two hidden layers have one
width: a backward loop that takes another layer's mask still runs there, and gets
its diagnosis from the values instead of a broadcasting error.
"""

from ..checking.spec import Exercise, Size
from .relu_tasks import SIZES, tasks


def nets(sizes):
    m, d, k = sizes["examples"], sizes["n_in"], sizes["classes"]
    three = [d, sizes["hidden"], sizes["hidden2"], k]
    return (
        (f"one layer, no ReLU (X {m}x{d}, layer sizes {[d, k]})", [d, k], m),
        ("the spiral (X 300x2, layer sizes [2, 100, 100, 3])", [2, 100, 100, 3], None),
        (f"three layers (X {m}x{d}, layer sizes {three})", three, m),
    )


EXERCISE = Exercise(
    name="n_layer",
    title="L-layer ReLU network: layers, backprop in a loop, training",
    tasks=tasks(nets, "W1, b1, ..., WL, bL", [24, 12]),
    sizes={**SIZES, "hidden2": Size(6, 4, 10)},
)

"""The L-layer ReLU network (any L >= 1): the two_layer tasks, with loss_and_grads looping.

loss_and_grads is graded on one layer (softmax regression: no ReLU at all), the
spiral with two hidden layers of 100 units (10,703 parameters, checked by sampled
directional derivatives, grader.directional), and three layers of distinct sizes.
The spiral comes before the distinct sizes because its two hidden layers have one
width: a backward loop that takes another layer's mask still runs there, and gets
its diagnosis from the values instead of a broadcasting error.
"""

from ..checking.spec import Exercise
from .relu_tasks import tasks

NETS = (
    ("one layer, no ReLU (X 11x5, layer sizes [5, 4])", [5, 4], 11),
    ("the spiral (X 300x2, layer sizes [2, 100, 100, 3])", [2, 100, 100, 3], None),
    ("three layers (X 11x5, layer sizes [5, 9, 6, 4])", [5, 9, 6, 4], 11),
)

EXERCISE = Exercise(
    name="n_layer",
    title="L-layer ReLU network: layers, backprop in a loop, training",
    tasks=tasks(NETS, "W1, b1, ..., WL, bL", [24, 12]),
)

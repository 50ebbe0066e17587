"""The two-layer ReLU network: X -> affine -> relu -> affine -> softmax cross-entropy.

Tasks, checks and the grader's own float64 network are shared with n_layer
(relu_tasks.py, relu_net.py); this file only names the networks loss_and_grads
is graded on: a small one with no two sizes equal, then the spiral with 100 hidden
units.
"""

from ..checking.spec import Exercise
from .relu_tasks import SIZES, tasks


def nets(sizes):
    m, layers = sizes["examples"], [sizes["n_in"], sizes["hidden"], sizes["classes"]]
    return (
        (f"a small network (X {m}x{layers[0]}, layer sizes {layers})", layers, m),
        ("the spiral (X 300x2, layer sizes [2, 100, 3])", [2, 100, 3], None),
    )


EXERCISE = Exercise(
    name="two_layer",
    title="Two-layer ReLU network: layers, backprop, training",
    tasks=tasks(nets, "W1, b1, W2, b2", [24]),
    sizes=SIZES,
)

"""The sampled directional gradient check: known functions, ReLU kinks, and the issue's mutants.

The mutants here are gradient functions of the [2, 100, 100, 3] network on the
spiral (10,703 parameters), computed in-process from the grader's own math, so the
check itself (not the sandbox) is what is tested: it must fail every mutant, name
the wrong blocks, and stay within 1% of the 2P evaluations of a full centred check.
"""

import numpy as np
import pytest

from grader import check_directional
from grader.data import spiral
from grader.exercises import relu_net as net
from grader.exercises.relu_tasks import REG, check_grads

SIZES = [2, 100, 100, 3]


# -- known functions ------------------------------------------------------------------
def smooth(params):
    x, w = params["x"], params["w"]
    return float(np.sum(np.sin(x)) + np.sum(w**3) / 3 + np.sum(x) * np.sum(w))


def smooth_grads(params):
    x, w = params["x"], params["w"]
    return {"x": np.cos(x) + np.sum(w), "w": w**2 + np.sum(x)}


@pytest.fixture
def point():
    rng = np.random.default_rng(0)
    return {"x": rng.standard_normal((4, 6)), "w": rng.standard_normal(5)}


def test_the_right_gradient_passes_with_two_evaluations_per_probe(point):
    result = check_directional(smooth, point, smooth_grads(point), seed=1)
    assert result.passed and result.failures == 0
    assert result.probes == 4 and result.evaluations == 1 + 2 * 4
    assert "agree" in result.message and result.details == ()


def test_a_single_array_is_one_block():
    x = np.linspace(-1.0, 1.0, 9)
    assert check_directional(lambda v: float(np.sum(np.exp(v))), x, np.exp(x)).passed
    result = check_directional(lambda v: float(np.sum(np.exp(v))), x, 2 * np.exp(x))
    assert not result.passed and result.wrong_blocks == ("x",)


def test_a_wrong_block_is_localised_with_its_wrong_entries(point):
    grads = smooth_grads(point)
    grads["w"] = grads["w"].copy()
    grads["w"][[1, 3]] += 0.5
    result = check_directional(smooth, point, grads, seed=2, entries=5)
    assert not result.passed
    assert result.wrong_blocks == ("w",)
    (w_line, fine_line) = result.details
    assert w_line.startswith("grads['w'] wrong: entries (1) expected") and "(3) expected" in w_line
    assert fine_line == "x fine"
    assert "grads['w'] is not the gradient of the loss" in result.message


def test_nan_in_the_gradient_fails(point):
    grads = smooth_grads(point)
    grads["x"] = grads["x"].copy()
    grads["x"][0, 0] = np.nan
    result = check_directional(smooth, point, grads, seed=4)
    assert not result.passed and "x" in result.wrong_blocks


@pytest.mark.parametrize("huge", [1e155, 1e200, 1e307])
def test_a_finite_entry_whose_square_overflows_fails(point, huge):
    """Zeros but one such entry: a floor of the probes' denominator built from the gradient's squares
    was inf, and every probe agreed with anything."""
    grads = {key: np.zeros_like(value) for key, value in point.items()}
    grads["w"][0] = huge
    result = check_directional(smooth, point, grads, seed=4)
    assert not result.passed and "w" in result.wrong_blocks


def test_keys_and_shapes_must_match(point):
    with pytest.raises(ValueError, match="keys"):
        check_directional(smooth, point, {"x": point["x"]})
    with pytest.raises(ValueError, match="shape"):
        check_directional(smooth, point, {"x": point["x"].T, "w": point["w"]})


def test_the_same_seed_gives_the_same_result(point):
    grads = smooth_grads(point)
    grads["x"] = grads["x"] * 1.01
    first, again = (check_directional(smooth, point, grads, seed=7) for _ in range(2))
    assert first == again
    assert first.details == again.details


class Scripted:
    """`smooth`, except on the calls numbered in `others` (0 is J at the point itself), where a linear
    term <u, theta' - theta> is added: the slope along some directions is off by <u, v> at every step,
    as through a kink no test can see. Each probe costs two calls, and two more when it fails."""

    def __init__(self, theta, u, others):
        self.theta, self.u, self.others, self.calls = theta, u, set(others), 0

    def __call__(self, params):
        number, self.calls = self.calls, self.calls + 1
        value = smooth(params)
        if number in self.others:
            value += sum(float(np.vdot(self.u[k], params[k] - self.theta[k])) for k in params)
        return value


def test_a_lone_failing_probe_is_confirmed_before_the_gradient_is_called_wrong(point):
    u = {key: np.ones_like(value) for key, value in point.items()}
    J = Scripted(point, u, others=range(1, 5))  # the first probe (2 calls, 2 more to re-measure) disagrees
    result = check_directional(J, point, smooth_grads(point), seed=1)
    assert result.passed and result.failures == 1
    assert result.probes == 4 + 2  # the two confirming probes were drawn, and agreed


def test_a_failure_the_next_probes_miss_is_caught_by_the_confirming_ones(point):
    u = {key: np.ones_like(value) for key, value in point.items()}
    wrong = {key: smooth_grads(point)[key] + u[key] for key in point}
    J = Scripted(point, u, others=range(5, 11))  # probes 2-4 see a J whose gradient is `wrong`
    result = check_directional(J, point, wrong, seed=1)
    assert not result.passed and result.failures == 3 and result.probes == 6


# -- kinks --------------------------------------------------------------------------------
def kinked_point():
    # Two entries within the step (1e-5) of relu's kink: most directions cross one.
    x = np.random.default_rng(3).standard_normal(40)
    x[:2] = 2e-6, -3e-6
    return {"x": x}


def relu_sum(params):
    x = params["x"]
    return float(np.sum(np.maximum(x, 0.0)) + 0.5 * np.sum(x * x))


def relu_sum_with_kinks(params):
    return relu_sum(params), [params["x"]]


def relu_sum_grads(params):
    x = params["x"]
    return {"x": (x > 0) + x}


@pytest.mark.parametrize("J", [relu_sum, relu_sum_with_kinks], ids=["step_refinement", "pre_activations"])
def test_kinks_never_fail_the_right_gradient(J):
    point = kinked_point()
    results = [check_directional(J, point, relu_sum_grads(point), seed=seed) for seed in range(200)]
    assert all(result.passed for result in results)
    assert sum(result.kinks for result in results) > 100  # the kinks were there, and were handled


def test_a_function_that_is_all_kinks_passes_as_inconclusive():
    x = np.linspace(-4e-9, 4e-9, 8) + 1e-10  # even the shortest step (h/100) crosses a kink
    result = check_directional(lambda v: (float(np.sum(np.maximum(v, 0))), [v]), x, (x > 0) + 0.0)
    assert result.passed and result.inconclusive and result.probes < 4
    assert "too few to call the gradient wrong" in result.message


@pytest.mark.parametrize("J", [relu_sum, relu_sum_with_kinks], ids=["step_refinement", "pre_activations"])
def test_kinks_do_not_hide_a_wrong_gradient(J):
    point = kinked_point()
    wrong = {"x": (point["x"] > 0) + 0.0}  # the 0.5 ||x||^2 term's gradient is missing
    assert not any(check_directional(J, point, wrong, seed=seed).passed for seed in range(50))


# -- the [2, 100, 100, 3] network on the spiral ------------------------------------------------
@pytest.fixture(scope="module")
def spiral_net():
    X, y = spiral()
    params = net.init_params(np.random.default_rng(5), SIZES)
    return X, y, params, net.backprop(params, X, y, REG)


def test_the_spiral_net_is_big_enough():
    assert sum(np.prod(p.shape) for p in net.init_params(np.random.default_rng(0), SIZES).values()) > 10_000


def _mutant(name, X, y, params, right):
    """The gradients a mutant returns, computed from the grader's own math."""
    if name == "transposed_dW2":  # W2 is 100x100: a transposed dW2 has the right shape
        return {**right, "W2": right["W2"].T}
    if name == "dW2_from_Z1":  # a wrong block: dW2 = Z1^T dZ2 instead of A1^T dZ2
        upstream = {}
        net.backprop(params, X, y, REG, upstream=upstream)
        Z1 = net.forward(params, X)[1][0]
        return {**right, "W2": Z1.T @ upstream["Z2"] + REG * params["W2"]}
    if name == "db_wrong_axis":
        upstream = {}
        net.backprop(params, X, y, REG, upstream=upstream)
        return {**right, "b2": upstream["Z2"].sum(axis=1, keepdims=True)}
    return net.backprop(params, X, y, REG, variant=name)


# mutant -> (the blocks the check must name, the diagnosis the grader gives)
MUTANTS = {
    "dW2_from_Z1": (("W2",), "wrong_value"),
    "missing_regularization": (("W1", "W2", "W3"), "missing_regularization"),
    "double_regularization": (("W1", "W2", "W3"), "double_regularization"),
    "regularized_bias": (("b1", "b2", "b3"), "regularized_bias"),
    "mask_from_dA": (("W1", "b1", "W2", "b2"), "wrong_mask"),
    "not_averaged": (("W1", "b1", "W2", "b2", "W3", "b3"), "not_averaged"),
    "transposed_dW2": (("W2",), "transposed"),
    "masks_first_in_first_out": (("W1", "b1", "W2", "b2"), "wrong_layer_order"),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_every_mutant_fails_within_one_percent_of_the_full_check(spiral_net, name):
    X, y, params, right = spiral_net
    full_check = 2 * sum(p.size for p in params.values())
    result = check_directional(net.loss_with_kinks(X, y, REG), params, _mutant(name, X, y, params, right), seed=11)
    blocks, _ = MUTANTS[name]
    assert not result.passed
    assert result.wrong_blocks == blocks
    assert result.evaluations <= 0.01 * full_check


@pytest.mark.parametrize("name", [*MUTANTS, "db_wrong_axis"])
def test_the_grader_names_every_mutant(spiral_net, name):
    X, y, params, right = spiral_net
    verdict = check_grads(_mutant(name, X, y, params, right), params, X, y, REG, seed=11)
    expected = "wrong_axis" if name == "db_wrong_axis" else MUTANTS[name][1]
    assert verdict is not None and verdict.diagnoses == (expected,), verdict.fact


@pytest.mark.slow  # a statistical sweep: 10,000 evaluations of the spiral net's loss
def test_no_false_failures_of_the_right_gradients_over_1000_seeds():
    # A test, not only a benchmark: 1000 checks of about 10 evaluations take ~5 s.
    # Each seed draws new parameters and new directions; kinks must have been met.
    X, y = spiral()
    kinks = 0
    for seed in range(1000):
        params = net.init_params(np.random.default_rng(seed), SIZES)
        result = check_directional(net.loss_with_kinks(X, y, REG), params, net.backprop(params, X, y, REG), seed=seed)
        assert result.passed and not result.inconclusive, f"seed {seed}: {result.message}"
        assert result.evaluations <= 0.01 * 2 * sum(p.size for p in params.values())
        kinks += result.kinks
    assert kinks > 0

"""Sampled directional check vs full centred check on the [2, 100, 100, 3] net on the spiral.

    python benchmarks/sampled_gradcheck.py [--seeds 20]

Counts loss evaluations and wall time of grader.check_directional (passing on the
right gradients, and failing with localisation on a mutant) against a full
centred-difference check of every parameter (2P evaluations), and prints the ratios.
"""

import argparse
import time

import numpy as np  # noqa: E402

from grader import check_directional  # first: grader pins BLAS to one thread before numpy loads
from grader.checking.gradcheck import relative_error  # noqa: E402
from grader.data import spiral  # noqa: E402
from grader.exercises import relu_net as net  # noqa: E402
from grader.exercises.relu_tasks import REG  # noqa: E402

SIZES = [2, 100, 100, 3]


def counted(J):
    calls = [0]

    def wrapped(params):
        calls[0] += 1
        return J(params)

    return wrapped, calls


def full_check(J, params):
    """Centred differences of every coordinate of every block: the reference cost."""
    wrapped, calls = counted(J)
    grads = {}
    for key, block in params.items():
        flat, out = block.ravel(), np.empty(block.size)
        for i in range(block.size):
            old = flat[i]
            flat[i] = old + 1e-5
            plus = wrapped(params)
            flat[i] = old - 1e-5
            minus = wrapped(params)
            flat[i] = old
            out[i] = (plus - minus) / 2e-5
        grads[key] = out.reshape(block.shape)
    return grads, calls[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="sampled checks to average over")
    args = parser.parse_args()
    X, y = spiral()
    params = net.init_params(np.random.default_rng(0), SIZES)
    right = net.backprop(params, X, y, REG)
    P = sum(p.size for p in params.values())
    J = net.loss_with_kinks(X, y, REG)
    print(f"net {SIZES} on the spiral (m={X.shape[0]}): P = {P} parameters, full check = 2P = {2 * P} evaluations")

    start = time.perf_counter()
    results = [check_directional(J, params, right, seed=seed) for seed in range(args.seeds)]
    sampled_seconds = (time.perf_counter() - start) / args.seeds
    sampled_evals = np.mean([r.evaluations for r in results])
    assert all(r.passed for r in results)

    mutant = net.backprop(params, X, y, REG, variant="mask_from_dA")
    start = time.perf_counter()
    failing = [check_directional(J, params, mutant, seed=seed) for seed in range(args.seeds)]
    failing_seconds = (time.perf_counter() - start) / args.seeds
    failing_evals = np.mean([r.evaluations for r in failing])
    assert not any(r.passed for r in failing)

    plain = lambda p: net.loss(p, X, y, REG)  # noqa: E731
    start = time.perf_counter()
    numeric, full_evals = full_check(plain, {k: v.copy() for k, v in params.items()})
    full_seconds = time.perf_counter() - start
    worst = max(relative_error(right[k], numeric[k]) for k in params)

    print(f"{'check':<42}{'evaluations':>12}{'seconds':>10}{'evals / 2P':>12}")
    print(
        f"{'sampled, right gradients (mean)':<42}{sampled_evals:>12.1f}{sampled_seconds:>10.4f}"
        f"{sampled_evals / (2 * P):>12.5f}"
    )
    print(
        f"{'sampled, mask_from_dA mutant + localising':<42}{failing_evals:>12.1f}{failing_seconds:>10.4f}"
        f"{failing_evals / (2 * P):>12.5f}"
    )
    print(f"{'full centred check':<42}{full_evals:>12d}{full_seconds:>10.2f}{1.0:>12.5f}")
    print(f"full check vs backprop: worst block relative error {worst:.1e}")
    print(
        f"ratio sampled/full: evaluations {sampled_evals / full_evals:.5f} ({sampled_evals / full_evals:.3%}), "
        f"time {sampled_seconds / full_seconds:.5f}; failing with localisation: evaluations "
        f"{failing_evals / full_evals:.5f} ({failing_evals / full_evals:.3%})"
    )


if __name__ == "__main__":
    main()

"""False failures of the sampled check on the right gradients, over many seeds.

    python benchmarks/false_failures.py [--seeds 1000]

Each seed draws new parameters of the [2, 100, 100, 3] net and new directions, and
checks the grader's own backprop against directional differences of its loss on
the spiral: every failure would be a false one. Kinks crossed (and redrawn) are
counted too, to show they were there. tests/test_directional.py asserts the same
(1000 seeds, about 5 s); this prints the numbers.
"""

import argparse
import time

import numpy as np  # noqa: E402

from grader import check_directional  # first: grader pins BLAS to one thread before numpy loads
from grader.data import spiral  # noqa: E402
from grader.exercises import relu_net as net  # noqa: E402
from grader.exercises.relu_tasks import REG  # noqa: E402

SIZES = [2, 100, 100, 3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=1000)
    args = parser.parse_args()
    X, y = spiral()
    start = time.perf_counter()
    failures, kinks, inconclusive, evaluations, worst = [], 0, 0, [], 0.0
    for seed in range(args.seeds):
        params = net.init_params(np.random.default_rng(seed), SIZES)
        result = check_directional(net.loss_with_kinks(X, y, REG), params, net.backprop(params, X, y, REG), seed=seed)
        if not result.passed:
            failures.append(seed)
        kinks += result.kinks
        inconclusive += result.inconclusive
        evaluations.append(result.evaluations)
        worst = max(worst, result.worst_error)
    seconds = time.perf_counter() - start
    P = sum(p.size for p in net.init_params(np.random.default_rng(0), SIZES).values())
    print(
        f"{args.seeds} seeds, net {SIZES}: {len(failures)} false failures {failures[:10]}, "
        f"{inconclusive} inconclusive, {kinks} finite differences crossed a kink (retried shorter or redrawn)"
    )
    print(
        f"evaluations per check: mean {np.mean(evaluations):.1f}, max {max(evaluations)} "
        f"(2P = {2 * P}); worst relative error {worst:.1e}; {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()

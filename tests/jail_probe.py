"""Run hostile code in the grader's sandbox and print what happened, as JSON (for tests/test_jail.py).

    python tests/jail_probe.py '{"code": "...", "call": "forward"}'

The code runs as a submission: its top level while loading, then `call` (with the
softmax forward's inputs) if given. Hostile code reports what it managed through its
prints (lines "FOUND <what>"), which come back here as the sandbox's output. Runs as
whatever user starts it: the tests start it as root and as an ordinary user.
"""

import json
import sys

import numpy as np

from grader.reading.submission import submission_from_bytes
from grader.sandbox import Sandbox, server


def outcome_dict(outcome):
    if outcome is None:
        return None
    return {"status": outcome.status, "detail": outcome.detail, "error": outcome.error}


def _descendants(pid):
    import psutil

    return len(psutil.Process(pid).children(recursive=True))


def main():
    spec = json.loads(sys.argv[1])
    submission = submission_from_bytes("probe.py", spec["code"].encode())
    options = {"timeout": spec.get("timeout", 5.0), "memory_mb": spec.get("memory_mb", 512)}
    disable = spec.get("disable")  # None: what GRADE_JAIL_DISABLE says
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal((1, 3)))
    result = {}
    with Sandbox(submission, disable=disable, **options) as box:
        first = box.call(spec.get("call") or "__no_such_function__", args, names=("X", "W", "b"))
        result["call"] = outcome_dict(first)
        result["value"] = first.value.tolist() if isinstance(first.value, np.ndarray) else None
        result["layers"] = box.layers
        result["output"] = box.output
        result["processes_while_grading"] = _descendants(server.server(disable).process.pid)
    result["output"] = box.output
    result["fork_server"] = server.server(disable).process.pid
    print(json.dumps(result))


if __name__ == "__main__":
    main()

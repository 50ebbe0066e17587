"""The child side of the portable backend (portable.py): a fresh interpreter, then child.run.

Started as `python -I -S` with the request pipe on stdin and the reply pipe on stdout;
the learner's prints must not reach the reply pipe, so stdout's descriptor is kept for
replies and descriptor 1 is pointed at the output file (stderr). Child-side module:
standard library and numpy only.
"""

import mmap
import os
import sys


def main(config):
    replies = os.dup(1)
    requests = os.dup(0)
    os.dup2(2, 1)  # prints go to the output file, as stderr does
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    if sys.platform.startswith("linux"):  # elsewhere RLIMIT_AS is not honoured: the grader watches memory
        import resource

        baseline = _virtual_memory()
        limit = baseline + int(config["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open(config["inputs"], "r+b") as inputs:
        shared = mmap.mmap(inputs.fileno(), int(config["shared_bytes"]))
    import numpy  # noqa: F401  (before the learner's code: the same warm start as the fork server's jails)

    from . import child, wire

    wire.write_frame(replies, wire.dumps({"status": "locked", "jail": {"backend": "portable"}}))
    child.run(requests, replies, shared)


def _virtual_memory():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0

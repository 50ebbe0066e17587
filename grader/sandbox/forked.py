"""Run untrusted learner code in a child process and call its functions safely.

One child per submission, forked from the warm grader (numpy already imported, so
no interpreter start-up per task). The child gets its own session, a scratch
directory as cwd and HOME, a memory cap (RLIMIT_AS), and a wall-clock deadline per
call; on a timeout or crash its whole process tree is killed and the next call
forks a fresh child. Inputs travel through shared memory, results come back as
plain arrays over a pipe (wire.py), so verdicts never depend on what the child says
about itself.
"""
import mmap
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from . import child, wire
from .process_tree import become_subreaper, kill_tree, started

DEFAULT_TIMEOUT = 10.0
DEFAULT_MEMORY_MB = 1024
OUTPUT_LIMIT = 64 << 10  # bytes of the learner's printed output kept for --verbose
_ALIGN = 64
_FORGET = []  # containers of the grader's answers, emptied in the child (see forget_in_child)


def forget_in_child(container):
    """Register a dict or list that the learner's process empties right after fork.

    A forked child starts with a copy of the grader's memory; whatever the grader
    computed as an expected answer must not be readable there (gc, frames).
    """
    _FORGET.append(container)



@dataclass
class Outcome:
    """What one call of a learner's function did, as observed by the grader.

    status: ok, not_implemented, missing_function, exception, exited, memory,
    crashed, timeout, import_error. `value` is set only when status is ok.
    """

    status: str
    value: object = None
    error: dict = None
    mutated: tuple = ()
    seconds: float = None
    detail: str = ""
    at_load: bool = False
    cell_errors: tuple = field(default_factory=tuple)


class Sandbox:
    """Context manager: `with Sandbox(sub) as box: box.call("dZ", (P, y), names=("P", "y"))`."""

    def __init__(self, submission, timeout=DEFAULT_TIMEOUT, memory_mb=DEFAULT_MEMORY_MB, shared_bytes=1 << 20,
                 load_timeout=None):
        self.submission = submission
        self.timeout = float(timeout)
        # Running the file may take as long as the slowest task may: a notebook cell may call train.
        self.load_timeout = float(load_timeout or timeout)
        self.memory_mb = int(memory_mb)
        self.cell_errors = ()
        self._shared = mmap.mmap(-1, max(int(shared_bytes), mmap.PAGESIZE))
        self._scratch = tempfile.mkdtemp(prefix="grade-")
        self._pid = None
        self._load_failure = None
        self._output = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- public ---------------------------------------------------------------
    def call(self, function, args, timeout=None, names=None):
        """Call the learner's `function(*args)`; return an Outcome. Never raises for learner faults."""
        if self._load_failure is None and self._pid is None:
            self._spawn()
        if self._load_failure is not None:
            return self._load_failure
        deadline = time.monotonic() + (self.timeout if timeout is None else float(timeout))
        tree, placed = self._place(args)
        try:
            wire.write_frame(self._req, wire.dumps({"function": function, "args": tree}))
        except OSError:
            return self._died(Outcome("crashed"))
        outcome = self._receive(deadline)
        outcome.mutated = tuple(
            path for path, offset, array in _labelled(placed, args, names)
            if self._shared[offset: offset + array.nbytes] != array.tobytes()
        )
        return outcome

    @property
    def output(self):
        """What the learner's code printed (stdout and stderr), at most OUTPUT_LIMIT bytes."""
        self._collect_output()
        return self._output.decode("utf-8", "replace")

    def close(self):
        self._stop()
        self._collect_output()
        shutil.rmtree(self._scratch, ignore_errors=True)
        self._shared.close()

    # -- child lifecycle --------------------------------------------------------
    def _spawn(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        become_subreaper()
        pid = os.fork()
        if pid == 0:  # the child never returns from child.run
            for container in _FORGET:
                container.clear()
            os.close(req_w)
            os.close(resp_r)
            child.run(self.submission, req_r, resp_w, self._shared, self._scratch, self.memory_mb << 20, parent)
        started(pid)
        os.close(req_r)
        os.close(resp_w)
        self._pid, self._req, self._resp = pid, req_w, resp_r
        ready = self._receive(time.monotonic() + self.load_timeout)
        if ready.status == "ready":
            self.cell_errors = ready.cell_errors
            return
        ready.at_load = True
        if ready.status == "timeout":
            ready.detail = f"the file did not finish running within {self.load_timeout:g} s"
        self._load_failure = ready  # loading is deterministic: do not retry for every task
        self._stop()

    def _receive(self, deadline):
        try:
            reply = wire.read_reply(self._resp, deadline)
        except wire.ChannelTimeout:
            return self._died(Outcome("timeout", detail="no answer in time"))
        except wire.ChannelClosed:
            return self._died(Outcome("crashed"))
        except wire.BadReply as error:
            return self._died(Outcome("crashed", detail=f"sent an unreadable reply ({error})"))
        status, error, detail = reply.status, reply.error, ""
        if status == "memory":
            status, error = "crashed", None
            detail = f"ran out of memory (the limit is {self.memory_mb} MiB)"
        return Outcome(status, value=reply.value, error=error, seconds=reply.seconds, detail=detail,
                       cell_errors=reply.cell_errors)

    def _died(self, outcome):
        """The child is gone or must go: kill its tree, and say how it ended."""
        status = self._stop()
        if outcome.status == "crashed" and not outcome.detail:
            outcome.detail = _describe_exit(status, self.memory_mb)
        return outcome

    def _stop(self):
        if self._pid is None:
            return None
        pid, self._pid = self._pid, None
        status = _exit_status_if_done(pid)
        kill_tree(pid)  # before closing the pipes: on EOF the child would exit and orphan its tree
        for fd in (self._req, self._resp):
            try:
                os.close(fd)
            except OSError:
                pass
        if status is None:
            _, status = os.waitpid(pid, 0)
        return status

    def _place(self, args):
        """Copy the arrays of `args` into shared memory; return the request tree and placements."""
        tree, arrays = wire.encode(tuple(args))
        placed, offset = [], 0
        for array in arrays:
            array = np.ascontiguousarray(array)
            if offset + array.nbytes > len(self._shared):
                raise ValueError("inputs larger than the sandbox's shared buffer (shared_bytes)")
            self._shared[offset: offset + array.nbytes] = array.tobytes()
            placed.append((offset, array))
            offset += -(-max(array.nbytes, 1) // _ALIGN) * _ALIGN
        _set_offsets(tree, [offset for offset, _ in placed])
        return tree, placed

    def _collect_output(self):
        path = os.path.join(self._scratch, "output.txt")
        try:
            with open(path, "rb") as handle:
                self._output = handle.read(OUTPUT_LIMIT)
        except OSError:
            pass


def _set_offsets(node, offsets):
    if node.get("kind") == "array":
        node["offset"] = offsets[node["ref"]]
    for item in node.get("items", []):
        _set_offsets(item[1] if node["kind"] == "dict" else item, offsets)


def _labelled(placed, args, names):
    """Pair each placed array with a readable path such as P or params['W1']."""
    paths = [path for i, arg in enumerate(args)
             for path, _ in wire.arrays_in(arg, names[i] if names and i < len(names) else f"argument {i + 1}")]
    return [(path, offset, array) for path, (offset, array) in zip(paths, placed)]


def _exit_status_if_done(pid):
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return 0
    return status if done else None


def _describe_exit(status, memory_mb):
    if status is None:
        return "the process died"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"the process was killed by {name}"
    return f"the process exited with code {os.WEXITSTATUS(status)}"

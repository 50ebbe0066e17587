"""The grader's side of a sandbox, whatever runs it: call a learner's function, get an Outcome.

A backend (linux.py: the jail; portable.py: a fresh interpreter) starts the learner's
process and stops it; everything else is here and the same for both, so both give
the same verdicts: the submission goes over the request pipe, inputs through a
shared buffer (so in-place modification is seen here, not reported by the child),
results come back as plain arrays (wire.py), and each call has a wall-clock
deadline after which the process and everything it started is killed. The next
call starts a fresh process.
"""

import os
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..defaults import MEMORY_MB, TIMEOUT
from . import wire
from .errors import JailError

OUTPUT_LIMIT = 64 << 10  # bytes of the learner's printed output kept for --verbose
PROCESSES = 64  # processes and threads one sandbox may have at once (a fork bomb stops there)
WATCH_SECONDS = 0.1  # how often the memory of all of a submission's processes is measured
_ALIGN = 64


@dataclass
class Outcome:
    """What one call of a learner's function did, as observed by the grader.

    status: ok, not_implemented, missing_function, exception, exited, crashed,
    timeout, import_error, memory (past the memory cap), too_large (a result over wire.MAX_ARRAY_BYTES; detail: its
    size), or killed (from outside: by another program, an administrator or the
    kernel's out-of-memory killer; not the learner's doing).
    `value` is set only when status is ok.
    """

    status: str
    value: object = None
    error: dict = None
    mutated: tuple = ()
    detail: str = ""
    at_load: bool = False
    cell_errors: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class Ending:
    """How the learner's process ended: its wait status, or None when the grader never got one."""

    status: int = None
    by_grader: bool = False  # the grader killed it (a timeout, the end of grading)
    from_outside: bool = False  # a signal that no sandboxed process may send (the jail's seccomp filter)
    out_of_memory: bool = False  # the kernel's out-of-memory killer took it


class Sandbox:
    """Context manager: `with backend.Sandbox(sub) as box: box.call("dZ", (P, y), names=("P", "y"))`."""

    backend = "abstract"

    def __init__(self, submission, timeout=TIMEOUT, memory_mb=MEMORY_MB, shared_bytes=1 << 20, load_timeout=None):
        self.submission = submission
        self.timeout = float(timeout)
        # Running the file may take as long as the slowest task may: a notebook cell may call train.
        self.load_timeout = float(load_timeout or timeout)
        self.memory_mb = int(memory_mb)
        self.shared_bytes = max(int(shared_bytes), 4096)
        self.cell_errors = ()
        self.layers = None  # what the jail reported about itself, when the backend has one
        self._live = False
        self._over_memory = threading.Event()
        self._load_failure = None
        self._output = b""
        self._req = self._resp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- backend hooks --------------------------------------------------------------
    def _start(self):
        """Start the learner's process; set self._req and self._resp (pipe ends) and self._shared."""
        raise NotImplementedError

    def _end(self, killing):
        """Stop the learner's process and all it started; return an Ending."""
        raise NotImplementedError

    def _read_output(self):
        """Up to OUTPUT_LIMIT bytes of what the learner's process printed."""
        raise NotImplementedError

    def _release(self):
        """Free what the backend holds (called once, by close)."""

    def _memory_in_use(self):
        """Bytes the learner's processes hold between them, or None when it cannot be measured."""
        return None

    def _kill_now(self):
        """Kill the learner's processes from another thread (the memory watcher)."""

    def _close_channel(self):
        """Close the grader's ends of the request and reply pipes."""
        for fd in (self._req, self._resp):
            try:
                os.close(fd)
            except (OSError, TypeError):
                pass

    # -- public -------------------------------------------------------------------
    def call(self, function, args, timeout=None, names=None):
        """Call the learner's `function(*args)`; return an Outcome. Never raises for learner faults."""
        if self._load_failure is None and not self._live:
            self._launch()
        if self._load_failure is not None:
            return self._load_failure
        deadline = time.monotonic() + (self.timeout if timeout is None else float(timeout))
        tree, placed = self._place(args)
        try:
            wire.write_frame(self._req, wire.dumps({"function": function, "args": tree}), deadline)
        except wire.ChannelTimeout:
            return self._died(Outcome("timeout", detail="it stopped reading its requests"), killing=True)
        except OSError:
            return self._died(Outcome("crashed"))
        outcome = self._receive(deadline)
        outcome.mutated = tuple(
            path
            for path, offset, array in _labelled(placed, args, names)
            if self._shared[offset : offset + array.nbytes] != array.tobytes()
        )
        return outcome

    @property
    def output(self):
        """What the learner's code printed (stdout and stderr), at most OUTPUT_LIMIT bytes."""
        if self._live is not None:
            self._output = self._read_output() or self._output
        return self._output.decode("utf-8", "replace")

    def close(self):
        if self._live is None:
            return
        self._stop(killing=True)
        self._output = self._read_output() or self._output
        self._live = None
        self._release()

    # -- the learner's process --------------------------------------------------------
    def _launch(self):
        self._start()
        self._live = True
        self._over_memory.clear()
        threading.Thread(target=self._watch_memory, name="grade-memory", daemon=True).start()
        self._locked(time.monotonic() + max(self.load_timeout, 30.0))
        chunks = [[chunk.filename, chunk.code, chunk.cell] for chunk in self.submission.chunks]
        try:
            wire.write_frame(
                self._req,
                wire.dumps({"kind": self.submission.kind, "chunks": chunks}),
                time.monotonic() + self.load_timeout,
            )
        except (OSError, wire.ChannelTimeout):
            pass  # it died or stopped reading already: the reply below says how
        ready = self._receive(time.monotonic() + self.load_timeout)
        if ready.status == "ready":
            self.cell_errors = ready.cell_errors
            return
        ready.at_load = True
        if ready.status == "timeout":
            ready.detail = f"the file did not finish running within {self.load_timeout:g} s"
        self._load_failure = ready  # loading is deterministic: do not retry for every task
        self._stop(killing=True)

    def _watch_memory(self):
        """Kill the learner's processes when together they hold more than the cap: RLIMIT_AS bounds
        each process, not a submission that forks (and elsewhere than Linux it is not honoured)."""
        cap = self.memory_mb << 20
        while self._live:
            time.sleep(WATCH_SECONDS)  # first: a submission graded within it is never measured (nor psutil loaded)
            if not self._live:
                return
            used = self._memory_in_use()
            if used is not None and used > cap:
                self._over_memory.set()
                self._kill_now()
                return

    def _locked(self, deadline):
        """The jail's first word, before any of the learner's code runs: what it is (its layers),
        or why it could not be built. Raises JailError, which no submission can cause."""
        try:
            reply = wire.read_reply(self._resp, deadline)
        except (wire.ChannelTimeout, wire.ChannelClosed, wire.BadReply) as error:
            self._stop(killing=True)
            raise JailError(f"the sandbox did not start ({type(error).__name__}: {error})") from None
        if reply.status != "locked" or reply.jail is None:
            self._stop(killing=True)
            raise JailError(f"the sandbox could not lock itself down: {reply.detail or reply.status}")
        self.layers = reply.jail

    def _receive(self, deadline):
        try:
            reply = wire.read_reply(self._resp, deadline)
        except wire.ChannelTimeout:
            return self._died(Outcome("timeout", detail="no answer in time"), killing=True)
        except wire.ChannelClosed:
            return self._died(Outcome("crashed"))
        except wire.BadReply as error:
            return self._died(Outcome("crashed", detail=f"sent an unreadable reply ({error})"), killing=True)
        if reply.status in ("locked", "jail_failed") or reply.jail is not None:  # said by the learner's code
            return self._died(
                Outcome("crashed", detail="sent an unreadable reply (the jail's own words)"), killing=True
            )
        status, error, detail = reply.status, reply.error, ""
        if status == "too_large":
            detail = reply.detail
        if status == "memory":
            error = None
            during = f"while {reply.detail} " if reply.detail else ""
            detail = f"{during}(the limit is {self.memory_mb} MiB)"
        return Outcome(status, value=reply.value, error=error, detail=detail, cell_errors=reply.cell_errors)

    def _died(self, outcome, killing=False):
        """The process is gone or must go: stop it and all it started, and say how it ended."""
        ending = self._stop(killing or self._over_memory.is_set())
        if self._over_memory.is_set() and outcome.status in ("crashed", "timeout"):
            outcome.status, outcome.error = "memory", None
            outcome.detail = f"(the limit is {self.memory_mb} MiB, for all its processes together)"
        elif outcome.status == "crashed" and ending is not None and ending.out_of_memory:
            outcome.status = "memory"
            outcome.detail = "(the machine ran out of memory, and the kernel stopped this process, the largest)"
        elif outcome.status == "crashed" and ending is not None and ending.from_outside:
            outcome.status = "killed"
            outcome.detail = (
                f"it was killed from outside by {_signal_name(ending.status)} (another program, "
                "an administrator or the system running out of memory), not by the code"
            )
        elif outcome.status == "crashed" and not outcome.detail:
            outcome.detail = describe_ending(ending)
        return outcome

    def _stop(self, killing):
        if not self._live:
            return None
        self._live = False
        ending = self._end(killing)
        self._close_channel()
        self._req = self._resp = None
        return ending

    def _place(self, args):
        """Copy the arrays of `args` into shared memory; return the request tree and placements."""
        tree, arrays = wire.encode(tuple(args))
        placed, offset = [], 0
        for array in arrays:
            array = np.ascontiguousarray(array)
            if offset + array.nbytes > len(self._shared):
                raise ValueError("inputs larger than the sandbox's shared buffer (shared_bytes)")
            self._shared[offset : offset + array.nbytes] = array.tobytes()
            placed.append((offset, array))
            offset += -(-max(array.nbytes, 1) // _ALIGN) * _ALIGN
        _set_offsets(tree, [offset for offset, _ in placed])
        return tree, placed


def _set_offsets(node, offsets):
    if node.get("kind") == "array":
        node["offset"] = offsets[node["ref"]]
    for item in node.get("items", []):
        _set_offsets(item[1] if node["kind"] == "dict" else item, offsets)


def _labelled(placed, args, names):
    """Pair each placed array with a readable path such as P or params['W1']."""
    paths = [
        path
        for i, arg in enumerate(args)
        for path, _ in wire.arrays_in(arg, names[i] if names and i < len(names) else f"argument {i + 1}")
    ]
    return [(path, offset, array) for path, (offset, array) in zip(paths, placed)]


def _signal_name(status):
    sig = os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else signal.SIGKILL
    return signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"


def describe_ending(ending):
    """Say how the learner's process ended, for a learner: never blame them for the grader's side."""
    if ending is None or ending.status is None:
        return "the process died"
    status = ending.status
    if os.WIFSIGNALED(status):
        return f"the process was killed by {_signal_name(status)}"
    code = os.WEXITSTATUS(status)
    if code == wire.EXIT_REPLY_MEMORY:
        return "it ran out of memory while sending its result back"
    if code == wire.EXIT_PROTOCOL:
        return (
            "the process ended while talking to the grader (exit code 70): its channel to the grader failed, "
            "or the code closed that channel or called os._exit(70)"
        )
    return f"the process exited with code {code}"

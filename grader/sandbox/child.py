"""What runs inside the sandboxed child: load the submission, then answer calls.

The child only computes what the learner's functions return; every decision is
taken in the grader from the arrays it sends back (see wire.py). Nothing here may
return into the grader's own code: the child always ends with os._exit.
"""
import builtins
import ctypes
import io
import os
import resource
import signal
import sys
import time
import traceback

import numpy as np

from . import wire
from .privileges import drop_root

PRINT_LIMIT = 1 << 20  # bytes the learner's prints may write to output.txt; the rest is dropped

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class _BlockGrader:
    """Import hook: the learner's code may not import the grader that is judging it."""

    def find_spec(self, name, path=None, target=None):
        if name == "grader" or name.startswith("grader."):
            raise ImportError("the grader cannot be imported from a submission")
        return None


def run(submission, req_fd, resp_fd, shared, scratch, memory_bytes, parent_pid):
    """Entry point right after fork. Never returns."""
    code = 70
    try:
        _isolate(scratch, memory_bytes, parent_pid, keep=(req_fd, resp_fd))
        namespace, status = _load(submission)
        write = _writer(resp_fd)
        write(status)
        if status["status"] == "ready":
            _serve(namespace, submission, req_fd, write, shared)
        code = 0
    except BaseException:  # the learner's code may raise anything; the child just ends
        pass
    os._exit(code)


def _isolate(scratch, memory_bytes, parent_pid, keep):
    os.setsid()  # own session and process group: the grader kills the whole tree at the end
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGXFSZ else signal.SIG_IGN)
    out = os.open(os.path.join(scratch, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
    # Drop every other descriptor the grader had open (other pipes, files being written).
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)
    drop_root(scratch)
    # After drop_root: a change of user clears the parent-death signal.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # Orphaned grandchildren (double fork) re-parent to this child instead of init,
        # so the grader still finds them by walking the tree down from here.
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the grader died before prctl took effect
        os._exit(70)
    sys.stdin = open(0, "r", closefd=False)
    budget = [PRINT_LIMIT]  # shared: stdout and stderr both go to output.txt
    sys.stdout, sys.stderr = _BoundedOutput(1, budget), _BoundedOutput(2, budget)
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch, MPLBACKEND="Agg", MPLCONFIGDIR=scratch)
    vsize = _virtual_memory()
    resource.setrlimit(resource.RLIMIT_AS, (vsize + memory_bytes, vsize + memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 << 20, 16 << 20))
    for name in [m for m in sys.modules if m == "grader" or m.startswith("grader.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _BlockGrader())
    sys.argv = ["submission"]


class _BoundedOutput(io.TextIOBase):
    """The learner's sys.stdout/sys.stderr: unbuffered, and silent past PRINT_LIMIT bytes.

    Printing a lot must cost nothing but the text: no "File too large" error in the
    task that printed (RLIMIT_FSIZE only backs up direct writes to the descriptor),
    and no buffer left for the grader to flush later, which could fail in an
    innocent task, or call a flush() on a stream object the learner put in its place.
    """

    def __init__(self, fd, budget):
        self._fd, self._budget = fd, budget

    encoding, errors = "utf-8", "replace"

    def writable(self):
        return True

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        data = text.encode("utf-8", "replace")[: self._budget[0]]
        self._budget[0] -= len(data)
        try:
            while data:
                data = data[os.write(self._fd, data):]
        except OSError:
            self._budget[0] = 0
        return len(text)


def _virtual_memory():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _writer(resp_fd):
    # Bound before the learner's code runs, so patching the modules it uses changes nothing here.
    dumps, write_frame, encode, ascontiguous = wire.dumps, wire.write_frame, wire.encode, np.ascontiguousarray

    def write(header, value=None):
        arrays = []
        if value is not None:
            header["value"], arrays = encode(value)
        header["arrays"] = len(arrays)
        write_frame(resp_fd, dumps(header))
        for array in arrays:
            write_frame(resp_fd, ascontiguous(array).tobytes())

    return write


def _load(submission):
    """Run the submission's chunks in one namespace; report how loading went."""
    namespace = {"__name__": "__main__" if submission.is_notebook else "submission", "__builtins__": builtins}
    if not submission.is_notebook:  # a script may locate itself; Jupyter defines no __file__
        namespace["__file__"] = os.path.abspath(submission.chunks[0].filename)
    cell_errors = []
    filenames = {chunk.filename for chunk in submission.chunks}
    for chunk in submission.chunks:
        _SOURCES[chunk.filename] = chunk.code.split("\n")
    for chunk in submission.chunks:
        try:
            exec(compile(chunk.code, chunk.filename, "exec"), namespace)
        except MemoryError:
            return namespace, {"status": "memory"}
        except (Exception, SystemExit, KeyboardInterrupt) as error:
            info = describe(error, filenames)
            if not submission.is_notebook:
                status = "exited" if isinstance(error, SystemExit) else "import_error"
                return namespace, {"status": status, "error": info}
            # Jupyter (and nbgrader) report a failing cell and run the next one.
            cell_errors.append({"cell": chunk.cell, "where": chunk.filename, "type": info["type"],
                                "message": info["message"]})
            traceback.print_exception(error)
    return namespace, {"status": "ready", "cell_errors": cell_errors}


def describe(error, filenames):
    """Type, message and the learner's own line that raised (never the grader's)."""
    info = {"type": type(error).__name__, "message": _short(str(error)), "where": None, "text": None}
    if isinstance(error, SystemExit):
        info["message"] = _short(repr(error.code))
    if isinstance(error, SyntaxError) and error.filename in filenames:
        info["where"], info["text"] = f"{error.filename}, line {error.lineno}", _short(error.text or "")
        info["message"] = _short(error.msg)
        return info
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename in filenames:
            info["where"] = f"{frame.f_code.co_filename}, line {lineno}"
            info["text"] = _line(frame.f_code.co_filename, lineno)
    return info


_SOURCES = {}


def _line(filename, lineno):
    lines = _SOURCES.get(filename, [])
    return _short(lines[lineno - 1].strip()) if 0 < lineno <= len(lines) else None


def _short(text, limit=300):
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _serve(namespace, submission, req_fd, write, shared):
    filenames = {chunk.filename for chunk in submission.chunks}
    read_frame, loads, perf_counter = wire.read_frame, wire.loads, time.perf_counter
    while True:
        request = loads(read_frame(req_fd))
        args = _arguments(request["args"], shared)
        function = namespace.get(request["function"])
        if not callable(function):
            write({"status": "missing_function"})
            continue
        start = perf_counter()
        try:
            value = function(*args)
        except NotImplementedError as error:
            write({"status": "not_implemented", "error": describe(error, filenames)})
        except MemoryError:
            write({"status": "memory"})
        except SystemExit as error:
            write({"status": "exited", "error": describe(error, filenames)})
        except BaseException as error:
            write({"status": "exception", "error": describe(error, filenames)})
        else:
            seconds = perf_counter() - start
            write({"status": "ok", "seconds": seconds}, value)


def _arguments(tree, shared):
    """Rebuild the call's arguments as views on the shared input buffer.

    Views, not copies: a function that modifies its input writes into memory the
    grader can see, so mutation is observed by the grader, not reported by the child.
    """
    def build(node):
        kind = node["kind"]
        if kind == "array":
            return np.ndarray(tuple(node["shape"]), np.dtype(node["dtype"]), buffer=shared, offset=node["offset"])
        if kind in ("list", "tuple"):
            items = [build(item) for item in node["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {key: build(item) for key, item in node["items"]}
        if kind == "none":
            return None
        return node["value"]

    return build(tree)

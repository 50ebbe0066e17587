"""What runs inside the sandboxed process: receive the submission, run it, then answer calls.

The process only computes what the learner's functions return; every decision is
taken in the grader from the arrays it sends back (wire.py). Whichever backend
started it (the Linux jail's worker, or a fresh interpreter on other systems), it
arrives here with its limits already set, reads the submission from its request
pipe, and never returns: it always ends with os._exit.

Child-side module: standard library and numpy only; loaded as the package
`_gradebox`, never as `grader`, and hidden from the learner's imports.
"""

import ast
import builtins
import io
import json
import os
import sys
import time
import traceback

import numpy as np

from . import front_ends, wire

PRINT_LIMIT = 1 << 20  # bytes the learner's prints may write to the output file; the rest is dropped
SUBMISSION_BYTES = 64 << 20  # largest submission frame read
CELL_ERRORS = 20  # cell errors sent back (the grader reads no more): a notebook of failing cells stays one frame

EXIT_PROTOCOL, EXIT_REPLY_MEMORY = wire.EXIT_PROTOCOL, wire.EXIT_REPLY_MEMORY


class _BlockGrader:
    """Import hook: the learner's code may not import the grader that is judging it."""

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("grader", "_gradebox"):
            raise ImportError("the grader cannot be imported from a submission")
        return None


def run(req_fd, resp_fd, shared):
    """Entry point once the process is locked down. Never returns."""
    code = EXIT_PROTOCOL
    try:
        write = _writer(resp_fd)
        submission = json.loads(wire.read_frame(req_fd, None, max_bytes=SUBMISSION_BYTES))
        _prepare()
        namespace, status = _load(submission)
        write(status)
        if status["status"] == "ready":
            _serve(namespace, _filenames(submission), req_fd, write, shared)
        code = 0
    except _ReplyTooLarge:
        code = EXIT_REPLY_MEMORY
    except BaseException:  # the learner's code may raise anything; the process just ends
        if os.environ.get("GRADE_DEBUG"):
            traceback.print_exc()
            sys.stderr.flush()
    os._exit(code)


def _prepare():
    """The interpreter as the learner's code should find it: bounded prints, no grader to import."""
    sys.stdin = open(0, closefd=False)
    budget = [PRINT_LIMIT]  # shared: stdout and stderr both go to the output file
    sys.stdout, sys.stderr = _BoundedOutput(1, budget), _BoundedOutput(2, budget)
    for name in [m for m in sys.modules if m.split(".")[0] in ("grader", "_gradebox")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _BlockGrader())
    sys.argv = ["submission"]


class _BoundedOutput(io.TextIOBase):
    """The learner's sys.stdout/sys.stderr: unbuffered, and silent past PRINT_LIMIT bytes.

    Printing a lot must cost nothing but the text: no "File too large" error in the
    task that printed (RLIMIT_FSIZE only backs up direct writes to the descriptor),
    and no buffer left to flush later, which could fail in an innocent task, or call
    a flush() on a stream object the learner put in its place.
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
                data = data[os.write(self._fd, data) :]
        except OSError:
            self._budget[0] = 0
        return len(text)


class _ReplyTooLarge(Exception):
    pass


def _writer(resp_fd):
    # Bound before the learner's code runs, so patching the modules it uses changes nothing here.
    dumps, write_frame, encode, ascontiguous = wire.dumps, wire.write_frame, wire.encode, np.ascontiguousarray
    # Said without allocating much, for when memory has run out.
    out_of_memory = dumps({"status": "memory", "detail": "returning the result", "arrays": 0})

    limit, header_limit = wire.MAX_ARRAY_BYTES, wire.MAX_HEADER_BYTES
    too_long = {"kind": "other", "type": f"structure whose text is over {header_limit // 1024} KiB"}

    def write(header, value=None):
        try:
            arrays = []
            if value is not None:
                header["value"], arrays = encode(value)
            size = sum(array.nbytes for array in arrays)
            if size > limit:  # the grader would refuse it: say why instead of sending it
                header, arrays = {"status": "too_large", "detail": str(size)}, []
            header["arrays"] = len(arrays)
            frames = [dumps(header)] + [ascontiguous(array).tobytes() for array in arrays]
            if len(frames[0]) > header_limit:  # long dict keys: the grader reads no header that long
                header.update(value=too_long, arrays=0)
                frames = [dumps(header)]
        except MemoryError:
            try:
                write_frame(resp_fd, out_of_memory)
            except MemoryError:
                raise _ReplyTooLarge() from None
            return
        for frame in frames:
            write_frame(resp_fd, frame)

    return write


def _filenames(submission):
    return {chunk[0] for chunk in submission["chunks"]}


def _load(submission):
    """Run the submission's chunks in one namespace; report how loading went.

    submission: {"kind": "py" or "ipynb", "chunks": [[filename, code, cell number or None], ...]}.
    """
    notebook = submission["kind"] == "ipynb"
    chunks = submission["chunks"]
    namespace = {"__name__": "__main__" if notebook else "submission", "__builtins__": builtins}
    if not notebook and chunks:  # a script may locate itself; Jupyter defines no __file__
        namespace["__file__"] = os.path.abspath(chunks[0][0])
    front_ends.install(namespace)
    cell_errors = []
    filenames = _filenames(submission)
    for filename, code, _ in chunks:
        _SOURCES[filename] = code.split("\n")
    for filename, code, cell in chunks:
        try:
            exec(compile(code, filename, "exec"), namespace)
        except MemoryError:
            return namespace, {"status": "memory"}
        except BaseException as error:  # GeneratorExit or the learner's own BaseException too: its file's error
            info = describe(error, filenames)
            if not notebook:
                status = "exited" if isinstance(error, SystemExit) else "import_error"
                return namespace, {"status": status, "error": info}
            # Jupyter (and nbgrader) report a failing cell and run the next one.
            cell_errors.append({"cell": cell, "where": filename, "type": info["type"], "message": info["message"]})
            _print_exception(error)
            _define_the_rest(code, filename, error, namespace)
    return namespace, {"status": "ready", "cell_errors": cell_errors[:CELL_ERRORS]}


def _define_the_rest(code, filename, error, namespace):
    """After a cell stopped at an error, its later imports, `def`s and `class`es: in the learner's Jupyter
    the cell ran on (its data file was there, input() had a keyboard), so its functions are graded on
    their own instead of missing. Each runs alone; one that raises again is skipped (the cell's first
    error is the one reported)."""
    stopped = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename and frame.f_code.co_name == "<module>":
            stopped = lineno
            break
    if stopped is None:  # a syntax error (nothing ran), or a traceback the learner's code tampered with
        return
    try:
        statements = ast.parse(code).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    defining = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in statements:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if start > stopped and isinstance(node, defining):
            try:
                exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"), namespace)
            except BaseException:  # noqa: S110 (already reported: the cell's first error)
                pass


def _print_exception(error):
    try:
        traceback.print_exception(error)
    except Exception:  # an exception that cannot even be printed: its type will do
        print(f"{type(error).__name__} (its message cannot be printed)", file=sys.stderr)


def describe(error, filenames):
    """Type, message and the learner's own line that raised (never the grader's)."""
    info = {"type": _type_name(error), "message": _message(error), "where": None, "text": None}
    if isinstance(error, SyntaxError) and error.filename in filenames:
        info["where"], info["text"] = f"{error.filename}, line {error.lineno}", _short(error.text or "")
        info["message"] = _short(error.msg)
        return info
    try:
        for frame, lineno in traceback.walk_tb(error.__traceback__):
            if frame.f_code.co_filename in filenames:
                info["where"] = f"{frame.f_code.co_filename}, line {lineno}"
                info["text"] = _line(frame.f_code.co_filename, lineno)
    except Exception:  # a traceback the learner's code tampered with: no line then
        pass
    return info


def _type_name(error):
    name = type(error).__name__
    return name if isinstance(name, str) else "an exception"


def _message(error):
    """str(error), or a note when the learner's exception cannot be turned into text."""
    try:
        text = repr(error.code) if isinstance(error, SystemExit) else str(error)
        if not isinstance(text, str):
            raise TypeError
    except Exception:
        return f"(its message cannot be printed: {_type_name(error)}.__str__ itself raised an error)"
    return _short(text)


_SOURCES = {}


def _line(filename, lineno):
    lines = _SOURCES.get(filename, [])
    return _short(lines[lineno - 1].strip()) if 0 < lineno <= len(lines) else None


def _short(text, limit=300):
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _serve(namespace, filenames, req_fd, write, shared):
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

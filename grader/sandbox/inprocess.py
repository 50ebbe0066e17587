"""Call a learner's function in this very process, with the Sandbox's interface.

Used by the feedback cells of a notebook (grader/notebook.py): there the learner's
functions already live in the kernel, and the only one a cheat could fool is the
learner. Real grading goes through the Sandbox (grade check, grader.nbgrader).

Like the Sandbox it hands the function copies of the inputs and compares them
afterwards (in-place modification), returns values through wire's encoding (so a
check sees the same kinds of values: arrays, numbers, Other), and turns every fault
into an Outcome status rather than an exception.
"""

import copy
import ctypes
import linecache
import os
import threading
import traceback

import numpy as np

from ..defaults import TIMEOUT as DEFAULT_TIMEOUT
from . import wire
from .base import Outcome, _labelled

_GRADER_DIR = os.path.dirname(os.path.abspath(__file__))


class _Timeout(BaseException):
    """Raised inside the learner's function when its time is up (BaseException: `except Exception` won't eat it)."""


class InProcess:
    """`InProcess(namespace).call("dZ", (P, y), names=("P", "y"))` -> Outcome."""

    def __init__(self, namespace, timeout=DEFAULT_TIMEOUT):
        self.namespace = namespace
        self.timeout = float(timeout)

    def call(self, function, args, timeout=None, names=None):
        target = self.namespace.get(function)
        if not callable(target):
            return Outcome("missing_function")
        given = copy.deepcopy(tuple(args))
        budget = self.timeout if timeout is None else float(timeout)
        try:
            value = _run_with_deadline(target, given, budget)
        except _Timeout:
            return Outcome("timeout", detail=f"no answer within {budget:g} s")
        except NotImplementedError as error:
            return Outcome("not_implemented", error=describe(error))
        except MemoryError:
            return Outcome("memory", detail="(the kernel's memory ran out)")
        except SystemExit as error:
            return Outcome("exited", error=describe(error))
        except KeyboardInterrupt:
            raise  # the learner pressed stop: let the kernel stop
        except BaseException as error:
            return Outcome("exception", error=describe(error))
        tree, arrays = wire.encode(value)
        value = wire.decode(tree, [np.array(array) for array in arrays])  # detached copies, like the pipe's
        return Outcome("ok", value=value, mutated=_mutated(args, given, names))


def _mutated(original, given, names):
    """Paths (P, params['W1']) of the inputs whose copy the function changed."""
    before, after = ([array for _, array in wire.arrays_in(value)] for value in (original, given))
    changed = {id(a) for a, b in zip(before, after) if a.shape != b.shape or a.tobytes() != np.asarray(b).tobytes()}
    placed = [(None, array) for array in before]
    return tuple(path for path, _, array in _labelled(placed, original, names) if id(array) in changed)


def _run_with_deadline(target, args, seconds):
    """target(*args) in a thread of its own, joined for `seconds`: a time limit without signals,
    so it works on every system and in any thread (Jupyter runs cells in the main thread, nbgrader
    and IDEs may not). Past the limit, _Timeout is raised inside the thread (at its next Python
    instruction: a loop stops at once, a long numpy call when it returns) and here."""
    done = {}

    def run():
        try:
            done["value"] = target(*args)
        except BaseException as error:  # handed to the caller's thread below
            done["error"] = error

    thread = threading.Thread(target=run, name="grade-feedback", daemon=True)
    thread.start()
    try:
        thread.join(max(seconds, 0.01))
    except KeyboardInterrupt:  # the learner pressed stop: stop the function too
        _interrupt(thread, KeyboardInterrupt)
        raise
    if thread.is_alive():
        _interrupt(thread, _Timeout)
        raise _Timeout()
    if "error" in done:
        raise done["error"]
    return done["value"]


def _interrupt(thread, exception):
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exception))
    thread.join(1.0)


def describe(error):
    """Type, message and the learner's own line that raised (the last frame outside the grader)."""
    message = repr(error.code) if isinstance(error, SystemExit) else str(error)
    info = {"type": type(error).__name__, "message": _short(message), "where": None, "text": None}
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_GRADER_DIR + os.sep):
            info["where"] = f"{filename}, line {lineno}"
            info["text"] = _short(linecache.getline(filename, lineno).strip()) or None
    return info


def _short(text, limit=300):
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."

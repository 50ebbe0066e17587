"""Run `grade` as on a system without os.fork, resource, prctl and /proc (for tests/test_portable.py).

    python tests/no_linux_features.py check softmax.py

psutil, the portability layer, is loaded first as the real system's; then the grader's own
code finds no os.fork, no memfd, no resource module, no prctl in the C library, no /proc
(for files opened from grader/), and sys.platform says "darwin". This simulates macOS and
Windows for the grader's process; the submission's own process (a fresh interpreter) is
the real one.
"""

import builtins
import ctypes
import os
import sys

import psutil  # noqa: F401

for name in ("fork", "memfd_create", "forkpty"):
    if hasattr(os, name):
        delattr(os, name)
sys.modules["resource"] = None
_real_cdll = ctypes.CDLL


class _NoPrctl:
    def __init__(self, lib):
        self._lib = lib

    def __getattr__(self, name):
        if name in ("prctl", "unshare", "capset", "capget", "mount"):
            raise AttributeError(name)
        return getattr(self._lib, name)


ctypes.CDLL = lambda *a, **k: _NoPrctl(_real_cdll(*a, **k))
_real_open, _real_listdir = builtins.open, os.listdir


def _grader_asks_for_proc(path):
    caller = sys._getframe(2).f_code.co_filename
    if str(path).startswith("/proc") and "/grader/" in caller:
        raise FileNotFoundError(2, "No such file or directory", str(path))


def _open(file, *args, **kwargs):
    _grader_asks_for_proc(file)
    return _real_open(file, *args, **kwargs)


def _listdir(path="."):
    _grader_asks_for_proc(path)
    return _real_listdir(path)


builtins.open, os.listdir = _open, _listdir
sys.platform = "darwin"
from grader.entry import main  # noqa: E402

main()

"""When the grader runs as root (autograder containers usually do), the child
running learner code stops being root.

As root, learner code could kill the grader or write a forged report into the
grader's stdout through /proc/<grader>/fd/1. As the unprivileged user `nobody`
it can do neither (signals and /proc/<pid>/fd need the same user or a capability).
It keeps one capability, CAP_DAC_READ_SEARCH (read any file), because Python
and numpy often live under a root-only directory such as /root/.pyenv, and a
correct submission that imports a module must still load.
"""
import ctypes
import os
import resource
import struct

NOBODY = 65534
# Processes and threads `nobody` may have at once, counted over every sandbox running
# (grade batch -j N runs N): enough for any submission, small enough that a fork bomb
# stops there instead of filling the machine's process table before its timeout.
NOBODY_PROCESSES = 256
_PR_SET_KEEPCAPS = 8
_PR_SET_NO_NEW_PRIVS = 38
_CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522


def drop_root(writable_dir):
    """Become `nobody` with only CAP_DAC_READ_SEARCH; `writable_dir` is handed over.

    Returns True when privileges were dropped, False when not root (nothing to do)
    or when the kernel refused (the child then runs with the grader's rights).
    """
    if os.getuid() != 0:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        os.chown(writable_dir, NOBODY, NOBODY)
        for name in os.listdir(writable_dir):
            os.chown(os.path.join(writable_dir, name), NOBODY, NOBODY)
        libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError:
        return False
    # After setuid the kept capabilities are permitted but not effective: make the one
    # we keep effective and drop the rest. setuid binaries cannot give root back.
    mask = 1 << _CAP_DAC_READ_SEARCH
    header = ctypes.create_string_buffer(struct.pack("Ii", _CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(struct.pack("IIIIII", mask, mask, 0, 0, 0, 0))
    libc.capset(header, data)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_NPROC, (NOBODY_PROCESSES, NOBODY_PROCESSES))
    return True

"""The Linux backend: each submission in a jail (jail.py) forked by a clean fork server.

The grader hands each jail its pipes, a memfd for the inputs and an unlinked file for
its prints through the fork server (server.py); the submission itself goes straight
to the jail over its request pipe, so the fork server never holds a student's code.

When the grader runs as root (an autograder container), each live jail gets a uid
of its own from a reserved range, held with a lock file for as long as any of its
processes may live (as systemd's DynamicUser picks one per service).
"""

import fcntl
import mmap
import os
import random
import shutil
import struct
import tempfile

from . import base
from .base import JailError
from .server import server

UID_BASE = 2_000_000_000  # far above any account and the usual subordinate-id ranges
UID_SLOTS = 4096
UID_LOCKS = "/run/grade-uids"


class _Uid:
    """A uid nobody else uses while we hold its lock (a grader running as root)."""

    def __init__(self):
        os.makedirs(UID_LOCKS, mode=0o700, exist_ok=True)
        for slot in random.sample(range(UID_SLOTS), UID_SLOTS):
            fd = os.open(os.path.join(UID_LOCKS, str(slot)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.fd, self.uid = fd, UID_BASE + slot
            return
        raise JailError(f"all {UID_SLOTS} sandbox uids are in use")

    def release(self):
        os.close(self.fd)


class LinuxSandbox(base.Sandbox):
    backend = "linux"

    def __init__(self, *args, disable=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.disable = disable
        self._memfd = os.memfd_create("grade-inputs", os.MFD_CLOEXEC)
        os.ftruncate(self._memfd, self.shared_bytes)
        self._shared = mmap.mmap(self._memfd, self.shared_bytes)
        self._out = tempfile.TemporaryFile(prefix="grade-output-")
        self._scratch = None
        self._uid = None
        self._keeper = None
        self._status = None
        self._server = None

    def _start(self):
        self._server = server(self.disable)
        if os.getuid() == 0 and self._uid is None:
            self._uid = _Uid()
        if self._scratch is None:  # used only where the jail cannot have a /tmp of its own
            self._scratch = tempfile.mkdtemp(prefix="grade-")
        req_r, self._req = os.pipe()
        self._resp, resp_w = os.pipe()
        status_r, status_w = os.pipe()
        request = {
            "op": "spawn",
            "memory": self.memory_mb << 20,
            "shared_bytes": self.shared_bytes,
            "uid": self._uid.uid if self._uid else None,
            "processes": base.PROCESSES,
            "scratch": self._scratch,
        }
        try:
            try:
                reply = self._server.request(request, [req_r, resp_w, self._memfd, self._out.fileno(), status_w])
            except JailError:
                if self._server.process.poll() is None:
                    raise
                # It died (killed, or the thread that started it ended: PR_SET_PDEATHSIG): once more, anew.
                self._server = server(self.disable)
                reply = self._server.request(request, [req_r, resp_w, self._memfd, self._out.fileno(), status_w])
        finally:
            for fd in (req_r, resp_w, status_w):
                os.close(fd)
        if "pid" not in reply:
            os.close(status_r)
            raise JailError(f"the sandbox could not be started: {reply.get('error')}")
        self._keeper, self._status = reply["pid"], status_r

    def _end(self, killing):
        status = None
        if not killing:  # it ended by itself: its init says how, at once
            status = _read_status(self._status, seconds=5.0)
        try:
            self._server.request({"op": "kill", "pid": self._keeper})
        except JailError:
            pass  # the server died; with it every jail it held
        if status is None:
            status = _read_status(self._status, seconds=0.0)
        os.close(self._status)
        self._status = None
        from_outside = (
            status is not None
            and os.WIFSIGNALED(status)
            and os.WTERMSIG(status) in _OUTSIDE_SIGNALS
            and bool(self.layers and self.layers.get("seccomp"))
        )
        if status is None and not killing and self.layers and self.layers.get("seccomp"):
            from_outside = True  # its init was killed, and with it the namespace: not the learner's doing
        return base.Ending(status, by_grader=killing, from_outside=from_outside)

    def _read_output(self):
        try:
            self._out.seek(0)
            return self._out.read(base.OUTPUT_LIMIT)
        except (OSError, ValueError):
            return b""

    def _release(self):
        if self._uid is not None:
            self._uid.release()  # only now: no process of the jail is left
            self._uid = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._shared.close()
        os.close(self._memfd)
        self._out.close()


_OUTSIDE_SIGNALS = {9, 15, 2, 1, 3}  # what the jail's seccomp filter forbids a sandbox to send


def _read_status(fd, seconds):
    """The worker's wait status as its init wrote it, or None (init died first, or nothing yet)."""
    import select

    if not select.select([fd], [], [], seconds)[0]:
        return None
    try:
        data = os.read(fd, 4)
    except OSError:
        return None
    return struct.unpack("<i", data)[0] if len(data) == 4 else None

"""The Linux backend: each submission in a jail (jail.py) forked by a clean fork server.

The grader hands each jail its pipes, a memfd for the inputs and an unlinked file for
its prints through the fork server (server.py); the submission itself goes straight
to the jail over its request pipe, so the fork server never holds a student's code.

When the grader runs as root (an autograder container), each live jail gets a uid
of its own from a reserved range, held with a lock file for as long as any of its
processes may live (as systemd's DynamicUser picks one per service).
"""

import errno
import fcntl
import mmap
import os
import random
import shutil
import stat
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
        start = random.randrange(UID_SLOTS)  # from a random slot on: live jails rarely meet
        for slot in ((start + step) % UID_SLOTS for step in range(UID_SLOTS)):
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
        self._memfd = os.memfd_create("grade-inputs", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self._memfd, self.shared_bytes)
        # Sealed at its size: a jail that finds the descriptor cannot shrink it under the grader (SIGBUS).
        fcntl.fcntl(self._memfd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
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
        self._oom_kills = _oom_kills()
        req_r, self._req = os.pipe()
        self._resp, resp_w = os.pipe()
        status_r, status_w = os.pipe()
        request = {
            "op": "spawn",
            "memory": self.memory_mb << 20,
            "shared_bytes": self.shared_bytes,
            "uid": self._uid.uid if self._uid else None,
            "processes": base.PROCESSES,
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
        if reply.get("scratch") != "/tmp":  # a directory on the host (no root of its own): removed at the end
            self._scratch = reply.get("scratch")
        _set_nonblocking(self._req)  # a jail that stops reading must not block the grader's writes

    def _end(self, killing):
        """How the learner's process ended. From outside only when nothing of the jail's own could
        have done it: not the grader's own kill, a signal the jail may not send (seccomp), and not
        the kernel's out-of-memory killer, whose victim is the process that took the memory."""
        before = None  # its wait status, if it ended before the grader's own kill: the only one that can accuse
        if not killing:  # it ended by itself: its keeper says how, at once
            before = _read_status(self._status, seconds=1.0)
        try:
            answer = self._server.request({"op": "kill", "pid": self._keeper})
        except JailError:
            answer = {}  # the server died; with it every jail it held
        status = before if before is not None else _read_status(self._status, seconds=0.0)
        os.close(self._status)
        self._status = None
        guarded = bool(self.layers and self.layers.get("seccomp"))
        keeper = answer.get("keeper")
        signalled = before is not None and os.WIFSIGNALED(before) and os.WTERMSIG(before) in _OUTSIDE_SIGNALS
        keeper_killed = isinstance(keeper, int) and os.WIFSIGNALED(keeper)  # the jail's keeper never runs its code
        out_of_memory = (signalled or keeper_killed) and _oom_kills() > self._oom_kills
        from_outside = not killing and guarded and (signalled or keeper_killed) and not out_of_memory
        return base.Ending(status, by_grader=killing, from_outside=from_outside, out_of_memory=out_of_memory)

    def _memory_in_use(self):
        """The memory the jail's processes (the keeper's descendants) made, from smaps_rollup: each
        one's proportional share (Pss) of its anonymous and shmem pages, so that a page mapped by k of
        them counts 1/k in each and once in the sum; pages shared with the fork server (numpy, the
        interpreter) count a fraction, and its files not at all; and each one's page tables."""
        keeper = self._keeper
        if keeper is None:
            return None
        import psutil

        try:
            members = psutil.Process(keeper).children(recursive=True)
        except psutil.Error:
            return None
        return sum(_own_bytes(member.pid) for member in members)

    def _kill_now(self):
        keeper = self._keeper
        if keeper is not None:
            try:
                self._server.request({"op": "kill", "pid": keeper})
            except JailError:
                pass

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
            _remove_scratch(self._scratch)
        self._shared.close()
        os.close(self._memfd)
        self._out.close()


def _remove_scratch(path):
    """Remove a jail's scratch directory on the host. The jail may not chmod, but it may make a
    directory it can write and not list (mkdir with mode 0o300): an ordinary user's rmtree could
    not empty it, and the student's files would stay on the host's disk for good. So each
    directory gets its owner's rights back first (never through a link: lstat; and no process of
    the jail is left to swap one in). And it may nest directories deeper than any path may be long
    or the stack may recurse (os.walk and rmtree both recurse): every directory is first moved up
    to the top, one level at a time, so that what rmtree removes is two levels deep."""
    try:
        top = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    moved = 0
    try:
        pending = [None]  # directories to flatten: None is the top, others are names in it
        while pending:
            name = pending.pop()
            try:
                fd = top if name is None else os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top)
            except OSError:
                continue
            try:
                with os.scandir(fd) as entries:
                    inner = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
                for child in inner:
                    _give_back(child, fd)
                    if name is None:
                        pending.append(child)
                        continue
                    while True:  # a name the jail did not take already (it may have made any)
                        moved += 1
                        try:
                            os.rename(child, f".grade-moved-{moved}", src_dir_fd=fd, dst_dir_fd=top)
                        except (FileExistsError, IsADirectoryError, NotADirectoryError):
                            continue
                        except OSError as error:
                            if error.errno == errno.ENOTEMPTY:
                                continue
                        else:
                            pending.append(f".grade-moved-{moved}")
                        break
            except OSError:
                pass
            finally:
                if fd != top:
                    os.close(fd)
    finally:
        os.close(top)
    shutil.rmtree(path, ignore_errors=True)


def _give_back(name, dir_fd):
    """rwx for its owner, to a directory `name` in `dir_fd` (never through a link)."""
    try:
        if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            os.chmod(name, 0o700, dir_fd=dir_fd)
    except OSError:
        pass


_OUTSIDE_SIGNALS = {9, 15, 2, 1, 3}  # what the jail's seccomp filter forbids a sandbox to send


# Private memory alone missed pages shared within the jail: 8 processes that each filled 100 MiB and
# forked a child keeping it (copy on write) held 800 MiB that counted as none (tests/test_jail_redteam.py).
_OWN = ("Pss_Anon", "Pss_Shmem", "SwapPss", "Private_Hugetlb", "Shared_Hugetlb")
_OWN_OLDER = ("Pss", "SwapPss", "Private_Hugetlb", "Shared_Hugetlb")  # no Pss_Anon: files' pages too, a few MiB


def _own_bytes(pid):
    """Its share of pages (smaps_rollup), and its page tables (VmPTE): the kernel's, which no RLIMIT_AS
    counts, and which one 4 KiB mapping every 2 MiB makes as large as the pages themselves (4 processes
    held 625 MiB of them under a cap of 256, tests/test_jail_redteam.py)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            fields = {line.split(":")[0]: line.split()[1] for line in rollup if ":" in line}
        with open(f"/proc/{pid}/status") as status:
            tables = next((line.split()[1] for line in status if line.startswith("VmPTE:")), "0")
        names = _OWN if "Pss_Anon" in fields else _OWN_OLDER
        return (sum(int(fields.get(name, 0)) for name in names) + int(tables)) << 10
    except (OSError, ValueError, IndexError):
        return 0


def _oom_kills():
    """How many processes the kernel's out-of-memory killer has killed since boot (0 if unknown)."""
    try:
        with open("/proc/vmstat") as vmstat:
            for line in vmstat:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _set_nonblocking(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


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

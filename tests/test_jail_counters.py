"""Two jails graded together share no count of the kernel's that one can move and the other read.

A donor sends its 16-bit secret in time slots taken from the wall clock (which both jails
read): in the slot of each 1 bit it moves a count; a freeloader graded beside it reads
that count three times per slot, three cycles over, and takes each bit by majority.
Counts tried, each of which carried the whole secret before its fix, as root and as an
ordinary user:

- pipe_inodes: a pipe's inode number comes from one counter for the whole machine
  (get_next_ino: per CPU, in batches of 1024), whatever namespace or uid a jail has. The
  donor, pinned to CPU 0, makes 300 pipes; the freeloader, pinned there too, reads the
  inode number of a pipe of its own. Fixed: the seccomp filter refuses pipe and pipe2.
- pidfd_inodes: a pidfd's inode number is its pid's, taken from one counter for the
  whole machine (pidfs, Linux 6.9+) at every process or thread made anywhere. The donor
  starts 200 threads; the freeloader forks with CLONE_PIDFD and reads its pidfd's inode
  number. Fixed: the filter refuses clone with CLONE_PIDFD.
- pending signals (a one-bit test, below): signals queued and not yet taken are counted
  per user, and in a user namespace also against the user that made it, up to that
  user's RLIMIT_SIGPENDING (96,369 on the test machine): every jail of an ordinary user
  draws on one count. A donor that queued signals to itself until refused left a
  freeloader none to queue. Fixed: RLIMIT_SIGPENDING of 64 per jail.
- free_blocks: the file a jail prints into is the grader's temporary file, on the host's
  disk. The donor grows it by 12 MiB (fallocate) and truncates it again; the freeloader
  reads the host file system's free blocks (fstatfs on its own output). Fixed: the filter
  refuses statfs and fstatfs.

Same harness as tests/test_jail_shared.py.
"""

import random

import pytest
from test_jail import PRELUDE, _runners
from test_jail_shared import run_pair

pytestmark = pytest.mark.slow  # two graders, two jails each

COMMON = """
import os, sys, threading, time
BITS, SLOT, CYCLE = 16, 0.1, 20  # a cycle: 16 slots of data and 4 of silence
def sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))
def inode():
    r, w = os.pipe()
    number = os.fstat(r).st_ino
    os.close(r)
    os.close(w)
    return number
def free_blocks():
    return os.fstatvfs(sys.stdout.fileno()).f_bfree
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def pidfd_inode():  # fork with CLONE_PIDFD; the pidfd's inode number is the child's pid's
    fd = ctypes.c_int(-1)
    pid = libc.syscall(56, 0x1000 | 17, None, ctypes.byref(fd), None, None)  # clone(CLONE_PIDFD | SIGCHLD)
    if pid == 0:
        os._exit(0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone")
    os.waitpid(pid, 0)
    number = os.fstat(fd.value).st_ino
    os.close(fd.value)
    return number
def threads(count):
    for _ in range(count):
        thread = threading.Thread(target=int)
        thread.start()
        thread.join()
"""

CHANNELS = {
    "pipe_inodes": {
        "setup": "os.sched_setaffinity(0, {0}); inode()",
        "watch": "os.sched_setaffinity(0, {0}); inode()",
        "move": "for _ in range(300): inode()",
        "undo": "pass",
        "read": "inode()",
        "moved": "middle - before > 150",  # a counter: it only grows
    },
    "pidfd_inodes": {
        "setup": "pidfd_inode()",
        "watch": "pidfd_inode()",
        "move": "threads(200)",
        "undo": "pass",
        "read": "pidfd_inode()",
        "moved": "after - before > 100",  # a counter: it only grows (and threads take a while to start)
    },
    "free_blocks": {
        "setup": "free_blocks()",
        "watch": "free_blocks()",
        "move": "os.posix_fallocate(sys.stdout.fileno(), 0, 12 << 20)",
        "undo": "os.ftruncate(sys.stdout.fileno(), 0)",
        "read": "free_blocks()",
        "moved": "(before + after) / 2 - middle > 1500",  # 12 MiB is 3072 blocks of 4 KiB
    },
}

DONOR = """
def send(secret):
    while True:
        slot = int(time.time() / SLOT)
        bit = slot % CYCLE
        if bit < BITS and secret >> bit & 1:
            sleep_until((slot + 0.2) * SLOT)
            {move}
            sleep_until((slot + 0.8) * SLOT)
            {undo}
        sleep_until((slot + 1) * SLOT)
def start(secret):
    {setup}  # refused here, so nothing is left running
    threading.Thread(target=send, args=(secret,), daemon=True).start()
    return "sending"
def give(X):
    attempt("give", lambda: start(int(X[0])))
    return X
"""

FREELOADER = """
def read_cycle():
    slot = int(time.time() / SLOT) + 1
    start = slot + (-slot) % CYCLE  # the next cycle's first slot
    value = 0
    for bit in range(BITS):
        sleep_until((start + bit + 0.1) * SLOT)
        before = {read}
        sleep_until((start + bit + 0.5) * SLOT)
        middle = {read}
        sleep_until((start + bit + 0.9) * SLOT)
        after = {read}
        if {moved}:
            value |= 1 << bit
    return value
def channel():
    {watch}
    reads = [read_cycle() for _ in range(3)]
    return sum(1 << i for i in range(BITS) if sum(r >> i & 1 for r in reads) >= 2)  # each bit by majority
def take(X):
    try:
        print("READ", channel(), flush=True)
    except Exception as error:
        print("TRIED", type(error).__name__, error, flush=True)
    return X
"""


@pytest.mark.parametrize("name", sorted(CHANNELS))
@pytest.mark.parametrize("runner", _runners())
def test_no_count_of_the_kernel_carries_a_secret_between_jails_graded_together(runner, name, tmp_path):
    secret = random.Random().randrange(1, 1 << 16) | 1 | 1 << 15
    channel = CHANNELS[name]
    donor = PRELUDE + COMMON + DONOR.format(**channel)
    freeloader = PRELUDE + COMMON + FREELOADER.format(**channel)
    report = run_pair(runner, tmp_path, donor, freeloader, secret, "together")
    lines = report["output"].splitlines()
    read = [int(line.split()[1]) for line in lines if line.startswith("READ ")]
    tried = [line for line in lines if line.startswith("TRIED ")]
    assert len(read) + len(tried) == 1, report  # the channel was tried
    assert read != [secret], f"secret {secret} read through {name}\n{report}"


SIGNALS = """
import ctypes, signal
RT = signal.SIGRTMIN + 1
libc = ctypes.CDLL(None, use_errno=True)
def queue(count):  # queue up to `count` signals to itself (blocked: they stay pending); how many went
    signal.pthread_sigmask(signal.SIG_BLOCK, [RT])
    for done in range(count):
        if libc.sigqueue(os.getpid(), RT, 0) != 0:
            return done
    return count
"""


@pytest.mark.parametrize("runner", _runners())
def test_no_jail_can_use_up_the_pending_signals_of_another(runner, tmp_path):
    donor = PRELUDE + SIGNALS + "def give(X):\n    print('QUEUED', queue(1 << 20), flush=True)\n    return X\n"
    freeloader = PRELUDE + SIGNALS + "def take(X):\n    print('QUEUED', queue(10), flush=True)\n    return X\n"
    report = run_pair(runner, tmp_path, donor, freeloader, 1, "together")
    assert "QUEUED 10" in report["output"].splitlines(), report  # the donor's signals left it room for its own

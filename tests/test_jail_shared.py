"""Two students graded on one machine share nothing one can write and the other read.

A donor's jail is given a secret (16 bits, standing for its answers to its own
inputs) and leaves it in every kernel object that two jails can both name: record,
OFD and flock locks and shared futexes on numpy's read-only files (which every jail
can open), the page cache of those files (which pages are resident), SysV shared
memory and POSIX message queues. A freeloader, graded beside it or just after it,
reads each channel back. The secret must not come through any of them, with the
grader as root (a uid per jail) and as an ordinary user (every jail under that one
uid). Same harness as tests/test_jail.py.
"""

import json
import os
import random
import subprocess

import pytest
from test_jail import PRELUDE, _runners, command, environment

pytestmark = pytest.mark.slow  # four graders, two jails each

BITS = 16


def _unread_numpy_files(count):
    """The largest of numpy's own test modules: readable in every jail, imported by none, so that
    whether their pages are cached is what the donor made it."""
    import numpy

    found = []
    for top, _, names in os.walk(os.path.dirname(numpy.__file__)):
        if os.sep + "tests" in top:
            found += [os.path.join(top, n) for n in names if n.endswith(".py")]
    return sorted(found, key=os.path.getsize)[-count:]


DONOR = """
import ctypes, fcntl, mmap, struct, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
LOCKED, MAPPED, PAGE = FILES[0], FILES[1], mmap.PAGESIZE
kept = []
def lock_record(secret):
    fd = os.open(LOCKED, os.O_RDONLY)
    kept.append(fd)
    for i in range(BITS):
        if secret >> i & 1:
            fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, i, 1, 0))
def lock_ofd(secret):
    fd = os.open(LOCKED, os.O_RDONLY)
    kept.append(fd)
    for i in range(BITS):
        if secret >> i & 1:
            fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 100 + i, 1, 0))  # F_OFD_SETLK
def lock_flock(secret):
    for i in range(BITS):
        if secret >> i & 1:
            fd = os.open(FILES[2 + i], os.O_RDONLY)
            kept.append(fd)
            fcntl.flock(fd, fcntl.LOCK_SH)
def futex_wait(secret):
    fd = os.open(MAPPED, os.O_RDONLY)
    base = libc.mmap(None, PAGE, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED: the futex key is the file's page
    for i in range(BITS):
        if secret >> i & 1:
            word = ctypes.c_uint32.from_address(base + 4 * i).value
            threading.Thread(target=libc.syscall, args=(202, ctypes.c_void_p(base + 4 * i), 0, word, None),
                             daemon=True).start()
def page_cache(secret):
    for path in CACHED:
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # none of its pages cached
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # no read-ahead: one page per bit
        for i in range(BITS):
            if secret >> i & 1:
                os.pread(fd, 1, (2 * i + 1) * PAGE)
        os.close(fd)
def sysv_shm(secret):
    shmid = libc.shmget(0x67726164, 4096, 0o1666)  # IPC_CREAT | 0666
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(shmid, None, 0)
    if shmid < 0 or address in (None, 2**64 - 1):
        raise OSError(ctypes.get_errno(), "shm")
    ctypes.c_uint32.from_address(address).value = secret | 1 << 31
def posix_mq(secret):
    mq = libc.mq_open(b"/grade-secret", os.O_CREAT | os.O_RDWR, 0o666, None)
    if mq < 0 or libc.mq_send(mq, struct.pack("<I", secret), 4, 0) != 0:
        raise OSError(ctypes.get_errno(), "mq")
def give(X):
    secret = int(X[0])
    for name, leave in [("record_lock", lock_record), ("ofd_lock", lock_ofd), ("flock", lock_flock),
                        ("futex", futex_wait), ("page_cache", page_cache), ("sysv_shm", sysv_shm),
                        ("posix_mq", posix_mq)]:
        attempt("give_" + name, lambda: leave(secret))
    return X
"""

FREELOADER = """
import ctypes, errno, fcntl, mmap, struct
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
LOCKED, MAPPED, PAGE = FILES[0], FILES[1], mmap.PAGESIZE
def bits(test):
    return sum(1 << i for i in range(BITS) if test(i))
def record_lock():
    fd = os.open(LOCKED, os.O_RDONLY)
    ask = lambda i: fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, i, 1, 0))
    return bits(lambda i: struct.unpack("hhqqi", ask(i))[0] != fcntl.F_UNLCK)
def ofd_lock():
    fd = os.open(LOCKED, os.O_RDONLY)
    ask = lambda i: fcntl.fcntl(fd, 36, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 100 + i, 1, 0))  # F_OFD_GETLK
    return bits(lambda i: struct.unpack("hhqqi", ask(i))[0] != fcntl.F_UNLCK)
def flock():
    def held(i):
        fd = os.open(FILES[2 + i], os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
    return bits(held)
def futex():
    fd = os.open(MAPPED, os.O_RDONLY)
    base = libc.mmap(None, PAGE, 1, 1, fd, 0)
    def woke(i):
        woken = libc.syscall(202, ctypes.c_void_p(base + 4 * i), 1, 1)  # FUTEX_WAKE
        if woken < 0:
            raise OSError(ctypes.get_errno(), "futex")
        return woken > 0
    return bits(woke)
def resident(path):
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    base = libc.mmap(None, size, 1, 2, fd, 0)  # MAP_PRIVATE
    vector = (ctypes.c_ubyte * (size // PAGE + 1))()
    if libc.mincore(ctypes.c_void_p(base), ctypes.c_size_t(size), vector) != 0:
        raise OSError(ctypes.get_errno(), "mincore")
    return bits(lambda i: vector[2 * i + 1] & 1)
def mincore():
    return resident(CACHED[0])
def cachestat():
    fd = os.open(CACHED[1], os.O_RDONLY)
    def cached(i):
        span = struct.pack("<QQ", (2 * i + 1) * PAGE, PAGE)
        stat = ctypes.create_string_buffer(40)
        if libc.syscall(451, fd, span, stat, 0) != 0:
            raise OSError(ctypes.get_errno(), "cachestat")
        return struct.unpack("<Q", stat.raw[:8])[0] > 0
    return bits(cached)
def nowait_read():
    fd = os.open(CACHED[2], os.O_RDONLY)
    def cached(i):
        try:
            os.preadv(fd, [bytearray(1)], (2 * i + 1) * PAGE, os.RWF_NOWAIT)
        except BlockingIOError:
            return False
        return True
    return bits(cached)
def sysv_shm():
    shmid = libc.shmget(0x67726164, 0, 0)
    libc.shmat.restype = ctypes.c_void_p
    address = libc.shmat(shmid, None, 0)
    if shmid < 0 or address in (None, 2**64 - 1):
        raise OSError(ctypes.get_errno(), "shm")
    return ctypes.c_uint32.from_address(address).value & 0xFFFF
def posix_mq():
    mq = libc.mq_open(b"/grade-secret", os.O_RDONLY | os.O_NONBLOCK)
    message = ctypes.create_string_buffer(8192)
    if mq < 0 or libc.mq_receive(mq, message, 8192, None) != 4:
        raise OSError(ctypes.get_errno(), "mq")
    return struct.unpack("<I", message.raw[:4])[0]
CHANNELS = [record_lock, ofd_lock, flock, futex, mincore, cachestat, nowait_read, sysv_shm, posix_mq]
def take(X):
    for channel in CHANNELS:
        try:
            print("READ", channel.__name__, channel(), flush=True)
        except Exception as error:
            print("TRIED", channel.__name__, type(error).__name__, error, flush=True)
    return X
"""

PAIR = """
import json, sys, time
import numpy as np
from grader.sandbox import Sandbox
from grader.reading.submission import submission_from_bytes

donor, freeloader, secret, together = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "together"
x = np.array([float(secret)])
giver = Sandbox(submission_from_bytes("donor.py", donor.encode()), timeout=20)
given = giver.call("give", (x,)).status
if not together:
    giver.close()  # one after the other: the donor and all its processes are gone
    time.sleep(0.2)
with Sandbox(submission_from_bytes("freeloader.py", freeloader.encode()), timeout=20) as taker:
    taken = taker.call("take", (x * 0,)).status
    output = taker.output
if together:
    giver.close()
print(json.dumps({"given": given, "donor_output": giver.output, "taken": taken, "output": output}))
"""


@pytest.fixture(params=_runners())
def runner(request):
    return request.param


def run_pair(runner, tmp_path, donor, freeloader, secret, when):
    """The report of PAIR grading a donor and a freeloader submission under RUNNER ("together" or one
    after the other), once both were graded."""
    os.chmod(tmp_path, 0o777)  # the ordinary user's runner writes there too
    script = tmp_path / "pair.py"
    script.write_text(PAIR)
    done = subprocess.run(
        command(runner, script, donor, freeloader, secret, when),
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["given"] == "ok" and report["taken"] == "ok", report
    return report


@pytest.mark.parametrize("when", ["together", "one_after_the_other"])
def test_no_channel_carries_a_secret_from_one_jail_to_another(runner, when, tmp_path):
    files = _unread_numpy_files(5 + BITS)
    cached, locked = files[-3:], files[:-3]  # the three largest: 16 bits, one every other page
    header = f"BITS = {BITS}\nFILES = {locked!r}\nCACHED = {cached!r}\n"
    secret = random.Random().randrange(1, 1 << BITS) | 1 | 1 << (BITS - 1)
    report = run_pair(runner, tmp_path, PRELUDE + header + DONOR, PRELUDE + header + FREELOADER, secret, when)
    lines = report["output"].splitlines()
    read = {line.split()[1]: int(line.split()[2]) for line in lines if line.startswith("READ ")}
    tried = {line.split()[1] for line in lines if line.startswith("TRIED ")}
    assert len(read) + len(tried) == 9, report  # every channel was tried
    carried = sorted(name for name, value in read.items() if value == secret)
    assert carried == [], f"secret {secret} read through {carried}\n{report}"

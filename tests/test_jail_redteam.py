"""The jail attacked by routes tests/test_jail.py does not take.

Same harness and rules as tests/test_jail.py: every attack runs with the grader as
root and as an ordinary user; the hostile code prints "TRIED <attack>" after each
attempt and "FOUND <attack>" when one succeeds; side effects are checked from
outside. Targets live under /var/tmp, not /tmp: the jail has a /tmp of its own, so a
target under the host's /tmp would be out of sight whatever the other layers do.
Network attacks only ever target sockets this test made.
"""

import json
import os
import platform
import pwd
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import pytest
from test_jail import USER, _runners, command, environment, findings, run_probe

pytestmark = pytest.mark.slow  # many jails and subprocesses: the full suite runs them

# Finds the jail's reply pipe (the write end of a pipe) and writes a frame on it, as child.py would.
FORGE = """
import os, json
import stat as _stat, fcntl as _fcntl, struct as _struct
def _pipes(mode):
    for fd in range(3, 1024):
        try:
            if _stat.S_ISFIFO(os.fstat(fd).st_mode) and _fcntl.fcntl(fd, _fcntl.F_GETFL) & os.O_ACCMODE == mode:
                yield fd
        except OSError:
            pass
def send_frame(payload):
    os.write(next(_pipes(os.O_WRONLY)), _struct.pack("<Q", len(payload)) + payload)
"""


@pytest.fixture(params=_runners())
def runner(request):
    return request.param


def grader_user(runner):
    """The account the grader runs as in this runner: the one whose files a jail must not touch."""
    return pwd.getpwnam(USER) if runner == "user" and os.getuid() == 0 else pwd.getpwuid(os.getuid())


@pytest.fixture
def outside():
    """A directory outside any jail's private /tmp, reachable by everyone: only the jail protects it."""
    directory = tempfile.mkdtemp(prefix="grade-redteam-", dir="/var/tmp")
    os.chmod(directory, 0o777)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


# == holes: these fail until the jail is fixed ===================================================
def test_the_inputs_buffer_cannot_be_truncated_under_the_grader(runner):
    """The grader maps the inputs' memfd; if the jail can shrink it, the grader's next access to the
    mapping is a SIGBUS that kills `grade check` or a batch worker."""
    code = """
attempt("stdin_holds_data", lambda: os.read(0, 16) or 1/0)
def forward(X, W, b):
    for fd in range(0, 1024):
        if fd in (1, 2):
            continue
        try:
            if __import__("stat").S_ISREG(os.fstat(fd).st_mode):
                os.ftruncate(fd, 0)
                print(f"FOUND truncate_inputs: fd {fd}", flush=True)
        except OSError:
            pass
    print("TRIED truncate_inputs", flush=True)
    return X @ W + b
"""
    result = run_probe(runner, code, call="forward")  # asserts the grader itself exited normally
    assert findings(result, ["stdin_holds_data", "truncate_inputs"]) == []
    assert result["call"]["status"] == "ok", result


@pytest.mark.parametrize(
    "how",
    [
        # The kernel sends SIGKILL past RLIMIT_CPU's hard limit, which any process may lower.
        "import resource\n    resource.setrlimit(resource.RLIMIT_CPU, (1, 1))\n    while True:\n        pass",
        # A reply whose status is the grader's own word for "killed from outside".
        'send_frame(json.dumps({"status": "killed", "arrays": 0}).encode())\n    import time\n    time.sleep(30)',
        # Alive, with its channel closed: the grader kills it, then reads that SIGKILL as not its own.
        "for fd in range(3, 1024):\n        try:\n            os.close(fd)\n        except OSError:\n"
        "            pass\n    import time\n    time.sleep(30)",
    ],
    ids=["cpu_limit", "forged_status", "closed_channel"],
)
def test_a_submission_cannot_pass_its_own_end_off_as_killed_from_outside(runner, how):
    """`killed` is never the student's fault: never cached, graded again on every run. Only a kill
    from outside may end so; whatever the code does itself is blamed on it (crashed, timeout, or the
    exception it gets: setting RLIMIT_CPU is refused)."""
    code = FORGE + f"def forward(X, W, b):\n    print('TRIED end', flush=True)\n    {how}\n"
    result = run_probe(runner, code, call="forward", timeout=2.0)
    assert result["call"]["status"] in ("crashed", "timeout", "exception"), result


def test_a_forged_jail_failure_is_blamed_on_the_submission(runner, tmp_path):
    """jail_failed is the worker's word for "could not lock itself down": the grader stops with a
    JailError, `grade check` exits 3 (a bug in the grader) and prints the student's text, and `grade
    batch` leaves the row ungraded on every run. Said by the learner's code, it is a bad reply."""
    forged = FORGE + (
        'send_frame(json.dumps({"status": "jail_failed", "detail": "do not grade this class"}).encode())\n'
        "import time\ntime.sleep(30)\n"
    )
    result = run_probe(runner, forged, call="forward", timeout=2.0)  # asserts no JailError escaped
    assert result["call"]["status"] == "crashed", result

    os.chmod(tmp_path, 0o777)
    path = tmp_path / "softmax.py"
    path.write_text(forged)
    done = subprocess.run(
        command(runner, "-m", "grader", "check", path), capture_output=True, text=True, timeout=120, env=environment()
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "do not grade this class" not in done.stderr


def test_the_layers_a_report_names_are_not_the_submissions_to_write(runner):
    """The jail's record of its layers travels in the ready reply, after the learner's code ran: found
    through gc, it can be rewritten, and the report (and the grader's reading of an outside kill,
    which trusts its seccomp entry) then says what the student wrote."""
    code = """
import gc
def weaken():
    records = [o for o in gc.get_objects() if isinstance(o, dict) and "no_new_privs" in o]
    for record in records:
        record.update(landlock=0, seccomp=False, capabilities=40)
    return len(records) or 1/0
attempt("forge_layers", weaken)
"""
    layers = run_probe(runner, code)["layers"]
    assert layers["landlock"] >= 1 and layers["seccomp"] is True and layers["capabilities"] == 0, layers


@pytest.mark.parametrize("disable", [None, ["mount"]], ids=["all_layers", "landlock_alone"])
def test_file_metadata_outside_the_sandbox_cannot_be_changed(runner, outside, disable):
    """Landlock does not cover chmod, chown, utime or xattrs: as an ordinary user's jail runs under the
    user's own uid, it could make the user's files (~/.bashrc, the class directory) world-writable.
    Without a root of its own (Landlock alone), utimensat set the times of any file the jail's uid
    owns and of any world-writable one: a jail wrote the instructor's files' dates, and one that set
    the times of numpy's files left a secret there for the next."""
    owner = grader_user(runner)
    owned = os.path.join(outside, "owned.py")  # stands for the grader user's own files
    shared = os.path.join(outside, "shared.txt")  # world-writable, owned by root
    for path, mode in ((owned, 0o644), (shared, 0o666)):
        with open(path, "w") as handle:
            handle.write("ANSWER = 42\n")
        os.chmod(path, mode)
    if os.getuid() == 0:
        os.chown(owned, owner.pw_uid, owner.pw_gid)
    before = {path: os.stat(path) for path in (owned, shared)}
    attacks = {
        "chmod_owned": f"os.chmod({owned!r}, 0o777)",
        "utime_owned": f"os.utime({owned!r}, (0, 0))",
        "xattr_owned": f"os.setxattr({owned!r}, 'user.owned', b'1')",
        "utime_shared": f"os.utime({shared!r})",
        "xattr_shared": f"os.setxattr({shared!r}, 'user.owned', b'1')",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    result = run_probe(runner, code, disable=disable)
    for path, old in before.items():
        new = os.stat(path)
        assert (new.st_mode, new.st_mtime_ns) == (old.st_mode, old.st_mtime_ns), path
        assert os.listxattr(path) == [], path
    assert findings(result, attacks) == []


def test_no_datagram_leaves_the_sandbox_through_a_socket_pair(runner, outside):
    """socket() is refused, socketpair() is not: a datagram pair may sendto() or connect() to any unix
    datagram socket on the machine (syslog's /dev/log, a colluder's), and pass descriptors with it."""
    path = os.path.join(outside, "listener.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.setblocking(False)
    attacks = {
        "sendto": f"__import__('socket').socketpair(1, 2)[0].sendto(b'grades', {path!r})",
        "connect_and_pass_fd": (
            f"(lambda s: (s.connect({path!r}), s.sendmsg([b'fd'], [(1, 1, (1).to_bytes(4, 'little'))])))"
            "(__import__('socket').socketpair(1, 2)[0])"
        ),
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    try:
        result = run_probe(runner, code)
        with pytest.raises(BlockingIOError):
            listener.recvmsg(100, 100)
    finally:
        listener.close()
    assert findings(result, attacks) == []


def test_no_watch_on_files_outside_the_sandbox(runner, outside):
    """inotify and fanotify are not Landlock's: a jail that may not list a directory could still
    learn the names of the files created there (a classmate's, the instructor's)."""
    token = uuid.uuid4().hex
    stop = threading.Event()

    def touch_files():  # files appear in the watched directory while the jail runs
        count = 0
        while not stop.wait(0.05):
            with open(os.path.join(outside, f"seen-{token}-{count}"), "w"):
                count += 1

    code = f"""
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
def inotify():
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, {outside!r}.encode(), 0xFFF) < 0:
        raise OSError(ctypes.get_errno(), "inotify")
    time.sleep(1.0)
    return os.read(fd, 4096)
attempt("inotify_names", inotify)
def fanotify():
    fd = libc.fanotify_init(0x200, os.O_RDONLY)  # FAN_REPORT_FID: allowed without privileges since 5.13
    if fd < 0 or libc.fanotify_mark(fd, 1, ctypes.c_uint64(0x100 | 0x40000000), -100, {outside!r}.encode()) < 0:
        raise OSError(ctypes.get_errno(), "fanotify")
    return fd
attempt("fanotify_mark", fanotify)
"""
    toucher = threading.Thread(target=touch_files)
    toucher.start()
    try:
        result = run_probe(runner, code)
    finally:
        stop.set()
        toucher.join()
    assert token not in result["output"]
    assert findings(result, ["inotify_names", "fanotify_mark"]) == []


@pytest.mark.parametrize(
    "hoard",
    [
        # Shared memory in memfds is counted by no RLIMIT_AS (each file is capped by RLIMIT_FSIZE only).
        """
    held = 0
    try:
        for i in range(40):
            fd = os.memfd_create(f"hoard{i}")
            os.posix_fallocate(fd, 0, 16 << 20)
            held += 16
    except OSError:
        pass
""",
        # RLIMIT_AS is per process: each of the jail's processes has the whole cap.
        """
    import time
    for i in range(8):  # each child says it holds its 100 MiB with a file in the jail's /tmp (no pipes)
        if os.fork() == 0:
            try:
                block = bytearray(100 << 20)
                for j in range(0, len(block), 4096):
                    block[j] = 1
                open(f"/tmp/held{i}", "w").close()
                time.sleep(30)
            finally:
                os._exit(0)
    held, deadline = 0, time.monotonic() + 8
    while held < 800 and time.monotonic() < deadline:
        time.sleep(0.05)
        held = 100 * sum(name.startswith("held") for name in os.listdir("/tmp"))
""",
        # Socket buffers live in the kernel: a pair holds what was written into it until it is read.
        """
    import socket, time
    r, w = os.pipe()
    for i in range(8):
        if os.fork() == 0:
            try:
                pairs, held = [], 0
                while held < (120 << 20):
                    a, b = socket.socketpair()
                    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 24)
                    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
                    a.setblocking(False)
                    pairs.append((a, b))
                    try:
                        while True:
                            held += a.send(bytes(1 << 16))
                    except BlockingIOError:
                        pass
                os.write(w, b"x")
                time.sleep(30)
            finally:
                os._exit(0)
    os.close(w)
    held, deadline = 0, time.monotonic() + 8
    os.set_blocking(r, False)
    while held < 800 and time.monotonic() < deadline:
        try:
            got = os.read(r, 64)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not got:
            break
        held += 120 * len(got)
""",
        # memfd_secret's pages are in no process's address space once unmapped, and stay in the file.
        """
    import ctypes, mmap
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    held, chunk = 0, 1 << 20
    for _ in range(40):  # files of 16 MiB (RLIMIT_FSIZE), 1 MiB mapped at a time (RLIMIT_MEMLOCK)
        fd = libc.syscall(447, 0)
        if fd < 0:
            break
        os.ftruncate(fd, 16 * chunk)
        for offset in range(0, 16 * chunk, chunk):
            address = libc.mmap(None, chunk, 3, 1, fd, offset)
            if address in (None, 2**64 - 1):
                break
            ctypes.memset(address, 1, chunk)
            libc.munmap(ctypes.c_void_p(address), ctypes.c_size_t(chunk))
            held += 1
""",
        # Pipe buffers are the kernel's too: 63 processes of 120 full pipes each. F_SETPIPE_SZ may not grow
        # one past 64 KiB, and past the per-user pipe quota (fs.pipe-user-pages-soft) new ones get 8 KiB.
        """
    import fcntl, time
    report, done = os.pipe()
    started = 0
    for i in range(63):
        try:
            child = os.fork()
        except OSError:  # the process cap
            break
        started += 1
        if child == 0:
            try:
                filled = 0
                for _ in range(120):
                    r, w = os.pipe()
                    try:
                        fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
                    except OSError:
                        pass
                    os.set_blocking(w, False)
                    try:
                        while True:
                            filled += os.write(w, bytes(1 << 16))
                    except BlockingIOError:
                        pass
                os.write(done, b"x" * (filled >> 20) + b".")
                time.sleep(30)
            except OSError:
                os.write(done, b".")
            finally:
                os._exit(0)
    os.close(done)
    held, children, deadline = 0, 0, time.monotonic() + 15
    os.set_blocking(report, False)
    while children < started and time.monotonic() < deadline:
        try:
            got = os.read(report, 4096)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not got:
            break
        held += got.count(b"x")
        children += got.count(b".")
""",
        # Pages a process shares with its child after fork are private to neither: 8 parents of 100 MiB,
        # each with a child that keeps the pages, held 800 MiB that a sum of private memory counted as 0.
        """
    import time
    for i in range(8):  # one pair at a time: only the pair being filled holds private pages
        if os.fork() == 0:
            try:
                block = bytearray(100 << 20)
                for j in range(0, len(block), 4096):
                    block[j] = 1
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                open(f"/tmp/held{i}", "w").close()
                time.sleep(30)
            finally:
                os._exit(0)
        deadline = time.monotonic() + 8
        while not os.path.exists(f"/tmp/held{i}") and time.monotonic() < deadline:
            time.sleep(0.01)
    time.sleep(0.5)  # the grader measures every 0.1 s
    held = 100 * sum(name.startswith("held") for name in os.listdir("/tmp"))
""",
        # Page tables are the kernel's: one 4 KiB mapping every 2 MiB, each read once (the zero page), takes
        # a page table of 4 KiB that no RLIMIT_AS or Pss counts: 4 processes held 625 MiB of them.
        """
    import ctypes, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    for i in range(4):
        if os.fork() == 0:
            try:
                made = 0
                for k in range(40000):
                    want = 0x100000000000 + k * (2 << 20)
                    if libc.mmap(ctypes.c_void_p(want), 4096, 1, 0x22 | 0x100000, -1, 0) != want:  # MAP_FIXED_NOREPLACE
                        break
                    ctypes.string_at(want, 1)
                    made += 1
                open(f"/tmp/held{i}-{made}", "w").close()
                time.sleep(30)
            finally:
                os._exit(0)
    deadline = time.monotonic() + 15
    while len(os.listdir("/tmp")) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the grader measures every 0.1 s
    held = sum(4 * int(name.split("-")[1]) for name in os.listdir("/tmp") if name.startswith("held")) >> 10
""",
    ],
    ids=["memfd", "processes", "socketpair", "memfd_secret", "pipes", "copy_on_write", "page_tables"],
)
def test_the_memory_cap_bounds_the_whole_jail(runner, hoard):
    """--memory is the submission's, not each process's: a jail of 64 processes could hold 64 times the
    cap, and memfds (shared memory, counted by no RLIMIT_AS) 256 x 16 MiB per process, enough to run
    the machine out of memory for every classmate graded beside it."""
    cap = 256
    code = (
        "def forward(X, W, b):\n    print('TRIED hoard', flush=True)\n"
        + hoard
        + f"    if held > 2 * {cap}:\n        print(f'FOUND hoard: {{held}} MiB held', flush=True)\n"
        "    return X @ W + b\n"
    )
    result = run_probe(runner, code, call="forward", memory_mb=cap, timeout=20.0)
    assert findings(result, ["hoard"]) == []


def test_the_host_is_not_visible_through_metadata(runner, outside):
    """Landlock refuses to open, not to stat or readlink: the jail sees the host's /proc (whose
    processes exist, under which uid, since when) and the size and times of files it may not read."""
    classmate = os.path.join(outside, "classmate.py")
    with open(classmate, "w") as handle:
        handle.write("ANSWER = 42\n")
    attacks = {
        "stat_classmate": f"os.stat({classmate!r}).st_size",
        "stat_grader_process": f"os.stat('/proc/{os.getpid()}').st_uid",
        "host_pid_of_itself": "os.readlink('/proc/self') != str(os.getpid()) or 1/0",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    assert findings(run_probe(runner, code), attacks) == []


CALLS = """
import json, sys
import numpy as np
from grader.sandbox import Sandbox
from grader.reading.submission import submission_from_bytes

code, calls = sys.argv[1].encode(), int(sys.argv[2])
statuses = []
with Sandbox(submission_from_bytes("hostile.py", code), timeout=1) as box:
    for _ in range(calls):
        statuses.append(box.call("forward", (np.zeros((4, 4)),) * 3).status)
print(json.dumps(statuses))
"""


def call_many(runner, tmp_path, code, calls, seconds=30):
    """The statuses of `calls` calls in one Sandbox (a call after the jail died starts it again)."""
    os.chmod(tmp_path, 0o777)
    script = tmp_path / "calls.py"
    script.write_text(CALLS)
    try:
        done = subprocess.run(
            command(runner, script, code, calls), capture_output=True, text=True, timeout=seconds, env=environment()
        )
    except subprocess.TimeoutExpired:
        pytest.fail("Sandbox.call blocked past every deadline")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_unreadable_reply_is_blamed_on_the_submission(runner, tmp_path):
    """The grader kills a jail that sent garbage (killing=True), then reads the SIGKILL it sent itself
    as one from outside whenever the keeper wrote the status before it died: `killed`, about one time
    in two, never cached. Six tries make the race show."""
    code = FORGE + (
        "import time\ndef forward(X, W, b):\n"
        "    os.write(next(_pipes(os.O_WRONLY)), (1 << 62).to_bytes(8, 'little'))  # unreadable\n"
        "    time.sleep(30)\n"
    )
    assert call_many(runner, tmp_path, code, 6) == ["crashed"] * 6


def test_a_call_never_blocks_past_its_deadline_on_a_full_request_pipe(runner, tmp_path):
    """The child holds the read end of the request pipe: shrunk to one page and never read, while
    replies it wrote in advance keep coming, the grader's blocking write waits forever (from the 14th
    call on)."""
    code = FORGE + (
        "import fcntl, time\n"
        "fcntl.fcntl(next(_pipes(os.O_RDONLY)), 1031, 4096)  # F_SETPIPE_SZ: one page\n"
        'send_frame(json.dumps({"status": "ready", "arrays": 0}).encode())\n'
        "for _ in range(300):\n"
        '    send_frame(json.dumps({"status": "ok", "arrays": 0, "value": {"kind": "none"}}).encode())\n'
        "time.sleep(60)  # never reads a request\n"
    )
    statuses = call_many(runner, tmp_path, code, 20, seconds=20)
    assert len(statuses) == 20 and "timeout" in statuses, statuses


def test_without_a_mount_namespace_the_standard_library_still_imports_or_the_files_layer_says_why(runner):
    """A kernel that refuses mount namespaces: a root grader whose Python lives in a directory the jail's
    uid may not enter (/root/.pyenv) cannot bind it in, so an honest submission importing `fractions`
    would fail. The jail must then say so (the files layer missing: grading others' code is refused),
    never claim a working files layer while honest imports fail."""
    from grader.sandbox.layers import describe

    code = "import fractions, decimal, json, fcntl\n"
    result = run_probe(runner, code, disable=["mount"])
    files = next(layer for layer in describe(result["layers"]) if layer.name == "files")
    if result["call"]["status"] != "missing_function":  # not loaded (the probe's call has no function)
        assert not files.active and "cannot read Python" in files.how, result
    else:
        assert files.active, result


def test_the_submissions_text_cannot_drive_the_instructors_terminal(runner, tmp_path):
    """Exception messages and prints are the student's text, shown by `grade check -v` on the
    instructor's terminal: escape sequences in them can clear the screen, set the window title, or
    move up a line and print "PASS" over the grader's "FAIL"."""
    os.chmod(tmp_path, 0o777)
    path = tmp_path / "softmax.py"
    path.write_text(
        'print("\\x1b[2J\\x1b[H\\x1b]0;owned\\x07softmax: 4/4 points")\n'
        "def forward(X, W, b):\n"
        '    raise ValueError("\\x1b[1A\\x1b[2K  PASS  forward  1/1")\n'
    )
    check = command(runner, "-m", "grader", "check", "-v", path)
    done = subprocess.run(check, capture_output=True, text=True, timeout=120, env=environment())
    assert done.returncode == 1, done.stderr[-3000:]
    assert "forward" in done.stdout and "\x1b" not in done.stdout + done.stderr, repr(done.stdout[:2000])


ABANDONED = """
import sys, time
import numpy as np
from grader.sandbox import Sandbox
from grader.reading.submission import submission_from_bytes

box = Sandbox(submission_from_bytes("escape.py", sys.argv[1].encode()), timeout=30, disable=sys.argv[2:])
box.call("no_such_function", (np.zeros(1),))  # loaded: the escapee runs
print("READY", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("disable", [(), ("namespaces",)], ids=["all_layers", "no_namespaces"])
def test_no_process_of_a_submission_outlives_a_grader_killed_from_outside(runner, tmp_path, disable):
    """A grading process killed by SIGKILL (the batch pool's deadline, an administrator, the OOM killer)
    takes its fork server, keepers and workers with it (PR_SET_PDEATHSIG); a submission's own process in
    a session of its own has no such tie: without a pid namespace (a kernel that refuses them, where
    Landlock's signal scoping still lets grade batch run) it lives on as a child of init."""
    import psutil

    token = f"esc{uuid.uuid4().hex[:12]}"
    code = f"""
import ctypes, os, time
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        ctypes.CDLL(None).prctl(15, {token.encode()!r}, 0, 0, 0)  # PR_SET_NAME: found from outside
        time.sleep(120)
    os._exit(0)
time.sleep(0.3)
"""
    os.chmod(tmp_path, 0o777)
    script = tmp_path / "abandoned.py"
    script.write_text(ABANDONED)

    def escapees():
        return [p for p in psutil.process_iter(["name"]) if p.info["name"] == token]

    grader = subprocess.Popen(
        command(runner, script, code, *disable), stdout=subprocess.PIPE, text=True, env=environment()
    )
    try:
        assert grader.stdout.readline().strip() == "READY"
        assert escapees(), "the escapee never ran"
        grader.kill()
        grader.wait()
        deadline = time.monotonic() + 5
        while escapees() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert escapees() == [], "a submission's process outlived its grader"
    finally:
        grader.kill()
        grader.wait()
        for process in escapees():
            process.kill()


def test_scheduling_limits_are_not_inherited_from_the_grader(runner):
    """A grader allowed real-time priority (an audio workstation: `@audio rtprio 95`) must not pass it
    on: a SCHED_FIFO busy loop in a jail would take a core from everything else."""

    def allow_realtime():
        resource.setrlimit(resource.RLIMIT_RTPRIO, (5, 5))

    try:
        subprocess.run([sys.executable, "-c", "pass"], preexec_fn=allow_realtime, check=True)
    except (subprocess.SubprocessError, OSError, ValueError):
        pytest.skip("this machine cannot grant a real-time priority limit (no CAP_SYS_RESOURCE)")
    code = """
def realtime():
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
attempt("sched_fifo", realtime)
"""
    result = run_probe(runner, code, preexec_fn=allow_realtime)
    assert findings(result, ["sched_fifo"]) == []


# == blocked: these pass today and must keep passing =============================================
def test_granted_paths_stay_read_only(runner, outside):
    """Reading numpy, the standard library and the allowed packages is granted; writing, renaming,
    removing, linking out of them and truncating are not (Landlock's REFER and TRUNCATE; the private
    /tmp is another filesystem). One allowed package is made writable by everyone (a fake `scipy` on
    PYTHONPATH, which the grader grants like the real one), so that file permissions cannot be what
    stops the attacks."""
    import numpy

    packages = os.path.join(outside, "packages")
    package = os.path.join(packages, "scipy")
    init = os.path.join(package, "__init__.py")
    os.makedirs(package)
    with open(init, "w") as handle:
        handle.write("GRANTED = True\n")
    for path, mode in ((packages, 0o777), (package, 0o777), (init, 0o666)):
        os.chmod(path, mode)
    token = uuid.uuid4().hex
    numpy_dir, stdlib = os.path.dirname(numpy.__file__), os.path.dirname(os.__file__)
    attacks = {
        "new_file_in_package": f"open({os.path.join(package, token + '.py')!r}, 'w')",
        "append_package_init": f"open({init!r}, 'a').write('GRANTED = False')",
        "truncate_package_init": f"os.truncate({init!r}, 0)",
        "remove_package_init": f"os.unlink({init!r})",
        "rename_package_init": f"os.rename({init!r}, {init + token!r})",
        "mkdir_in_package": f"os.mkdir({os.path.join(package, token)!r})",
        "symlink_in_package": f"os.symlink('/etc/shadow', {os.path.join(package, token)!r})",
        "fifo_in_package": f"os.mkfifo({os.path.join(package, token)!r})",
        "link_package_init_to_tmp": f"os.link({init!r}, '/tmp/init.py')",
        "new_file_in_numpy": f"open({os.path.join(numpy_dir, token + '.py')!r}, 'w')",
        "rename_tmp_into_stdlib": (
            f"(open('/tmp/{token}.py', 'w').close(), "
            f"os.rename('/tmp/{token}.py', {os.path.join(stdlib, token + '.py')!r}))"
        ),
    }
    code = "import scipy\nprint('GRANTED', scipy.GRANTED, flush=True)\n"
    code += "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    result = run_probe(runner, code, env={"PYTHONPATH": packages})
    assert "GRANTED True" in result["output"], result  # the package is readable: only Landlock stops the rest
    assert findings(result, attacks) == []
    assert os.listdir(package) == ["__init__.py"] and open(init).read() == "GRANTED = True\n"
    assert not [name for name in os.listdir(numpy_dir) + os.listdir(stdlib) if token in name]


def test_no_route_around_landlock_reads(runner, outside):
    """Descriptors opened with O_PATH, openat from them, symlinks made in /tmp, /proc's map_files,
    /sys and device files other than null, zero and urandom: all refused."""
    secret = os.path.join(outside, "secret.txt")
    with open(secret, "w") as handle:
        handle.write("ANSWER = 42\n")
    os.chmod(secret, 0o644)
    attacks = {
        "o_path_reopen": f"open('/proc/self/fd/' + str(os.open({secret!r}, os.O_PATH))).read()",
        "o_path_openat": f"os.read(os.open('secret.txt', os.O_RDONLY, dir_fd=os.open({outside!r}, os.O_PATH)), 10)",
        "symlink_from_tmp": f"(os.symlink({secret!r}, '/tmp/link'), open('/tmp/link').read())",
        "map_files": "[open('/proc/self/map_files/' + n, 'rb') for n in os.listdir('/proc/self/map_files')]",
        "sys": "open('/sys/kernel/mm/transparent_hugepage/enabled').read()",
        "dev_kmsg": "open('/dev/kmsg', 'rb').read(10)",
        "dev_tty": "open('/dev/tty', 'rb')",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    assert findings(run_probe(runner, code), attacks) == []


def test_no_signal_or_stream_reaches_the_host_by_other_routes(runner, outside):
    """SIGIO's owner, pidfds and kill all name pids in the jail's own namespace; a stream socket pair
    is connected already and cannot connect again; and a jail's init ignores a SIGKILL or SIGTERM it
    arranged for itself (SIGIO with F_SETSIG, a POSIX timer), so that too cannot pass for one from outside."""
    path = os.path.join(outside, "stream.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.listen(4)
    listener.setblocking(False)
    host = os.getpid()
    attacks = {
        "f_setown_host_pid": f"__import__('fcntl').fcntl(os.pipe()[0], 8, {host})",
        "f_setown_host_group": f"__import__('fcntl').fcntl(os.pipe()[0], 8, -{host})",
        "pidfd_open_host": f"os.pidfd_open({host})",
        "kill_host": f"os.kill({host}, 0)",
        "stream_pair_connect": f"__import__('socket').socketpair()[0].connect({path!r})",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    code += """
import ctypes, fcntl, signal, time
def forward(X, W, b):
    try:
        r, w = os.pipe()
        fcntl.fcntl(r, fcntl.F_SETOWN, os.getpid())
        fcntl.fcntl(r, 10, int(signal.SIGKILL))  # F_SETSIG
        fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
        os.write(w, b"x")
    except PermissionError:
        pass  # the seccomp allowlist refuses pipes, F_SETOWN and F_SETSIG: the timer below must hold alone
    libc = ctypes.CDLL(None, use_errno=True)
    class SigEvent(ctypes.Structure):
        _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                    ("pad", ctypes.c_int * 12)]
    timer = ctypes.c_void_p()
    libc.timer_create(1, ctypes.byref(SigEvent(None, int(signal.SIGTERM), 0)), ctypes.byref(timer))
    libc.timer_settime(timer, 0, (ctypes.c_long * 4)(0, 0, 0, 10_000_000), None)
    time.sleep(0.3)
    return X @ W + b
"""
    try:
        result = run_probe(runner, code, call="forward")
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()
    assert findings(result, attacks) == []
    assert result["call"]["status"] == "ok", result


def test_no_limit_or_cpu_of_a_process_outside_the_jail_can_be_set(runner):
    """Without a pid namespace (a kernel that refuses an ordinary user one, where Landlock's signal
    scoping stands for the processes layer), the jail's processes see the host's pids, and prlimit
    and sched_setaffinity need only the same uid, which an ordinary user's jail has: it set the
    memory and descriptor limits of its keeper, the fork server and the grader itself (RLIMIT_AS of 1
    MiB ends any grading), and pinned them to one CPU. Landlock does not cover either call."""
    code = """
import resource
def grader_side():  # the keeper, then (pids below it) the fork server and the grader
    return [os.getppid(), *range(os.getppid() - 1, max(1, os.getppid() - 400), -1)]
def set_limits():
    done = []
    for pid in grader_side():
        try:
            soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))  # the same: nothing changes
            done.append(pid)
        except OSError:
            pass
    return done or 1/0
attempt("prlimit_outside", set_limits)
attempt("affinity_outside", lambda: os.sched_setaffinity(os.getppid(), os.sched_getaffinity(0)))
attempt("affinity_self", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)) is None)
"""
    result = run_probe(runner, code, disable=["namespaces"])
    assert findings(result, ["prlimit_outside", "affinity_outside", "affinity_self"]) == [
        "FOUND affinity_self: True"
    ], result


@pytest.mark.skipif(platform.machine() != "x86_64", reason="system call numbers of x86_64")
def test_kernel_surface_no_exercise_needs_is_refused(runner):
    calls = {
        "process_vm_readv": "310, 1, 0, 0, 0, 0, 0",
        "perf_event_open": "298, 0, 0, -1, -1, 0",
        "userfaultfd": "323, 0",
        "io_uring_setup": "425, 1, 0",
        "fsopen": "430, b'tmpfs', 0",
        "open_tree_clone": "428, -100, b'/', 1 | 0x80000",
        "clone_newuser": "56, 0x10000000 | 17, 0, 0, 0, 0",
        "unshare_net": "272, 0x40000000",
        "keyctl": "250, 0, -3, 0",
        "syslog_read": "103, 3, ctypes.create_string_buffer(64), 64",
        "chroot": "161, b'/tmp'",
    }
    code = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    code += "def call(*args):\n    return libc.syscall(*args) >= 0 or 1/0\n"
    code += "".join(f"attempt({name!r}, lambda: call({args}))\n" for name, args in calls.items())
    code += "attempt('setuid_root', lambda: os.setuid(0))\n"
    assert findings(run_probe(runner, code), [*calls, "setuid_root"]) == []


@pytest.mark.parametrize(
    ("how", "status"),
    [
        # A frame announced, then one byte every 0.2 s: the deadline is the call's, not the byte's.
        (
            "fd = next(_pipes(os.O_WRONLY))\n    os.write(fd, (50).to_bytes(8, 'little'))\n"
            "    for _ in range(1000):\n        os.write(fd, b' ')\n        time.sleep(0.2)",
            "timeout",
        ),
        # A grandchild keeps the reply pipe open while the worker exits: it dies with the namespace.
        ("if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)", "crashed"),
    ],
    ids=["slow_drip", "grandchild_holds_the_pipe"],
)
def test_hostile_replies_end_in_a_bounded_verdict(runner, how, status):
    code = FORGE + f"import time\ndef forward(X, W, b):\n    {how}\n"
    result = run_probe(runner, code, call="forward", timeout=2.0)
    assert result["call"]["status"] == status, result


def test_the_private_tmp_is_capped_in_bytes_and_files(runner):
    """The scratch directory (the jail's own /tmp) holds at most 64 MiB and 4096 files: a submission
    cannot fill the machine's memory or disk through it."""
    code = """
scratch = os.environ["TMPDIR"]
def fill():
    written = 0
    try:
        while written < (100 << 20):  # files of 1 MiB: RLIMIT_FSIZE caps one file at 16 MiB
            with open(os.path.join(scratch, f"fill{written >> 20}"), "wb") as handle:
                handle.write(b"\\0" * (1 << 20))
            written += 1 << 20
    except OSError:
        pass
    return written > (64 << 20) or 1/0
attempt("scratch_bytes", fill)
def files():
    made = 0
    os.mkdir(os.path.join(scratch, "many"))
    try:
        while made < 6000:
            open(os.path.join(scratch, "many", str(made)), "w").close()
            made += 1
    except OSError:
        pass
    return made > 4096 or 1/0
attempt("scratch_files", files)
"""
    assert findings(run_probe(runner, code), ["scratch_bytes", "scratch_files"]) == []

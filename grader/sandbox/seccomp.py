"""The jail's seccomp filter: an allowlist. What Python, numpy and matplotlib use runs; all else is refused.

As Docker's default profile, nsjail and systemd's SystemCallFilter= do, the filter names
the calls a submission may make (ALLOW: found by tracing the solutions, the mutant
corpora and a matplotlib plot in the jail, `strace -f`), checks the arguments of those
it needs only in part (RULES), and refuses everything else with EPERM. Calls newer than
this table, and the new variants the C library falls back from (clone3, futex2), answer
ENOSYS, as systemd does: the C library then uses the older call, whose arguments are
visible. What stays out, and why:

- every socket call (socket, socketpair, ...): no network, and no kernel buffers that
  the memory cap does not count (the wire to the grader is made of pipes);
- memfd_create and memfd_secret, SysV IPC, POSIX message queues, splice and vmsplice:
  memory no RLIMIT_AS counts; io_uring, whose operations seccomp does not see;
- pipe and pipe2: a pipe's inode number comes from one counter for the whole machine
  (get_next_ino), so a jail that makes pipes moves a number another jail reads in the
  inode of its own (tests/test_jail_counters.py); and the per-user quota of pipe pages
  is one more thing jails of one uid share. The wire's pipes are made before the filter;
- fallocate in any mode but 0: FALLOC_FL_KEEP_SIZE allocates blocks past a file's end
  without RLIMIT_FSIZE looking, so one call took GiBs of the host's disk through the
  output file (tests/test_jail_host_disk.py); glibc's posix_fallocate uses mode 0;
- statfs and fstatfs: the file a jail prints into is the grader's, on the host's disk,
  so a jail that grows and truncates it moves the free blocks another jail read there;
- flock, and fcntl's record, OFD and lease locks, F_NOTIFY and F_SETOWN; futexes
  without FUTEX_PRIVATE_FLAG (their key is the file's page, so two jails that map one
  of numpy's files share it); mincore, cachestat, readahead, posix_fadvise and preadv2's
  RWF_NOWAIT (which pages of a shared file are cached): state two jails could both name;
- ptrace, process_vm_*, namespaces, mount, keyrings, bpf, perf events, userfaultfd,
  inotify, fanotify, execve, chmod, chown, xattr writes, setuid and the like;
- utimensat: Landlock does not cover a file's times, so without a root of its own a jail set
  those of any file its uid owns or anyone may write (tests/test_jail_redteam.py).
- truncate by path (ftruncate of a descriptor it may write stays): Landlock covers it only from
  ABI 3 (Linux 6.2); before, with Landlock alone, a jail could cut any file its uid may write.

Arguments checked: prlimit64 and sched_setaffinity (the caller's own, pid 0: without a pid
namespace, an ordinary user's jail set the grader's limits), fcntl's command (F_SETPIPE_SZ only
up to a pipe's default 64 KiB),
clone's flags (no CLONE_NEW*, no CLONE_PIDFD), kill-type calls (no SIGKILL, SIGTERM, SIGINT, SIGHUP,
SIGQUIT or SIGSTOP: a sandbox never sends them, so one that dies of them was killed from
outside), RLIMIT_CPU (its hard limit is the kernel's SIGKILL), preadv2/pwritev2 flags,
madvise (no MADV_COLD or MADV_PAGEOUT), fallocate's mode (0 only), prctl options and ioctl requests (a short list).

Hand-assembled BPF, not libseccomp: this runs in the fork server, which imports the
standard library only, and must work where libseccomp (or its Python binding, absent
from PyPI) is not installed. The program is a binary search over the call number, so a
call costs about ten comparisons, and the kernel caches the calls always allowed.
Architectures: x86_64 and aarch64; elsewhere `install` returns False (the layer is off).
"""

import ctypes
import platform
import signal
import struct

from . import syscalls

_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
EPERM, EAGAIN, ENOTTY, ENOSYS, EOPNOTSUPP = 1, 11, 25, 38, 95
# BPF opcodes: ld w abs, jeq k, jset k, jge k, ja, ret k, and k
_LD, _JEQ, _JSET, _JGE, _JA, _RET, _AND = 0x20, 0x15, 0x45, 0x35, 0x05, 0x06, 0x54
_ARCH_OFFSET, _NR_OFFSET = 4, 0


def _arg(index):  # low 32 bits of seccomp_data.args[index] (little-endian)
    return 16 + 8 * index


ALLOW = tuple(
    """
    read write readv writev pread64 pwrite64 preadv pwritev lseek close close_range dup dup2 dup3
    open openat creat stat fstat lstat newfstatat statx access faccessat faccessat2
    readlink readlinkat getdents getdents64 getcwd chdir fchdir mkdir mkdirat rmdir unlink unlinkat
    rename renameat renameat2 ftruncate fsync fdatasync umask
    getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr sendfile copy_file_range
    brk mmap munmap mremap mprotect msync
    fork vfork exit exit_group wait4 waitid getpid getppid gettid set_tid_address set_robust_list rseq
    sched_yield sched_getaffinity sched_getscheduler sched_getparam
    sched_get_priority_max sched_get_priority_min getpriority arch_prctl
    rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack rt_sigsuspend rt_sigpending rt_sigtimedwait
    alarm pause setitimer getitimer timer_create timer_settime timer_gettime timer_getoverrun timer_delete
    clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday time times getrusage
    getuid geteuid getgid getegid getresuid getresgid getgroups getpgid getpgrp getsid setsid setpgid capget
    getrlimit uname getcpu getrandom
    poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2
    eventfd eventfd2 timerfd_create timerfd_settime timerfd_gettime restart_syscall
    """.split()
)
FALL_BACK = ("clone3", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "fchmodat2", "map_shadow_stack")
NEWEST = 469  # the highest call number this table knows of (Linux 6.18): above it, ENOSYS

FCNTL_ALLOWED = (0, 1, 2, 3, 4, 1030, 1032, 1034)  # F_DUPFD, F_[GS]ETFD, F_[GS]ETFL, F_DUPFD_CLOEXEC, F_GET*
F_SETPIPE_SZ, PIPE_BYTES = 1031, 65536
FUTEX_PRIVATE_FLAG = 128
FUTEX_WAKES = (1, 3, 4, 5, 7, 10, 12)  # WAKE, REQUEUE, CMP_REQUEUE, WAKE_OP, UNLOCK_PI, WAKE_BITSET, CMP_REQUEUE_PI
RWF_NOWAIT = 8
MADV_REFUSED = (20, 21)  # MADV_COLD, MADV_PAGEOUT: push pages of a shared file out
PRCTL_ALLOWED = (2, 3, 15, 16, 21, 23, 30, 37, 39, 42, 0x53564D41)  # the GETs, PR_SET_NAME, PR_SET_VMA
IOCTL_ALLOWED = (0x5401, 0x540F, 0x5413, 0x541B, 0x5421, 0x5450, 0x5451)  # TCGETS ... FIOCLEX: no device's own
RLIMIT_CPU = 0
CLONE_NEW = 0x10000000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x00020000 | 0x02000000 | 0x00000080
# A pidfd's inode number is its pid's, from one counter for the whole machine (pidfs) that every
# process or thread made anywhere moves: a channel between jails (tests/test_jail_counters.py).
# glibc's fork and pthread_create never ask for one.
CLONE_PIDFD = 0x00001000
FATAL_FROM_OUTSIDE = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGSTOP)
SIGNAL_ARG = {"kill": 1, "tkill": 1, "tgkill": 2, "rt_sigqueueinfo": 1, "rt_tgsigqueueinfo": 2, "pidfd_send_signal": 1}

_TABLES = {
    "x86_64": {"arch": 0xC000003E, "x32": 0x40000000, "numbers": syscalls.X86_64},
    "aarch64": {"arch": 0xC00000B7, "x32": None, "numbers": syscalls.AARCH64},
}


def supported():
    return platform.machine() in _TABLES


class _Program:
    """A tiny BPF assembler: conditional jumps are short (at most 255 ahead); `jump` to a label is not."""

    def __init__(self):
        self.code = []  # [op, jt, jf, k]; a JA's k may be a label name

    def ins(self, op, k=0, jt=0, jf=0):
        self.code.append([op, jt, jf, k])

    def ret(self, value):
        self.ins(_RET, value)

    def jump(self, label):
        self.ins(_JA, label)

    def label(self, name):
        self.code.append(name)

    def returns_if(self, op, k, value):
        """Return `value` when the loaded word matches k (op: _JEQ or _JSET)."""
        self.ins(op, k, 0, 1)
        self.ret(value)

    def assemble(self):
        where, out = {}, []
        for item in self.code:
            if isinstance(item, str):
                where[item] = len(out)
            else:
                out.append(item)
        packed = []
        for index, (op, jt, jf, k) in enumerate(out):
            if op == _JA and isinstance(k, str):
                k = where[k] - index - 1
            if not all(0 <= j <= 255 for j in (jt, jf)) or k < 0:
                raise ValueError("seccomp program: jump out of range")
            packed.append(struct.pack("<HBBI", op, jt, jf, k & 0xFFFFFFFF))
        if len(packed) > 4096:
            raise ValueError("seccomp program: too long")
        return b"".join(packed), len(packed)


def actions(machine=None):
    """{call number: action} for the calls the filter names; an action is a return value or a rule's name."""
    numbers = _TABLES[machine or platform.machine()]["numbers"]
    table = {numbers[name]: _RET_ALLOW for name in ALLOW if name in numbers}
    table.update({numbers[name]: _RET_ERRNO | ENOSYS for name in FALL_BACK if name in numbers})
    for name in _RULES:
        table[numbers[name]] = name
    return table


def _intervals(table):
    """[(first number, action)] covering 0..2**32-1: EPERM where unnamed, ENOSYS past NEWEST."""
    spans = []
    for nr in range(NEWEST + 2):
        action = table.get(nr, _RET_ERRNO | EPERM) if nr <= NEWEST else _RET_ERRNO | ENOSYS
        if not spans or spans[-1][1] != action or isinstance(action, str):
            spans.append((nr, action))
    return spans


def _search(p, spans):
    """A binary search over `spans` on the loaded call number."""
    if len(spans) == 1:
        action = spans[0][1]
        if isinstance(action, str):
            p.jump(f"rule_{action}")
        else:
            p.ret(action)
        return
    middle = len(spans) // 2
    above = f"above_{spans[middle][0]}"
    p.ins(_JGE, spans[middle][0], 0, 1)
    p.jump(above)
    _search(p, spans[:middle])
    p.label(above)
    _search(p, spans[middle:])


def program(machine=None):
    """The filter for this machine's architecture, as (bytes, instruction count)."""
    table = _TABLES[machine or platform.machine()]
    p = _Program()
    p.ins(_LD, _ARCH_OFFSET)
    p.ins(_JEQ, table["arch"], 1, 0)
    p.ret(_RET_ERRNO | ENOSYS)  # another ABI (i386 on x86_64) has other numbers: refused
    p.ins(_LD, _NR_OFFSET)
    if table["x32"]:
        p.ins(_JGE, table["x32"], 0, 1)
        p.ret(_RET_ERRNO | EPERM)
    _search(p, _intervals(actions(machine)))
    for name, rule in _RULES.items():
        p.label(f"rule_{name}")
        rule(p)
    return p.assemble()


def _fcntl(p):
    p.ins(_LD, _arg(1))
    for command in FCNTL_ALLOWED:
        p.returns_if(_JEQ, command, _RET_ALLOW)
    p.ins(_JEQ, F_SETPIPE_SZ, 0, 4)  # a pipe may shrink, never grow past its default
    p.ins(_LD, _arg(2) + 4)
    p.ins(_JEQ, 0, 0, 2)
    p.ins(_LD, _arg(2))
    p.ins(_JGE, PIPE_BYTES + 1, 0, 1)
    p.ret(_RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _futex(p):
    # A shared futex's key is the page it is on: on a file's page, every process mapping that file
    # shares it. Without FUTEX_PRIVATE_FLAG a wait returns at once (EAGAIN: the C library looks at
    # the word again) and a wake wakes nobody (0): correct, if busy, for process-shared locks.
    p.ins(_LD, _arg(1))
    p.returns_if(_JSET, FUTEX_PRIVATE_FLAG, _RET_ALLOW)
    p.ins(_AND, 0x7F)
    for wake in FUTEX_WAKES:
        p.returns_if(_JEQ, wake, _RET_ERRNO | 0)
    p.ret(_RET_ERRNO | EAGAIN)


def _clone(p):
    p.ins(_LD, _arg(0))
    p.returns_if(_JSET, CLONE_NEW | CLONE_PIDFD, _RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _setrlimit(p):
    p.ins(_LD, _arg(0))
    p.returns_if(_JEQ, RLIMIT_CPU, _RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _this_process(p):
    """Only for pid 0, the caller. prlimit and sched_setaffinity need only the same uid, and Landlock
    covers neither: an ordinary user's jail without a pid namespace set the limits of the grader."""
    p.ins(_LD, _arg(0))
    p.ins(_JEQ, 0, 1, 0)
    p.ret(_RET_ERRNO | EPERM)


def _prlimit64(p):  # this process's own; reading RLIMIT_CPU (no new limit given) stays allowed
    _this_process(p)
    p.ins(_LD, _arg(1))
    p.ins(_JEQ, RLIMIT_CPU, 0, 5)
    p.ins(_LD, _arg(2))
    p.ins(_JEQ, 0, 0, 2)
    p.ins(_LD, _arg(2) + 4)  # the pointer's high half
    p.ins(_JEQ, 0, 1, 0)
    p.ret(_RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _sched_setaffinity(p):
    _this_process(p)
    p.ret(_RET_ALLOW)


def _signal(index):
    def rule(p):
        p.ins(_LD, _arg(index))
        for sig in FATAL_FROM_OUTSIDE:
            p.returns_if(_JEQ, int(sig), _RET_ERRNO | EPERM)
        p.ret(_RET_ALLOW)

    return rule


def _rw_flags(p):  # preadv2/pwritev2(fd, iov, count, pos_low, pos_high, flags)
    p.ins(_LD, _arg(5))
    p.returns_if(_JSET, RWF_NOWAIT, _RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _madvise(p):
    p.ins(_LD, _arg(2))
    for advice in MADV_REFUSED:
        p.returns_if(_JEQ, advice, _RET_ERRNO | EPERM)
    p.ret(_RET_ALLOW)


def _only(index, allowed, refusal):
    def rule(p):
        p.ins(_LD, _arg(index))
        for value in allowed:
            p.returns_if(_JEQ, value, _RET_ALLOW)
        p.ret(_RET_ERRNO | refusal)

    return rule


_RULES = {
    "fcntl": _fcntl,
    "futex": _futex,
    "clone": _clone,
    "setrlimit": _setrlimit,
    "prlimit64": _prlimit64,
    "sched_setaffinity": _sched_setaffinity,
    **{name: _signal(index) for name, index in SIGNAL_ARG.items()},
    "preadv2": _rw_flags,
    "pwritev2": _rw_flags,
    "madvise": _madvise,
    "fallocate": _only(1, (0,), EOPNOTSUPP),  # what a file system without the mode answers
    "prctl": _only(0, PRCTL_ALLOWED, EPERM),
    "ioctl": _only(1, IOCTL_ALLOWED, ENOTTY),  # what a file that is no terminal answers
}


def install():
    """Install the filter on this thread (inherited by children). Needs no_new_privs. False if unsupported."""
    if not supported():
        return False
    code, count = program()
    buffer = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(count, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "seccomp filter refused")
    return True

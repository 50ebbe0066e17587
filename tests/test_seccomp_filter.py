"""The seccomp allowlist, read by a small BPF interpreter: what each architecture's program answers.

The jail's attack suites test the filter in the kernel on this machine's architecture;
this runs the very bytes `seccomp.program` assembles for x86_64 and for aarch64 (which
no test machine here runs) on chosen calls and arguments, as the kernel would.
"""

import struct

import pytest

from grader.sandbox import seccomp, syscalls

ALLOW, ERRNO = 0x7FFF0000, 0x00050000
ARCHES = {"x86_64": (0xC000003E, syscalls.X86_64), "aarch64": (0xC00000B7, syscalls.AARCH64)}


def run(code, arch, nr, args=()):
    """What the program returns for one call: the kernel's seccomp_data, then the instructions."""
    args = list(args) + [0] * (6 - len(args))
    data = struct.pack("<IIQ6Q", nr, arch, 0, *[a & 0xFFFFFFFFFFFFFFFF for a in args])
    program = [struct.unpack("<HBBI", code[i : i + 8]) for i in range(0, len(code), 8)]
    pc, acc = 0, 0
    while True:
        op, jt, jf, k = program[pc]
        pc += 1
        if op == 0x20:
            acc = struct.unpack_from("<I", data, k)[0]
        elif op == 0x54:
            acc &= k
        elif op == 0x05:
            pc += k
        elif op == 0x06:
            return k
        else:
            taken = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[op]
            pc += jt if taken else jf


@pytest.fixture(params=sorted(ARCHES))
def call(request):
    code, _ = seccomp.program(request.param)
    arch, numbers = ARCHES[request.param]

    def answer(name, *args):
        return run(code, arch, numbers[name] if isinstance(name, str) else name, args)

    answer.numbers = numbers
    return answer


def test_what_python_uses_runs_and_the_rest_is_refused(call):
    for name in ("read", "write", "openat", "mmap", "newfstatat", "exit_group", "rt_sigreturn", "getrandom"):
        assert call(name) == ALLOW, name
    x86 = {"socket": 41, "socketpair": 53, "memfd_create": 319, "flock": 73, "mincore": 27, "ptrace": 101}
    arm = {"socket": 198, "socketpair": 199, "memfd_create": 279, "flock": 32, "mincore": 232, "ptrace": 117}
    # What Landlock does not cover (a file's times) or covers only from ABI 3 (truncate by path).
    x86.update(utimensat=280, truncate=76)
    arm.update(utimensat=88, truncate=45)
    for name, nr in (x86 if call.numbers is syscalls.X86_64 else arm).items():
        assert call(nr) == ERRNO | seccomp.EPERM, name
    for nr in (447, 451, 424 - 1):  # memfd_secret, cachestat, and one the table does not name
        assert call(nr) == ERRNO | seccomp.EPERM
    assert call("clone3") == ERRNO | seccomp.ENOSYS  # the C library falls back to clone
    assert call(seccomp.NEWEST + 1) == ERRNO | seccomp.ENOSYS
    assert call(2**31) == ERRNO | (seccomp.EPERM if call.numbers is syscalls.X86_64 else seccomp.ENOSYS)


def test_a_foreign_abi_is_refused():
    code, _ = seccomp.program("x86_64")
    assert run(code, 0x40000003, 3) == ERRNO | seccomp.ENOSYS  # i386's read


def test_argument_rules(call):
    assert call("fcntl", 3, 1) == ALLOW  # F_GETFD
    for command in (5, 6, 7, 36, 37, 38, 1024, 1026, 8, 10):  # locks, leases, F_NOTIFY, F_SETOWN, F_SETSIG
        assert call("fcntl", 3, command) == ERRNO | seccomp.EPERM, command
    assert call("fcntl", 3, 1031, 4096) == ALLOW
    assert call("fcntl", 3, 1031, 65537) == ERRNO | seccomp.EPERM
    assert call("fcntl", 3, 1031, 1 << 32) == ERRNO | seccomp.EPERM
    assert call("futex", 0, 128) == ALLOW  # FUTEX_WAIT_PRIVATE
    assert call("futex", 0, 0) == ERRNO | seccomp.EAGAIN  # a shared wait: returns at once
    assert call("futex", 0, 1) == ERRNO | 0  # a shared wake: wakes nobody
    assert call("futex", 0, 9 | 256) == ERRNO | seccomp.EAGAIN  # FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME
    assert call("clone", 0x11) == ALLOW
    assert call("clone", 0x10000000 | 0x11) == ERRNO | seccomp.EPERM
    assert call("preadv2", 3, 0, 1, 0, 0, 0) == ALLOW
    assert call("preadv2", 3, 0, 1, 0, 0, 8) == ERRNO | seccomp.EPERM  # RWF_NOWAIT
    assert call("madvise", 0, 4096, 4) == ALLOW and call("madvise", 0, 4096, 21) == ERRNO | seccomp.EPERM
    assert call("prctl", 15) == ALLOW and call("prctl", 1, 9) == ERRNO | seccomp.EPERM
    assert call("ioctl", 1, 0x5401) == ALLOW and call("ioctl", 1, 0x5412) == ERRNO | seccomp.ENOTTY  # TIOCSTI
    assert call("kill", 5, 10) == ALLOW and call("kill", 5, 9) == ERRNO | seccomp.EPERM
    assert call("tgkill", 5, 5, 15) == ERRNO | seccomp.EPERM
    assert call("setrlimit", 0) == ERRNO | seccomp.EPERM and call("setrlimit", 7) == ALLOW
    assert call("prlimit64", 0, 0, 0, 0x7FF0) == ALLOW  # reading RLIMIT_CPU
    assert call("prlimit64", 0, 0, 0x1000, 0) == ERRNO | seccomp.EPERM
    assert call("prlimit64", 0, 7, 0x1000, 0) == ALLOW  # its own RLIMIT_NOFILE
    assert call("prlimit64", 4242, 7, 0, 0x7FF0) == ERRNO | seccomp.EPERM  # another process's
    assert call("ftruncate", 3, 0) == ALLOW
    assert call("sched_setaffinity", 0) == ALLOW and call("sched_setaffinity", 4242) == ERRNO | seccomp.EPERM

"""A seccomp filter: the system calls a submission never needs, refused by the kernel.

- socket(2) and io_uring: no socket of any family (TCP, UDP, unix, abstract, netlink),
  so nothing can be reached, whatever the network namespace holds. io_uring is refused
  because its operations (it can open sockets) are not seen by seccomp.
- kill-type calls carrying SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGQUIT or SIGSTOP: a
  sandbox never sends them, so a sandbox that dies of one was killed from outside (an
  administrator, the out-of-memory killer), and its student is not blamed for it.
- ptrace, cross-process memory, namespaces (unshare, setns, clone with CLONE_NEW*),
  keyrings, bpf, perf events, userfaultfd, mount, inotify and fanotify: kernel surface no
  exercise needs. clone3 answers ENOSYS, so the C library falls back to clone, whose
  flags are visible.
- memfd_create (memory that RLIMIT_AS does not count) and setting RLIMIT_CPU (whose hard
  limit is a SIGKILL from the kernel, which would pass for a kill from outside).

Architectures: x86_64 and aarch64; elsewhere `install` returns False (the layer is off).
Child-side module: standard library only.
"""

import ctypes
import platform
import signal
import struct

_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
# BPF opcodes: ld w abs, jeq k, jset k, jge k, ret k
_LD, _JEQ, _JSET, _JGE, _RET = 0x20, 0x15, 0x45, 0x35, 0x06
_ARCH_OFFSET, _NR_OFFSET = 4, 0


def _arg(index):  # low 32 bits of seccomp_data.args[index] (little-endian)
    return 16 + 8 * index


RLIMIT_CPU = 0
CLONE_NEW = 0x10000000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x00020000 | 0x02000000 | 0x00000080
FATAL_FROM_OUTSIDE = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGSTOP)

_TABLES = {
    "x86_64": {
        "arch": 0xC000003E,
        "x32": 0x40000000,
        "deny": {
            "socket": 41,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "unshare": 272,
            "setns": 308,
            "keyctl": 250,
            "add_key": 248,
            "request_key": 249,
            "bpf": 321,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "chroot": 161,
            "inotify_init": 253,
            "inotify_init1": 294,
            "fanotify_init": 300,
            "memfd_create": 319,
        },
        "enosys": {"clone3": 435},
        "clone": 56,
        "setrlimit": 160,
        "prlimit64": 302,
        "signals": {
            "kill": (62, 1),
            "tkill": (200, 1),
            "tgkill": (234, 2),
            "rt_sigqueueinfo": (129, 1),
            "rt_tgsigqueueinfo": (297, 2),
            "pidfd_send_signal": (424, 1),
        },
    },
    "aarch64": {
        "arch": 0xC00000B7,
        "x32": None,
        "deny": {
            "socket": 198,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "unshare": 97,
            "setns": 268,
            "keyctl": 219,
            "add_key": 217,
            "request_key": 218,
            "bpf": 280,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "chroot": 51,
            "inotify_init1": 26,
            "fanotify_init": 262,
            "memfd_create": 279,
        },
        "enosys": {"clone3": 435},
        "clone": 220,
        "setrlimit": 164,
        "prlimit64": 261,
        "signals": {
            "kill": (129, 1),
            "tkill": (130, 1),
            "tgkill": (131, 2),
            "rt_sigqueueinfo": (138, 1),
            "rt_tgsigqueueinfo": (240, 2),
            "pidfd_send_signal": (424, 1),
        },
    },
}


def supported():
    return platform.machine() in _TABLES


class _Program:
    """A tiny BPF assembler: forward jumps to labels, resolved at the end."""

    def __init__(self):
        self.code = []  # [op, jt, jf, k]; jt/jf may be label names

    def ins(self, op, k=0, jt=0, jf=0):
        self.code.append([op, jt, jf, k])

    def label(self, name):
        self.code.append(name)

    def assemble(self):
        where, out = {}, []
        for item in self.code:
            if isinstance(item, str):
                where[item] = len(out)
            else:
                out.append(item)
        packed = []
        for index, (op, jt, jf, k) in enumerate(out):
            jumps = [where[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf)]
            if not all(0 <= j <= 255 for j in jumps):
                raise ValueError("seccomp program: jump out of range")
            packed.append(struct.pack("<HBBI", op, jumps[0], jumps[1], k & 0xFFFFFFFF))
        return b"".join(packed), len(packed)


def program(machine=None):
    """The filter for this machine's architecture, as (bytes, instruction count)."""
    table = _TABLES[machine or platform.machine()]
    p = _Program()
    p.ins(_LD, _ARCH_OFFSET)
    p.ins(_JEQ, table["arch"], 0, "foreign")  # another ABI (i386 on x86_64) has other numbers: refused
    p.ins(_LD, _NR_OFFSET)
    if table["x32"]:
        p.ins(_JGE, table["x32"], "deny", 0)
    for nr in table["deny"].values():
        p.ins(_JEQ, nr, "deny", 0)
    for nr in table["enosys"].values():
        p.ins(_JEQ, nr, "enosys", 0)
    p.ins(_JEQ, table["clone"], "clone", 0)
    p.ins(_JEQ, table["setrlimit"], "setrlimit", 0)
    p.ins(_JEQ, table["prlimit64"], "prlimit64", 0)
    for name, (nr, _) in table["signals"].items():
        p.ins(_JEQ, nr, f"signal_{name}", 0)
    p.ins(_RET, _RET_ALLOW)
    p.label("clone")
    p.ins(_LD, _arg(0))
    p.ins(_JSET, CLONE_NEW, "deny", 0)
    p.ins(_RET, _RET_ALLOW)
    # RLIMIT_CPU may not be set: its hard limit ends in a SIGKILL from the kernel, which would
    # pass for a kill from outside. Reading it (prlimit64 with no new limit) stays allowed.
    p.label("setrlimit")
    p.ins(_LD, _arg(0))
    p.ins(_JEQ, RLIMIT_CPU, "deny", 0)
    p.ins(_RET, _RET_ALLOW)
    p.label("prlimit64")
    p.ins(_LD, _arg(1))
    p.ins(_JEQ, RLIMIT_CPU, 0, "allow")
    p.ins(_LD, _arg(2))
    p.ins(_JEQ, 0, 0, "deny")
    p.ins(_LD, _arg(2) + 4)  # the pointer's high half
    p.ins(_JEQ, 0, 0, "deny")
    p.label("allow")
    p.ins(_RET, _RET_ALLOW)
    for name, (_, index) in table["signals"].items():
        p.label(f"signal_{name}")
        p.ins(_LD, _arg(index))
        for sig in FATAL_FROM_OUTSIDE:
            p.ins(_JEQ, int(sig), "deny", 0)
        p.ins(_RET, _RET_ALLOW)
    p.label("deny")
    p.ins(_RET, _RET_ERRNO | EPERM)
    p.label("enosys")
    p.ins(_RET, _RET_ERRNO | ENOSYS)
    p.label("foreign")
    p.ins(_RET, _RET_ERRNO | ENOSYS)
    return p.assemble()


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

"""Landlock (Linux 5.13+): the kernel's unprivileged access control, called directly.

A process restricts itself with a ruleset: every handled access right is denied
except beneath the paths given a rule. The restriction is inherited by its
children and cannot be undone. What each ABI version adds (kernel docs,
include/uapi/linux/landlock.h):

    1 (5.13)  filesystem rights; ptrace only into the same domain
    2 (5.19)  REFER (link/rename across directories)
    3 (6.2)   TRUNCATE
    4 (6.7)   TCP bind and connect
    5 (6.10)  IOCTL_DEV
    6 (6.12)  scoping of abstract unix sockets and signals to the domain

Child-side module: imports only the standard library (it runs in the fork server).
"""

import ctypes
import os
import struct

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only rights a rule on a file may hold
READ = READ_FILE | READ_DIR
WRITE_TREE = (
    READ
    | WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_SYM
    | REFER
    | TRUNCATE
)
DEVICE = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV  # /dev/null: `open(os.devnull, "w")` truncates

_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}


def abi():
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        version = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def handled(version):
    """(filesystem, network, scope) rights this ABI version can deny."""
    fs = _FS_BY_ABI.get(version, _FS_BY_ABI[5]) if version >= 1 else 0
    net = NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0
    scope = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0
    return fs, net, scope


def restrict(rules, version):
    """Deny this process (and its future children) every handled right but `rules`.

    rules: (fd opened with O_PATH, allowed rights, is_dir) for each path hierarchy.
    Needs no_new_privs first (or CAP_SYS_ADMIN). Raises OSError when the kernel refuses.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    fs, net, scope = handled(version)
    attr = struct.pack("<QQQ", fs, net, scope)
    size = 8 if version < 4 else (16 if version < 6 else 24)
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.c_char_p(attr[:size]), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _error(libc, "landlock_create_ruleset")
    try:
        for fd, allowed, is_dir in rules:
            allowed &= fs if is_dir else fs & FILE_RIGHTS
            if not allowed:
                continue
            beneath = struct.pack("<Qi", allowed, fd)  # packed: 12 bytes
            if libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.c_char_p(beneath), ctypes.c_uint32(0)) < 0:
                raise _error(libc, "landlock_add_rule")
        if libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise _error(libc, "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _error(libc, what):
    errno = ctypes.get_errno()
    return OSError(errno, f"{what}: {os.strerror(errno)}")

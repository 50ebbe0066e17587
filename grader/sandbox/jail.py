"""The Linux jail of one submission: namespaces, its own /tmp, identity, limits, Landlock, seccomp.

Used by the fork server (forkserver.py) in three processes per sandbox:

- `enter_namespaces` (the keeper, forked from the server): new user (when not root),
  pid, network, ipc and mount namespaces, as bubblewrap and nsjail build them. The
  network namespace has no interface up: nothing to connect to, not even 127.0.0.1.
- `build_root` (the keeper, in the new mount namespace): a root of its own, an empty
  tmpfs holding read-only bind mounts of Python, numpy and the allowed packages, the
  device files, and a private tmpfs on /tmp (the submission's cwd and HOME,
  size-capped) and on /dev/shm: nothing else of the machine is there.
- `lock_down` (the worker that runs the learner's code): a uid of its own (when the
  grader is root), no capabilities in any set, no_new_privs, resource limits, the
  Landlock ruleset, then the seccomp filter. Everything it does is inherited by the
  processes the learner's code starts, and none of it can be undone.

Each step reports what took effect; the grader shows it (`grade doctor`) and refuses
to grade others' code when a layer is missing. Child-side module: standard library only.
"""

import ctypes
import errno
import os
import platform
import resource
import stat

from . import landlock, seccomp

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE, _PR_CAPBSET_DROP = 1, 4, 24
_PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
_PR_SET_CHILD_SUBREAPER = 36
_MNT_DETACH = 2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_CAPABILITY_VERSION_3 = 0x20080522
_LAST_CAP = 63  # PR_CAPBSET_DROP of an unknown capability fails harmlessly (EINVAL)

TMP_MB = 64  # the sandbox's /tmp
SHM_MB = 16
FILE_SIZE = 16 << 20  # largest file the learner's code may write (RLIMIT_FSIZE)
# Signals queued and not yet taken, for the whole jail (RLIMIT_SIGPENDING). In a user namespace they
# count against the user that made it too, up to that user's own limit: every jail of an ordinary user
# draws on one count, and one jail that filled it left the others none (tests/test_jail_counters.py).
PENDING_SIGNALS = 64
OPEN_FILES = 256

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def prctl(option, arg=0):
    return libc().prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def die_with_parent(sig=9):
    """This process gets `sig` (SIGKILL by default) when its parent thread dies."""
    prctl(_PR_SET_PDEATHSIG, int(sig))


def set_subreaper():
    prctl(_PR_SET_CHILD_SUBREAPER, 1)


def not_dumpable():
    prctl(_PR_SET_DUMPABLE, 0)


# -- namespaces ------------------------------------------------------------------------------
def enter_namespaces(as_root):
    """Unshare what this kernel allows; returns the namespaces made (names).

    The user namespace comes first when not root: it gives the capabilities needed to
    make the others, over objects it owns only. Its one uid and gid map to our own.
    """
    uid, gid = os.getuid(), os.getgid()
    made = []
    wanted = [("mount", CLONE_NEWNS), ("pid", CLONE_NEWPID), ("network", CLONE_NEWNET), ("ipc", CLONE_NEWIPC)]
    if not as_root:
        if libc().unshare(CLONE_NEWUSER) != 0:
            return made
        made.append("user")
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError:
            return made
    flags = sum(flag for _, flag in wanted)
    if libc().unshare(flags) == 0:
        return made + [name for name, _ in wanted]
    for name, flag in wanted:  # a restricted kernel may refuse some: take what it gives
        if libc().unshare(flag) == 0:
            made.append(name)
    return made


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _mount(source, target, fstype, flags, data=None):
    def encode(text):
        return text.encode() if text is not None else None

    _check(
        libc().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def build_root(owner, binds, masks, inner, links, devices):
    """Give this mount namespace a root of its own, as bubblewrap does; returns the scratch (/tmp).

    The new root is an empty tmpfs holding, at their own paths, read-only bind mounts of
    `binds` (the Python installation, numpy and the allowed packages, the shared libraries;
    readable.root_plan) with empty read-only tmpfs over `masks` (the site-packages within them)
    and `inner` bound back into those, the symbolic links in `links`, the devices in `devices`, and
    the jail's own /tmp (its cwd and HOME, `TMP_MB`) and /dev/shm, both tmpfs owned by
    `owner`. Nothing else of the machine is there: not $HOME, not the class directory, not
    /proc, not a unix socket, so no file outside can be read, written, chmod-ed or watched.
    """
    # Opened in this mount namespace (a bind's source must be in it), before any mount hides them.
    sources = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in [*binds, *devices]]
    inside = [(path, os.open(path, os.O_PATH | os.O_CLOEXEC)) for path in inner]
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing mounted here propagates back to the host
    new = "/tmp"  # where the new root is built: a mount point in this namespace only
    _mount("tmpfs", new, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m,nr_inodes=4096")
    gid = os.getgid() if owner == os.getuid() else owner
    _makedirs(new + "/tmp")
    _mount(
        "tmpfs",
        new + "/tmp",
        "tmpfs",
        _MS_NOSUID | _MS_NODEV,
        f"mode=0700,uid={owner},gid={gid},size={TMP_MB}m,nr_inodes=4096",
    )
    _makedirs(new + "/dev/shm")
    _mount(
        "tmpfs",
        new + "/dev/shm",
        "tmpfs",
        _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
        f"mode=0700,uid={owner},gid={gid},size={SHM_MB}m,nr_inodes=1024",
    )
    for path, fd in sources:
        _bind(fd, new + path, read_only=path not in devices)  # a device on a read-only mount cannot be written
    # Parents first (sorted paths): a mask, the allowed paths inside it, a mask inside one of those...
    for path, fd in sorted([*((mask, None) for mask in masks), *inside], key=lambda item: item[0]):
        if fd is None:
            _mount("tmpfs", new + path, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=64k")
        else:
            _bind(fd, new + path)
    for mask in masks:
        _mount(None, new + mask, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    for link, target in links:
        if not os.path.lexists(new + link):
            _makedirs(os.path.dirname(new + link))
            os.symlink(target, new + link)
    os.chdir(new)
    _check(libc().syscall(_SYS_PIVOT_ROOT[platform.machine()], b".", b"."), "pivot_root")
    _check(libc().umount2(b".", _MNT_DETACH), "umount the old root")  # the old root is stacked under the new
    os.chdir("/")
    _mount(None, "/", None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    return "/tmp"


def _bind(fd, target, read_only=True):
    """Bind what `fd` (O_PATH) names at `target`, made as a directory or a file to mount it on."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        _makedirs(target)
    else:  # a file (a single-file module, a device, /etc/ld.so.cache)
        _makedirs(os.path.dirname(target))
        if not os.path.exists(target):
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    _mount(f"/proc/self/fd/{fd}", target, None, _MS_BIND | _MS_REC)
    os.close(fd)
    if read_only:
        _mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def _makedirs(path):
    """Mount points others may pass through (a umask may not narrow them)."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        os.mkdir(directory)
        os.chmod(directory, 0o755)


# -- the worker: identity, limits, Landlock, seccomp ---------------------------------------------
def lock_down(baseline, uid, memory_bytes, processes, scratch, read_rules, landlock_abi, use_seccomp=True):
    """Make this process the learner's: returns the layers that took effect (a dict).

    baseline: this process's virtual memory size, which the memory cap adds to (virtual_memory,
    read before the jail's root hid /proc).
    uid: the uid to become (root grader), or None to keep ours (inside a user namespace).
    processes: RLIMIT_NPROC, or None when it would count the instructor's own processes.
    read_rules: [(O_PATH fd, rights, is_dir)] for everything outside `scratch`.
    """
    layers = {}
    if uid is not None:
        _drop_bounding_set()
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        layers["uid"] = uid
    else:
        _drop_bounding_set()  # inside a user namespace we hold CAP_SETPCAP over it
    prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    _clear_capabilities()
    layers["capabilities"] = _capabilities_left()
    die_with_parent()  # a change of uid clears it: set it again
    _check(prctl(_PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    layers["no_new_privs"] = True
    layers["landlock"] = 0
    if landlock_abi >= 1:
        scratch_fd = os.open(scratch, os.O_PATH | os.O_CLOEXEC)
        try:
            landlock.restrict([*read_rules, (scratch_fd, landlock.WRITE_TREE, True)], landlock_abi)
            layers["landlock"] = landlock_abi
        finally:
            os.close(scratch_fd)
    # Last: the ruleset needs descriptors of its own, beyond the open-files limit.
    limits = [
        (resource.RLIMIT_AS, baseline + memory_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, FILE_SIZE),
        (resource.RLIMIT_NOFILE, OPEN_FILES),
        (resource.RLIMIT_RTPRIO, 0),  # not the grader's scheduling privileges, if it had any
        (resource.RLIMIT_NICE, 0),
        (resource.RLIMIT_SIGPENDING, PENDING_SIGNALS),
    ]
    if processes is not None:
        limits.append((resource.RLIMIT_NPROC, processes))
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    layers["processes_cap"] = processes
    layers["seccomp"] = seccomp.install() if use_seccomp else False
    return layers


def _drop_bounding_set():
    for cap in range(_LAST_CAP + 1):
        if prctl(_PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() == errno.EINVAL:
            break  # past the last capability this kernel knows


def _clear_capabilities():
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all zero, both words
    _check(libc().capset(header, data), "capset")


def _capabilities_left():
    """The number of capabilities left in any set (0 is the goal), read from the kernel."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc().capget(header, data) != 0:
        return None
    bits = sum(bin(word).count("1") for word in data)
    bounding = sum(1 for cap in range(_LAST_CAP + 1) if prctl(23, cap) == 1)  # PR_CAPBSET_READ
    return bits + bounding


def virtual_memory():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")

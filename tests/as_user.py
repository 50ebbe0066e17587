"""Run a command as an ordinary user, for the tests that attack the sandbox as one (run by root).

    python tests/as_user.py USER COMMAND...     (GRADE_TEST_OPEN=DIR:DIR for more directories)

Python, the virtual environment or the checkout may live under a directory the user
may not enter (/root/.pyenv on the test machines). So the command runs in a private
mount namespace where each such directory is an empty tmpfs holding read-only bind
mounts of just those paths; the user sees nothing else of it. Then this process
becomes the user (no capabilities left) and executes the command.
"""

import ctypes
import os
import pwd
import sys

_CLONE_NEWNS = 0x00020000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    def encode(text):
        return text.encode() if text is not None else None

    if _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target}: {os.strerror(number)}")


def _closed_top(path):
    """The highest ancestor of `path` that others may not enter, or None."""
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


def open_up(paths):
    """Make each path reachable by others in this (private) mount namespace."""
    tops = {}
    paths = {os.path.realpath(p) for p in paths if os.path.exists(p)}
    for path in {p for p in paths if not any(p.startswith(q + "/") for q in paths)}:  # outermost only
        top = _closed_top(path)
        if top:
            tops.setdefault(top, set()).add(path)
    for top, inside in tops.items():
        sources = [(path, os.open(path, os.O_PATH)) for path in sorted(inside)]
        _mount("tmpfs", top, "tmpfs", 0, "mode=0755,size=64k")
        for path, fd in sources:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "w").close()
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
            os.close(fd)


def main():
    user, command = sys.argv[1], sys.argv[2:]
    entry = pwd.getpwnam(user)
    if _libc.unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Also the command's own files, and what GRADE_TEST_OPEN names (colon-separated): test directories.
    extra = [arg for arg in command if os.path.isabs(arg) and os.path.exists(arg)]
    extra += [p for p in os.environ.get("GRADE_TEST_OPEN", "").split(":") if p]
    open_up(
        [
            sys.base_prefix,
            sys.prefix,
            os.path.realpath(sys.executable),
            here,
            *[p for p in sys.path if p and os.path.isdir(p)],
            *extra,
        ]
    )
    os.setgroups([])
    os.setresgid(entry.pw_gid, entry.pw_gid, entry.pw_gid)
    os.setresuid(entry.pw_uid, entry.pw_uid, entry.pw_uid)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SUDO_", "XDG_"))}
    env.update(HOME=entry.pw_dir, USER=user, LOGNAME=user)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()

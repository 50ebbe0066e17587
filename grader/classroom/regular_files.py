"""Read a submission from a class folder without following a symbolic link anywhere below it.

A class folder comes from strangers (an LMS export, a zip of student uploads): a link
in it could make the grader read /etc/shadow into a feedback file, or grade a
classmate's work under another name. Each path component below the class directory
is opened relative to its parent with O_NOFOLLOW, so a link swapped in after the
folder was listed is refused as well; only a regular file is read.
"""

import errno
import os
import stat
from pathlib import Path

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in must not block the open


class NotRegularFile(Exception):
    """The path is a symbolic link, or leads through one, or is not a regular file: never read."""


def read_regular_file(root, relative, limit):
    """The bytes of root/relative, a regular file reached from `root` through real directories only;
    at most limit + 1 of them (more than `limit` says it is too large, without holding it all).

    Raises NotRegularFile (with the reason) or OSError (it could not be read).
    `root` itself is the instructor's choice and may be reached through links.
    """
    parts = Path(relative).parts
    if not parts or Path(relative).is_absolute() or ".." in parts:
        raise NotRegularFile(f"{relative} is not inside the class directory")
    if os.open not in os.supports_dir_fd or not _NOFOLLOW:
        return _read_checked_by_path(Path(root), parts, limit)
    fd = os.open(root, os.O_RDONLY | _DIRECTORY)
    try:
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            flags = os.O_RDONLY | _NOFOLLOW | (_NONBLOCK if last else _DIRECTORY)
            try:
                inner = os.open(part, flags, dir_fd=fd)
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK) and _is_link(part, fd):
                    raise _link(parts[: depth + 1]) from None
                raise
            # The name is moved before the close: a Ctrl-C between the two must not close it twice
            # (the second close failed with EBADF, an OSError that hid the KeyboardInterrupt, and
            # could have closed a descriptor another thread had just opened).
            parent, fd = fd, inner
            os.close(parent)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"{Path(*parts)} is not a regular file: submissions must be regular files")
        owned, fd = fd, None  # the file object closes it from here on, and only it
        with os.fdopen(owned, "rb") as handle:
            return handle.read(limit + 1)
    finally:
        if fd is not None:
            os.close(fd)


def _is_link(name, dir_fd):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _link(parts):
    return NotRegularFile(f"{Path(*parts)} is a symbolic link: submissions must be regular files")


def _read_checked_by_path(root, parts, limit):
    """Where openat is missing: check each component with lstat, then open the file without following it."""
    path = root
    for depth, part in enumerate(parts):
        path = path / part
        if path.is_symlink():
            raise _link(parts[: depth + 1])
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise NotRegularFile(f"{Path(*parts)} is not a regular file: submissions must be regular files")
        return handle.read(limit + 1)

"""The names of a student's output files (feedback/<student>.txt, results/<student>.json...).

A student id is a file's stem: any bytes a file name holds (os.fsdecode keeps those that are
not UTF-8 as surrogates, which os.fsencode gives back), up to the file system's 255 bytes less
the suffix. With ".json" or ".txt" after it such a name can be too long: it is then cut, and a
digest of the whole id keeps two long ids apart.
"""

import hashlib
import os

NAME_BYTES = 255  # the longest file name on Linux, macOS and Windows file systems (in bytes or UTF-16 units)
_ROOM = NAME_BYTES - len(".ipynb")  # the longest suffix a student's file gets (.json, .txt are shorter)


def file_stem(student):
    """STUDENT as the stem of a file name: itself when it fits, else its first bytes and a digest."""
    try:
        raw = os.fsencode(student)
    except UnicodeEncodeError:  # a surrogate no byte stands for (not from a file name): its UTF-8, escaped
        raw = student.encode("utf-8", "backslashreplace")
    if len(raw) <= _ROOM and b"/" not in raw and b"\0" not in raw:
        return student
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return os.fsdecode(raw[: _ROOM - len(digest) - 1].replace(b"/", b"_").replace(b"\0", b"_") + b"~" + digest.encode())

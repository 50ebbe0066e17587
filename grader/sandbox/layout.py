"""This interpreter's layout and what the jail lets a submission read, for `grade doctor`; and the one
line said when the jail cannot start on this Python.

The jail derives what it may read from the running interpreter (readable.derive, in the fork
server); this module only shows it. It imports no numpy.
"""

import os
import platform
import sys
import sysconfig

SUPPORTED = "see 'Supported Pythons' in docs/developing.md"
# How the one line of a jail that cannot start begins (Gradescope's runner tells it from other failures by it).
CANNOT_START = "the sandbox cannot start with this Python"


def interpreter():
    """[(what, value)]: where this Python keeps its parts, as sys and sysconfig say."""
    try:
        paths = sysconfig.get_paths()
    except Exception as error:  # a broken or foreign sysconfig: doctor still reports the rest
        paths = dict.fromkeys(("stdlib", "platstdlib", "purelib", "platlib"), f"(sysconfig cannot say: {error!r})")
    rows = [
        (
            "python",
            f"{os.path.realpath(sys.executable)} ({platform.python_implementation()} {platform.python_version()})",
        ),
        (
            "prefix",
            sys.prefix
            if sys.prefix == sys.base_prefix
            else f"{sys.prefix} (a virtual environment of {sys.base_prefix})",
        ),
    ]
    rows += [(key, paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib")]
    return rows


def readable_rows(allowed):
    """[(what, path)]: what the fork server derived (readable.derive): read, or hidden beneath."""
    from .readable import PACKAGE_DIRECTORIES, SYSTEM_DIRECTORIES

    rows = [("stdlib", path) for path in allowed["python_dirs"]]
    rows += [("package", path) for path in allowed["packages"]]
    by_directory = {}
    for library in allowed["libraries"]:
        by_directory.setdefault(os.path.dirname(library), []).append(library)
    rows += [
        ("libraries", f"{directory} ({len(files)} loaded with numpy)") for directory, files in by_directory.items()
    ]
    rows += [("ld.so", path) for path in SYSTEM_DIRECTORIES if os.path.exists(path)]
    rows += [("hidden", path) for path in allowed["hidden"] if os.path.exists(path)]
    rows += [("hidden", f"any {' or '.join(PACKAGE_DIRECTORIES)} directory (but the allowed packages)")]
    return rows


def lines(backend):
    """The doctor's listing: the interpreter, then what a submission may read (a jail's fork server)."""
    out = ["this Python:"] + [f"  {what:<10} {value}" for what, value in interpreter()]
    if backend != "linux":
        return out + ["the portable backend has no jail: a submission reads what your account can"]
    from .server import server

    allowed = server().ready().get("allowed")
    if not allowed:
        return out
    out.append("what a submission may read (nothing else, and nothing 'hidden' below these):")
    return out + [f"  {what:<10} {path}" for what, path in readable_rows(allowed)]


def cannot_start(error):
    """The one line said when the jail cannot start: its cause, on which Python, and what to do."""
    cause = " ".join(str(error).split())
    return (
        f"{CANNOT_START} ({sys.executable}, Python {platform.python_version()} "
        f"from {sys.base_prefix}): {cause}. Run `grade doctor` to see what the jail lets a submission read, "
        f"and {SUPPORTED}; to check your own code meanwhile, set GRADE_SANDBOX=portable"
    )

"""What a submission may read: Python's standard library, numpy and the allowed packages, the
shared libraries they load, and a few device files. Nothing else.

The grader names the roots and what must stay hidden beneath them (site-packages,
which hold the grader itself and whatever else the instructor installed; the grader's
own source). Landlock has no "deny" rule, so a root that holds a hidden path is not
granted whole: its entries are granted one by one, except the one on the way to the
hidden path, recursively (`grant_except`).

Child-side module: standard library only.
"""
import os
import re

from .landlock import DEVICE, READ, READ_FILE

# Where dynamic libraries live (ld.so's default and multiarch directories), and the few
# system files a Python that imports an extension module or a time zone reads.
SYSTEM_DIRECTORIES = ("/lib", "/lib64", "/lib32", "/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/local/lib",
                      "/usr/share/zoneinfo")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
DEVICES = {"/dev/null": DEVICE, "/dev/zero": READ_FILE, "/dev/urandom": READ_FILE, "/dev/random": READ_FILE}
_PACKAGE_DIRECTORIES = ("site-packages", "dist-packages")
_PYTHON_DIRECTORY = re.compile(r"python\d(\.\d+)?$")


def package_paths(names):
    """The directories (or single-file modules) of the importable packages among `names`,
    with the shared libraries their wheels vendor beside them (auditwheel's `<name>.libs`)."""
    import importlib.util

    found = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        locations = list(spec.submodule_search_locations or ([spec.origin] if spec.origin else []))
        for location in locations:
            found.append(location)
            libs = os.path.join(os.path.dirname(location.rstrip("/")), f"{name}.libs")
            if os.path.isdir(libs):
                found.append(libs)
    return found


def rules(python_dirs, package_paths, hidden):
    """[(path, rights)]: everything the sandbox may read.

    python_dirs: the standard library's directories (their site-packages stay hidden).
    package_paths: directories (or single-file modules) of the packages a submission may import.
    hidden: paths that must not be readable even where a root above them is granted.
    """
    hidden = {os.path.realpath(path) for path in hidden}
    granted = []
    for root in SYSTEM_DIRECTORIES:  # another Python's library there is not ours to read
        granted.extend((path, READ) for path in grant_except(root, hidden, other_pythons=True))
    for root in python_dirs:
        granted.extend((path, READ) for path in grant_except(root, hidden))
    granted.extend((path, READ) for path in package_paths if os.path.exists(path))
    granted.extend((path, READ_FILE) for path in SYSTEM_FILES if os.path.exists(path))
    granted.extend((path, rights) for path, rights in DEVICES.items() if os.path.exists(path))
    seen, unique = set(), []
    for path, rights in granted:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append((real, rights))
    return unique


def grant_except(root, hidden, other_pythons=False):
    """Paths that together cover `root` minus every hidden path and package directory beneath it
    (and, with other_pythons, minus every python3.X directory: another installation's library)."""
    root = os.path.realpath(root)
    if not os.path.exists(root) or _is_hidden(root, hidden):
        return []
    if not os.path.isdir(root) or not _holds_hidden(root, hidden):
        return [root]
    granted = []
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    for name in entries:
        path = os.path.join(root, name)
        if (other_pythons and _PYTHON_DIRECTORY.match(name)) or os.path.islink(path):
            continue  # a link is followed to its target, which may be anything: only what is here counts
        granted.extend(grant_except(path, hidden, other_pythons))
    return granted


def _is_hidden(path, hidden):
    return path in hidden or os.path.basename(path) in _PACKAGE_DIRECTORIES


def _holds_hidden(directory, hidden):
    """Whether a hidden path or a package directory lies beneath `directory`."""
    prefix = directory.rstrip("/") + "/"
    if any(path.startswith(prefix) for path in hidden):
        return True
    # Python installations keep their package directories a level down: lib/python3.X/site-packages.
    if _PYTHON_DIRECTORY.match(os.path.basename(directory)):
        return True
    try:
        return any(name in _PACKAGE_DIRECTORIES or _PYTHON_DIRECTORY.match(name) for name in os.listdir(directory))
    except OSError:
        return False


def skeletons(paths):
    """For a grader running as root: the directories the sandbox's own uid could not enter.

    paths: the allowed roots (the standard library's directories, the packages), not
    their expansion: one bind mount each. Returns [(top, [allowed paths beneath it])],
    `top` being the highest ancestor of an allowed path that others may not search
    (no o+x), e.g. /root for /root/.pyenv/versions/3.11.7/lib/python3.11.
    """
    paths = {os.path.realpath(path) for path in paths if os.path.exists(path)}
    paths = [path for path in paths if not any(path.startswith(other + "/") for other in paths)]  # outermost
    tops = {}
    for path in paths:
        top = _first_closed_ancestor(path)
        if top is not None:
            tops.setdefault(top, []).append(path)
    # A top beneath another top is covered by the outer one.
    outer = sorted(tops, key=len)
    merged = {}
    for top in outer:
        parent = next((t for t in merged if top.startswith(t.rstrip("/") + "/")), None)
        merged.setdefault(parent or top, []).extend(tops[top])
    return [(top, sorted(set(paths))) for top, paths in merged.items()]


def _first_closed_ancestor(path):
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        try:
            if not os.stat(ancestor).st_mode & 0o001:
                return ancestor
        except OSError:
            return None
    return None

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
SYSTEM_DIRECTORIES = (
    "/lib",
    "/lib64",
    "/lib32",
    "/usr/lib",
    "/usr/lib64",
    "/usr/lib32",
    "/usr/local/lib",
    "/usr/share/zoneinfo",
)
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
DEVICES = {"/dev/null": DEVICE, "/dev/zero": READ_FILE, "/dev/urandom": READ_FILE, "/dev/random": READ_FILE}
_PACKAGE_DIRECTORIES = ("site-packages", "dist-packages")
_PYTHON_DIRECTORY = re.compile(r"python\d(\.\d+)?$")


def package_paths(names):
    """The directories (or single-file modules) of the importable packages among `names`,
    with the shared libraries wheels vendor beside them (auditwheel's `<distribution>.libs`:
    `pillow.libs` serves PIL), which hold no Python code."""
    import importlib.util

    found, parents = [], []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        for location in spec.submodule_search_locations or ([spec.origin] if spec.origin else []):
            found.append(location)
            parent = os.path.dirname(location.rstrip("/"))
            if parent not in parents:
                parents.append(parent)
    for parent in parents:
        try:
            found += [os.path.join(parent, entry) for entry in sorted(os.listdir(parent)) if entry.endswith(".libs")]
        except OSError:
            continue
    return found


def rules(python_dirs, package_paths, hidden):
    """[(path, rights)]: everything the sandbox may read.

    python_dirs: the standard library's directories (their site-packages stay hidden).
    package_paths: directories (or single-file modules) of the packages a submission may import.
    hidden: paths that must not be readable even where a root above them is granted.
    """
    hidden = {os.path.realpath(path) for path in hidden}
    granted = []  # the walks give real paths already (a real root, no link followed beneath it)
    for root in SYSTEM_DIRECTORIES:  # another Python's library there is not ours to read
        granted.extend((path, READ) for path in grant_except(root, hidden, other_pythons=True))
    for root in python_dirs:
        granted.extend((path, READ) for path in grant_except(root, hidden))
    granted.extend((os.path.realpath(path), READ) for path in package_paths if os.path.exists(path))
    granted.extend((os.path.realpath(path), READ_FILE) for path in SYSTEM_FILES if os.path.exists(path))
    granted.extend((os.path.realpath(path), rights) for path, rights in DEVICES.items() if os.path.exists(path))
    seen, unique = set(), []
    for path, rights in granted:
        if path not in seen:
            seen.add(path)
            unique.append((path, rights))
    return unique


def grant_except(root, hidden, other_pythons=False):
    """Paths that together cover `root` minus every hidden path and package directory beneath it
    (and, with other_pythons, minus every python3.X directory: another installation's library)."""
    return _split(root, hidden, other_pythons)[0]


def masked(root, hidden, other_pythons=False):
    """The directories beneath `root` that grant_except leaves out (a jail's root covers them)."""
    return [path for path in _split(root, hidden, other_pythons)[1] if os.path.isdir(path)]


_WALKS = {}  # (root, hidden, other_pythons) -> (granted, left out): rules and root_plan walk the same trees


def _split(root, hidden, other_pythons):
    """(granted, left out): the walk behind grant_except and masked."""
    key = (root, frozenset(hidden), other_pythons)
    if key not in _WALKS:
        real = os.path.realpath(root)
        _WALKS[key] = _walk(real, hidden, other_pythons, os.path.isdir(real)) if os.path.exists(real) else ([], [])
    return _WALKS[key]


def _walk(path, hidden, other_pythons, is_dir):
    if _is_hidden(path, hidden):
        return [], [path]
    if not is_dir:
        return [path], []
    try:
        entries = sorted(os.scandir(path), key=lambda entry: entry.name)  # d_type: no stat per entry
    except OSError:
        return [], []
    if not _holds_hidden(path, hidden, [entry.name for entry in entries]):
        return [path], []
    granted, left = [], []
    for entry in entries:
        if entry.is_symlink():
            continue  # a link is followed to its target, which may be anything: only what is here counts
        if other_pythons and _PYTHON_DIRECTORY.match(entry.name):
            left.append(entry.path)
            continue
        more, less = _walk(entry.path, hidden, other_pythons, entry.is_dir(follow_symlinks=False))
        granted += more
        left += less
    return granted, left


def _is_hidden(path, hidden):
    return path in hidden or os.path.basename(path) in _PACKAGE_DIRECTORIES


def _holds_hidden(directory, hidden, names):
    """Whether a hidden path or a package directory lies beneath `directory` (whose entries are `names`)."""
    prefix = directory.rstrip("/") + "/"
    if any(path.startswith(prefix) for path in hidden):
        return True
    # Python installations keep their package directories a level down: lib/python3.X/site-packages.
    if _PYTHON_DIRECTORY.match(os.path.basename(directory)):
        return True
    return any(name in _PACKAGE_DIRECTORIES or _PYTHON_DIRECTORY.match(name) for name in names)


def root_plan(python_dirs, package_paths, hidden):
    """What a jail's own root holds (jail.build_root), as a dict:

    binds: the outermost allowed paths, bound read-only at their own places;
    masks: the directories inside them that `rules` leaves out (site-packages, another Python's
        library, the grader), each covered by an empty read-only tmpfs, so that even without
        Landlock the jail cannot see what they hold;
    inner: the allowed packages that live inside a mask (numpy in site-packages), bound back;
    links: symbolic links to recreate (/lib -> usr/lib on a merged /usr); devices: /dev/null...
    """
    hidden = {os.path.realpath(path) for path in hidden}
    links, roots = {}, set()
    for path in [*SYSTEM_DIRECTORIES, *python_dirs, *package_paths, *SYSTEM_FILES]:
        if not os.path.exists(path):
            continue
        if os.path.islink(path):
            links[path] = os.readlink(path)
        roots.add(os.path.realpath(path))
    binds = sorted(path for path in roots if not _beneath_any(path, roots))
    masks = set()
    for root in SYSTEM_DIRECTORIES:
        masks.update(masked(root, hidden, other_pythons=True))
    for root in python_dirs:
        masks.update(masked(root, hidden))
    masks = sorted(mask for mask in masks if _beneath_any(mask, binds) and not _beneath_any(mask, masks))
    packages = {os.path.realpath(path) for path in package_paths if os.path.exists(path)}
    inner = sorted(path for path in packages if _beneath_any(path, masks))
    devices = [path for path in DEVICES if os.path.exists(path)]
    return {"binds": binds, "masks": masks, "inner": inner, "links": sorted(links.items()), "devices": devices}


def _beneath_any(path, others):
    return any(path.startswith(other.rstrip("/") + "/") for other in others)


def unreachable(paths):
    """The allowed paths another uid could not reach on this file system (an ancestor without o+x,
    such as /root for /root/.pyenv): a root grader's jail needs its own root to read them."""
    return [path for path in paths if os.path.exists(path) and _first_closed_ancestor(os.path.realpath(path))]


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

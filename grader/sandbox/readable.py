"""What a submission may read: this interpreter's standard library, numpy and the allowed packages,
the shared libraries they load, and a few device files. Nothing else.

Every allowed path is derived from the running interpreter, never guessed from a directory's
name (Debian keeps its standard library in /usr/lib/python3.X, Fedora in /usr/lib64/python3.X,
conda in /opt/conda/lib/python3.X): the standard library is where sysconfig and the fork
server's own start-up `sys.path` (a `python -I -S`: nothing but the interpreter's own entries)
say it is; the packages are where the import system finds them; the shared libraries are those
the fork server has mapped once numpy is imported (/proc/self/maps). What must stay hidden
beneath them is derived too (the grader's source, the site directories this interpreter knows
of, every `sys.path` entry that `site` added), and, as a safety net for other installations'
packages, any directory named site-packages or dist-packages.

Landlock has no "deny" rule, so a root that holds a hidden path is not granted whole: its
entries are granted one by one, except the one on the way to the hidden path, recursively
(`grant_except`).

Child-side module: standard library only.
"""

import os
import re

from .landlock import DEVICE, READ, READ_FILE

# The dynamic linker's default and multiarch directories (ld.so reads them for any extension module
# a submission imports lazily: _ssl, _lzma, ctypes' libc), and the few system files it and a time zone need.
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
PACKAGE_DIRECTORIES = ("site-packages", "dist-packages")
# Where to look for package directories (lib/python3.X/site-packages, lib/python3/dist-packages): a
# directory so named is searched entry by entry. The name never grants nor hides anything by itself.
_PYTHON_DIRECTORY = re.compile(r"python\d(\.\d+)?$")
_ELF = b"\x7fELF"


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


def derive(config, startup, maps="/proc/self/maps"):
    """What the jail may read and what stays hidden beneath it, from this interpreter (a dict).

    config: the grader's word (server._config): `python_dirs` (sysconfig's stdlib and platstdlib),
        `path` (the grader's sys.path, put before ours to import numpy), `site_dirs` (every site
        directory this interpreter knows of), `hidden` (the grader's source, the home directory),
        `packages` (the names a submission may import).
    startup: this process's own sys.path as `python -I -S` began it: the interpreter's entries only.
    maps: where to read the mapped files from (this process's own).
    Call it once numpy is imported: its shared libraries are among those read from /proc/self/maps.
    """
    own = [entry for entry in startup if entry and os.path.exists(entry)]
    python_dirs = list(dict.fromkeys([*config["python_dirs"], *own]))
    # What site added to the grader's sys.path (site-packages, .pth entries, an editable checkout)
    # holds packages: hidden, but for the allowed ones.
    added = [entry for entry in config["path"] if entry not in own]
    kept = {os.path.realpath(path) for path in python_dirs}
    hidden = sorted(
        path for path in {*config["hidden"], *config.get("site_dirs", ()), *added} if os.path.realpath(path) not in kept
    )
    return {
        "python_dirs": python_dirs,
        "packages": package_paths(config["packages"]),
        "libraries": loaded_libraries(maps),
        "hidden": hidden,
    }


def loaded_libraries(maps="/proc/self/maps"):
    """The real paths of the shared libraries this process has mapped (numpy's BLAS, libpython, libffi),
    from `maps`; the interpreter's own executable is not one (its directory is /usr/bin or a venv's bin)."""
    import sys

    executable = os.path.realpath(sys.executable) if sys.executable else None
    found = []
    try:
        with open(maps) as lines:
            for line in lines:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    path = fields[5].rstrip("\n")
                    if path not in found and path != executable:
                        found.append(path)
    except OSError:
        return []
    return [path for path in found if _is_elf(path)]


def _is_elf(path):
    try:
        with open(path, "rb") as file:
            return file.read(4) == _ELF
    except OSError:
        return False


def rules(python_dirs, packages, hidden, libraries=()):
    """[(path, rights)]: everything the sandbox may read.

    python_dirs: the standard library's directories (their package directories stay hidden).
    packages: directories (or single-file modules) of the packages a submission may import.
    hidden: paths that must not be readable even where a root above them is granted.
    libraries: shared libraries the fork server loaded: each file, and its directory (minus what is hidden).
    """
    hidden = {os.path.realpath(path) for path in hidden}
    granted = []  # the walks give real paths already (a real root, no link followed beneath it)
    for root in walked_roots(python_dirs, libraries):
        granted.extend((path, READ) for path in grant_except(root, hidden))
    granted.extend((os.path.realpath(path), READ) for path in packages if os.path.exists(path))
    files = [*libraries, *SYSTEM_FILES]
    granted.extend((os.path.realpath(path), READ_FILE) for path in files if os.path.exists(path))
    granted.extend((os.path.realpath(path), rights) for path, rights in DEVICES.items() if os.path.exists(path))
    seen, unique = set(), []
    for path, rights in granted:
        if path not in seen:
            seen.add(path)
            unique.append((path, rights))
    return unique


def walked_roots(python_dirs, libraries):
    """The directories granted minus what is hidden beneath them: ld.so's, the standard library's,
    and those of the loaded shared libraries."""
    roots = [*SYSTEM_DIRECTORIES, *python_dirs, *(os.path.dirname(path) for path in libraries)]
    return list(dict.fromkeys(roots))


def grant_except(root, hidden):
    """Paths that together cover `root` minus every hidden path and package directory beneath it."""
    return _split(root, hidden)[0]


def masked(root, hidden):
    """The directories beneath `root` that grant_except leaves out (a jail's root covers them)."""
    return [path for path in _split(root, hidden)[1] if os.path.isdir(path)]


_WALKS = {}  # (root, hidden) -> (granted, left out): rules and root_plan walk the same trees


def _split(root, hidden):
    """(granted, left out): the walk behind grant_except and masked."""
    key = (root, frozenset(hidden))
    if key not in _WALKS:
        real = os.path.realpath(root)
        _WALKS[key] = _walk(real, hidden, os.path.isdir(real)) if os.path.exists(real) else ([], [])
    return _WALKS[key]


def _walk(path, hidden, is_dir):
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
        more, less = _walk(entry.path, hidden, entry.is_dir(follow_symlinks=False))
        granted += more
        left += less
    return granted, left


def _is_hidden(path, hidden):
    return path in hidden or os.path.basename(path) in PACKAGE_DIRECTORIES


def _holds_hidden(directory, hidden, names):
    """Whether a hidden path or a package directory lies beneath `directory` (whose entries are `names`)."""
    prefix = directory.rstrip("/") + "/"
    if any(path.startswith(prefix) for path in hidden):
        return True
    # Python installations keep their package directories a level down (lib/python3.X/site-packages):
    # a directory holding a python3.X is searched, and that one is split only if it holds one.
    return any(name in PACKAGE_DIRECTORIES or _PYTHON_DIRECTORY.match(name) for name in names)


def root_plan(python_dirs, packages, hidden, libraries=()):
    """What a jail's own root holds (jail.build_root), as a dict:

    binds: the outermost allowed paths, bound read-only at their own places;
    masks: the directories inside them that `rules` leaves out (package directories, the grader),
        each covered by an empty read-only tmpfs, so that even without Landlock the jail cannot
        see what they hold;
    inner: the allowed paths that live inside a mask (numpy in site-packages), bound back;
        build_root applies masks and inner binds in the order of their paths, parents first;
    links: symbolic links to recreate (/lib -> usr/lib on a merged /usr); devices: /dev/null...
    """
    hidden = {os.path.realpath(path) for path in hidden}
    links, roots = {}, set()
    walked = walked_roots(python_dirs, libraries)
    for path in [*walked, *packages, *libraries, *SYSTEM_FILES]:
        if not os.path.exists(path):
            continue
        if os.path.islink(path):
            links[path] = os.readlink(path)
        roots.add(os.path.realpath(path))
    binds = sorted(path for path in roots if not _beneath_any(path, roots))
    masks = set()
    for root in walked:
        masks.update(masked(root, hidden))
    masks = {mask for mask in masks if _beneath_any(mask, binds)}
    masks, inner = nested(masks, {path for path in roots if _beneath_any(path, masks)})
    devices = [path for path in DEVICES if os.path.exists(path)]
    return {"binds": binds, "masks": masks, "inner": inner, "links": sorted(links.items()), "devices": devices}


def nested(masks, inner):
    """(masks, inner), sorted, each kept only where its nearest enclosing mask-or-inner is of the other
    kind: a mask inside a mask is covered already (and has no mount point there), an allowed path
    inside one bound back is bound with it."""
    masks, inner = set(masks), set(inner)
    both = masks | inner
    return (
        sorted(path for path in masks if _nearest(path, both) in inner | {None}),
        sorted(path for path in inner if _nearest(path, both) in masks),
    )


def _nearest(path, others):
    """The deepest of `others` strictly above `path`, or None."""
    above = [other for other in others if path.startswith(other.rstrip("/") + "/")]
    return max(above, key=len) if above else None


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
